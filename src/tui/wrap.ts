/**
 * Word-wrap text to `width` columns (one column per code point, which is right for the scripts
 * these models write; newlines are kept; a word longer than a line is cut). Greedy and stable
 * under appending: text added at the end only changes the last line, so every line before it is
 * final and can be printed while a reply streams.
 */
export function wrapLines(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line: string[] = [];
    for (const word of para.split(/(?<= )/)) {
      const chars = [...word];
      const core = [...word.trimEnd()].length;
      if (line.length > 0 && line.length + core > w) {
        out.push(line.join("").trimEnd());
        line = [];
      }
      let rest = chars;
      while (line.length === 0 && [...rest.join("").trimEnd()].length > w) {
        out.push(rest.slice(0, w).join(""));
        rest = rest.slice(w);
      }
      line.push(...rest);
    }
    out.push(line.join("").trimEnd());
  }
  return out;
}
