/**
 * Rewrites a tokenizer.json `Split` pattern (written for Oniguruma, which the Rust tokenizers crate
 * uses) as a JavaScript RegExp source for flags "gu":
 * - `(?i:...)` groups (JS lacks inline flags before ES2025) get each ASCII letter spelled as a
 *   class of both cases: `(?i:'s|'re)` → `(?:'[sS]|'[rR][eE])`, as llama.cpp does.
 * - `\s` / `\S` become the Unicode White_Space set that Oniguruma uses (JS's `\s` also matches
 *   U+FEFF and misses U+0085).
 * Constructs with no faithful rewrite (lookbehind-free Oniguruma-only syntax such as `\G`, `\h`,
 * possessive `++`, atomic `(?>`, `\S` inside a class) are refused with a clear message.
 */
export const WHITE_SPACE = "\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

const UNSUPPORTED: readonly [RegExp, string][] = [
  [/\\G/, "\\G"],
  [/\\[hH]/, "\\h / \\H"],
  [/\(\?>/, "atomic groups (?>...)"],
  [/(?<![\\(])[+*?]\+|\{\d+(?:,\d*)?\}\+/, "possessive quantifiers"],
  [/\[\[:/, "POSIX bracket classes"],
  [/&&/, "class intersections (&&)"],
];

export function onigurumaToJs(pattern: string): string {
  for (const [re, what] of UNSUPPORTED) {
    if (re.test(pattern)) throw new Error(`the pattern uses ${what}, which this tokenizer cannot translate to JavaScript`);
  }
  let out = "";
  let inClass = false;
  let caseless = 0; // depth of (?i: groups we are inside
  const groupStack: boolean[] = []; // per open group: whether it is a (?i: group
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n === undefined) throw new Error("the pattern ends with a lone backslash");
      if (n === "s") out += inClass ? WHITE_SPACE : `[${WHITE_SPACE}]`;
      else if (n === "S") {
        if (inClass) throw new Error("the pattern uses \\S inside a character class, which this tokenizer cannot translate");
        out += `[^${WHITE_SPACE}]`;
      } else if (n === "p" || n === "P" || n === "u" || n === "x") {
        // Copy \p{..} / \u{..} / \x{..} whole so their letters are not case-folded.
        const m = /^\\[pPux](\{[^}]*\}|[0-9A-Fa-f]{2,4})/.exec(pattern.slice(i));
        const tok = m ? m[0] : `\\${n}`;
        out += tok;
        i += tok.length - 1;
        continue;
      } else out += `\\${n}`;
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      if (pattern[i + 1] === "^") {
        out += "^";
        i++;
      }
      if (pattern[i + 1] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (c === "(") {
      if (pattern.startsWith("(?i:", i)) {
        groupStack.push(true);
        caseless++;
        out += "(?:";
        i += 3;
        continue;
      }
      if (pattern.startsWith("(?", i) && /^\(\?[a-z-]+[:)]/.test(pattern.slice(i)) && !pattern.startsWith("(?:", i)) {
        throw new Error("the pattern uses inline flags other than (?i:...), which this tokenizer cannot translate");
      }
      groupStack.push(false);
      out += c;
      continue;
    }
    if (c === ")") {
      if (groupStack.pop()) caseless--;
      out += c;
      continue;
    }
    if (caseless > 0 && /[a-zA-Z]/.test(c)) {
      out += `[${c.toLowerCase()}${c.toUpperCase()}]`;
      continue;
    }
    out += c;
  }
  return out;
}
