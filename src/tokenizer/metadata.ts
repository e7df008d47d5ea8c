import type { MetadataValue } from "../loader/types.ts";
import { ModelFileError } from "../util/errors.ts";

/** Typed reads of tokenizer.ggml.* keys; every failure is a ModelFileError naming the key. */
export class MetadataReader {
  constructor(
    private readonly metadata: ReadonlyMap<string, MetadataValue>,
    readonly file: string,
  ) {}

  has(key: string): boolean {
    return this.metadata.has(key);
  }

  fail(problem: string): ModelFileError {
    return new ModelFileError(this.file, problem);
  }

  private get(key: string, required: boolean): MetadataValue | undefined {
    const v = this.metadata.get(key);
    if (v === undefined && required) throw this.fail(`missing tokenizer metadata key '${key}'`);
    return v;
  }

  string(key: string, required: true): string;
  string(key: string, required?: false): string | undefined;
  string(key: string, required = false): string | undefined {
    const v = this.get(key, required);
    if (v === undefined) return undefined;
    if (typeof v !== "string") throw this.fail(`tokenizer metadata key '${key}' should be a string`);
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = this.get(key, false);
    if (v === undefined) return undefined;
    if (typeof v === "boolean") return v;
    if (typeof v === "number" || typeof v === "bigint") return Number(v) !== 0;
    throw this.fail(`tokenizer metadata key '${key}' should be a boolean`);
  }

  /** A token id; ids outside [0, vocabSize) are ignored (undefined), as llama.cpp does. */
  tokenId(key: string, vocabSize: number): number | undefined {
    const v = this.get(key, false);
    if (v === undefined) return undefined;
    if (typeof v !== "number" && typeof v !== "bigint") {
      throw this.fail(`tokenizer metadata key '${key}' should be an integer`);
    }
    const id = Number(v);
    return Number.isInteger(id) && id >= 0 && id < vocabSize ? id : undefined;
  }

  strings(key: string, required: true): string[];
  strings(key: string, required?: false): string[] | undefined;
  strings(key: string, required = false): string[] | undefined {
    const v = this.get(key, required);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) {
      throw this.fail(`tokenizer metadata key '${key}' should be an array of strings`);
    }
    return v as string[];
  }

  /** A numeric array of exactly `length` entries (one per token). */
  numbers(key: string, length: number): number[] | undefined {
    const v = this.get(key, false);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === "number" || typeof x === "bigint")) {
      throw this.fail(`tokenizer metadata key '${key}' should be an array of numbers`);
    }
    if (v.length !== length) {
      throw this.fail(`tokenizer metadata key '${key}' has ${v.length} entries for ${length} tokens`);
    }
    return v.map((x) => Number(x));
  }
}
