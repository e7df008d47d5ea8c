/** Minimal deep-equality assertion for the Deno smoke test (no network access for std/assert). */
export function assertEquals(actual: unknown, expected: unknown, msg = ""): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`assertEquals failed${msg ? ` (${msg.slice(0, 500)})` : ""}:\n  actual:   ${a.slice(0, 500)}\n  expected: ${e.slice(0, 500)}`);
}
