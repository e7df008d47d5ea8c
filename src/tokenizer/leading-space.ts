import type { LeadingSpaceRule } from "./types.ts";

/** Where a token sits, for the leading-space rules (see LeadingSpaceRule in types.ts). */
export interface TokenPosition {
  /** No token precedes this one (in the list being decoded, or before any prefix). */
  isFirst: boolean;
  /** The id directly before this one, or null. */
  prevId: number | null;
}

/** Whether one leading U+0020 should be dropped from this token's piece. */
export function stripsLeadingSpace(
  rule: LeadingSpaceRule,
  addSpacePrefix: boolean,
  bosId: number | null,
  at: TokenPosition,
): boolean {
  if (!addSpacePrefix) return false;
  switch (rule) {
    case "first":
      return at.isFirst;
    case "after-bos":
      return bosId !== null && at.prevId === bosId;
    case "keep":
      return false;
  }
}

/** The piece without its first byte when that byte is a space and the rule says strip. */
export function applyLeadingSpace(bytes: Uint8Array, strip: boolean): Uint8Array {
  return strip && bytes.length > 0 && bytes[0] === 0x20 ? bytes.subarray(1) : bytes;
}
