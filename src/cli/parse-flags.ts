import { InvalidArgumentError } from "commander";
import { parseByteSize } from "../config/models-registry.ts";

/** commander argument parsers that reject bad values with what is accepted. */
export function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${v}"`);
    return n;
  };
}

export function int(name: string, min = Number.MIN_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ""}, got "${v}"`);
    }
    return n;
  };
}

export function bytes(name: string) {
  return (v: string): number => {
    try {
      return parseByteSize(v, name);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

export function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}
