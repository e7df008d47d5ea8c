import { TokenType, type Vocab } from "./vocab.ts";

/** A piece of input after special-token splitting: plain text, or one special token. */
export type Fragment = { text: string; id?: undefined } | { text?: undefined; id: number };

interface Special {
  readonly text: string;
  readonly id: number;
  /** Control/unknown tokens are matched only with parseSpecial; user-defined ones always. */
  readonly needsParseSpecial: boolean;
}

/**
 * Splits special tokens (token types control, unknown and user-defined) out of text before the
 * tokenizer proper sees it, like llama.cpp's tokenizer_st_partition: tokens are tried longest text
 * first (ties: lowest id), each one splitting every remaining text fragment at all of its
 * occurrences, left to right.
 */
export class SpecialTokenSplitter {
  private readonly specials: readonly Special[];

  constructor(vocab: Vocab) {
    const specials: Special[] = [];
    vocab.tokens.forEach((text, id) => {
      const t = vocab.types[id];
      if (text.length === 0) return;
      if (t === TokenType.Control || t === TokenType.Unknown || t === TokenType.UserDefined) {
        specials.push({ text, id, needsParseSpecial: t !== TokenType.UserDefined });
      }
    });
    specials.sort((a, b) => b.text.length - a.text.length || a.id - b.id);
    this.specials = specials;
    specials.forEach((sp, i) => {
      const list = this.byFirstChar.get(sp.text[0]!);
      if (list) list.push(i);
      else this.byFirstChar.set(sp.text[0]!, [i]);
    });
  }

  /** Indices into `specials` by their first UTF-16 unit: only those whose first unit occurs in a text can match. */
  private readonly byFirstChar = new Map<string, number[]>();

  /** The specials that could occur in `text`, in matching order (Gemma has 6k added tokens; a prompt meets few). */
  private candidates(text: string): Special[] {
    const seen = new Set<string>();
    const picked: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (seen.has(c)) continue;
      seen.add(c);
      const list = this.byFirstChar.get(c);
      if (list) for (const j of list) picked.push(j);
    }
    return picked.sort((a, b) => a - b).map((j) => this.specials[j]!);
  }

  split(text: string, parseSpecial: boolean): Fragment[] {
    if (text.length === 0) return [];
    let fragments: Fragment[] = [{ text }];
    for (const sp of this.candidates(text)) {
      if (sp.needsParseSpecial && !parseSpecial) continue;
      if (!fragments.some((f) => f.text !== undefined && f.text.includes(sp.text))) continue;
      const next: Fragment[] = [];
      for (const f of fragments) {
        if (f.text === undefined) {
          next.push(f);
          continue;
        }
        let from = 0;
        for (let at = f.text.indexOf(sp.text); at >= 0; at = f.text.indexOf(sp.text, from)) {
          if (at > from) next.push({ text: f.text.slice(from, at) });
          next.push({ id: sp.id });
          from = at + sp.text.length;
        }
        if (from < f.text.length) next.push({ text: f.text.slice(from) });
      }
      fragments = next;
    }
    return fragments;
  }
}
