/**
 * GPT-2's reversible bytes ↔ unicode mapping: byte-level BPE vocabularies spell every byte as one
 * printable character (printable Latin-1 bytes as themselves, the rest as U+0100 + n), so "Ġ"
 * (U+0120) is the space byte 0x20 and "Ċ" (U+010A) is "\n". All 256 characters are in the BMP.
 */
function buildTables(): { byteToChar: readonly string[]; charToByte: ReadonlyMap<string, number> } {
  const byteToChar: string[] = new Array(256);
  const charToByte = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    const cp = printable ? b : 256 + extra++;
    byteToChar[b] = String.fromCharCode(cp);
    charToByte.set(byteToChar[b]!, b);
  }
  return { byteToChar, charToByte };
}

const TABLES = buildTables();

/** The byte-level spelling of some UTF-8 bytes ("Hello world" → "HelloĠworld"). */
export function bytesToUnicode(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += TABLES.byteToChar[b];
  return s;
}

/** The byte a byte-level character stands for, or undefined for characters outside the table. */
export function unicodeCharToByte(ch: string): number | undefined {
  return TABLES.charToByte.get(ch);
}
