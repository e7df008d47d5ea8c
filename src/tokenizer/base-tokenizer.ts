import { LlmError } from "../util/errors.ts";
import { applyLeadingSpace, stripsLeadingSpace } from "./leading-space.ts";
import { SpecialTokenSplitter, type Fragment } from "./special-tokens.ts";
import type { DecodeOptions, EncodeOptions, Tokenizer } from "./types.ts";
import { TokenType, type Vocab } from "./vocab.ts";

const EMPTY = new Uint8Array(0);

/**
 * What both tokenizer kinds share: special-token splitting, BOS/EOS, token bytes and decoding.
 * Subclasses tokenize plain text and say how a normal/byte token's text becomes bytes.
 */
export abstract class BaseTokenizer implements Tokenizer {
  abstract readonly kind: "llama" | "gpt2";
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly addBos: boolean;
  readonly addSpacePrefix: boolean;
  protected readonly utf8 = new TextEncoder();
  private readonly splitter: SpecialTokenSplitter;
  /** Bytes of normal/byte/user-defined tokens, filled on first use. */
  private readonly pieceCache: (Uint8Array | undefined)[];

  protected constructor(protected readonly vocab: Vocab) {
    this.vocabSize = vocab.tokens.length;
    this.bosId = vocab.bosId;
    this.eosId = vocab.eosId;
    this.addBos = vocab.addBos;
    this.addSpacePrefix = vocab.addSpacePrefix;
    this.splitter = new SpecialTokenSplitter(vocab);
    this.pieceCache = new Array(this.vocabSize);
  }

  /** Appends the ids of already split fragments (text or special tokens) to `out`. */
  protected abstract encodeFragments(fragments: Fragment[], out: number[]): void;

  /** The bytes a normal or byte-type token stands for. */
  protected abstract normalPieceBytes(id: number): Uint8Array;

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (opts.addSpecial && this.addBos && this.bosId !== null) out.push(this.bosId);
    this.encodeFragments(this.splitter.split(text, opts.parseSpecial ?? false), out);
    if (opts.addSpecial && this.vocab.addEos && this.eosId !== null) out.push(this.eosId);
    return out;
  }

  tokenBytes(id: number, opts: { renderSpecial?: boolean } = {}): Uint8Array {
    return this.pieceBytes(id, opts.renderSpecial ?? false).slice();
  }

  decode(ids: number[], opts: DecodeOptions = {}): string {
    const rule = opts.leadingSpace ?? "first";
    const renderSpecial = opts.renderSpecial ?? false;
    const parts: Uint8Array[] = [];
    let total = 0;
    ids.forEach((id, i) => {
      const strip = stripsLeadingSpace(rule, this.addSpacePrefix, this.bosId, {
        isFirst: i === 0,
        prevId: i > 0 ? ids[i - 1]! : null,
      });
      const bytes = applyLeadingSpace(this.pieceBytes(id, renderSpecial), strip);
      parts.push(bytes);
      total += bytes.length;
    });
    const all = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(all);
  }

  idToPiece(id: number): string {
    this.checkId(id);
    return this.vocab.tokens[id]!;
  }

  isControl(id: number): boolean {
    this.checkId(id);
    return this.vocab.types[id] === TokenType.Control;
  }

  /** The bytes of a user-defined (added, non-special) token: its text as is, unless a subclass decodes it. */
  protected userDefinedPieceBytes(id: number): Uint8Array {
    return this.utf8.encode(this.vocab.tokens[id]!);
  }

  /** Like llama.cpp's token_to_piece: the cached bytes, not a copy (callers must not modify). */
  protected pieceBytes(id: number, renderSpecial: boolean): Uint8Array {
    this.checkId(id);
    const type = this.vocab.types[id];
    switch (type) {
      case TokenType.Control:
      case TokenType.Unknown:
        return renderSpecial ? this.cached(id, () => this.utf8.encode(this.vocab.tokens[id]!)) : EMPTY;
      case TokenType.UserDefined:
        return this.cached(id, () => this.userDefinedPieceBytes(id));
      case TokenType.Normal:
      case TokenType.Byte:
        return this.cached(id, () => this.normalPieceBytes(id));
      default: // unused (5) and undefined (0) tokens print nothing, as in llama.cpp
        return EMPTY;
    }
  }

  private cached(id: number, make: () => Uint8Array): Uint8Array {
    let bytes = this.pieceCache[id];
    if (bytes === undefined) {
      bytes = make();
      this.pieceCache[id] = bytes;
    }
    return bytes;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new LlmError(`token id ${id} is out of range (vocabulary of ${this.vocabSize} tokens)`);
    }
  }
}
