import { expect } from "vitest";
import { ModelFileError } from "../../src/util/errors.ts";

/** Error-path budget: a bad file must be rejected in well under a second. */
const FAST_MS = 500;

function check(e: unknown, ms: number, file: string, fragments: (string | RegExp)[]): ModelFileError {
  expect(e).toBeInstanceOf(ModelFileError);
  const err = e as ModelFileError;
  expect(err.file).toBe(file);
  expect(err.exitCode).toBe(1);
  expect(err.message.startsWith(`${file}: `)).toBe(true);
  for (const f of fragments) {
    if (typeof f === "string") expect(err.message).toContain(f);
    else expect(err.message).toMatch(f);
  }
  expect(ms).toBeLessThan(FAST_MS);
  return err;
}

/** Runs fn, asserting it throws a ModelFileError for `file` whose message holds every fragment, fast. */
export function expectFileError(fn: () => unknown, file: string, ...fragments: (string | RegExp)[]): ModelFileError {
  const t0 = performance.now();
  try {
    fn();
  } catch (e) {
    return check(e, performance.now() - t0, file, fragments);
  }
  throw new Error(`expected a ModelFileError for ${file}, nothing was thrown`);
}

/** Async form of expectFileError. */
export async function expectFileErrorAsync(
  fn: () => Promise<unknown>,
  file: string,
  ...fragments: (string | RegExp)[]
): Promise<ModelFileError> {
  const t0 = performance.now();
  try {
    await fn();
  } catch (e) {
    return check(e, performance.now() - t0, file, fragments);
  }
  throw new Error(`expected a ModelFileError for ${file}, nothing was thrown`);
}
