import { readFileSync } from "node:fs";
import { createTokenizer } from "../../src/tokenizer/from-metadata.ts";
import type { Tokenizer } from "../../src/tokenizer/types.ts";
import { modelPath } from "./models-dir.ts";
import { readLlama2cTokenizer } from "./tokenizer-vocab.ts";

/** The Llama 2 SentencePiece vocabulary (32000 pieces) from llama2.c's tokenizer.bin. */
export function llama2Tokenizer(): Tokenizer {
  return createTokenizer(readLlama2cTokenizer(modelPath("llama2-tokenizer", "tokenizer.bin")), "tokenizer.bin");
}

/** stories260K's 512-piece vocabulary (tok512.bin). */
export function tok512Tokenizer(): Tokenizer {
  return createTokenizer(readLlama2cTokenizer(modelPath("stories260K", "tok512.bin")), "tok512.bin");
}

export interface VocabCase {
  text: string;
  ids: number[];
}

/**
 * llama.cpp's tokenizer test vectors (.inp/.out pair): every test string in .inp is followed by
 * "\n__ggml_vocab_test__\n" (so a string's own trailing newlines are the ones before that
 * separator line), and line k of .out holds string k's ids, space separated, without BOS.
 */
export function llamaCppVocabCases(name: string): VocabCase[] {
  const inp = readFileSync(modelPath("llama.cpp-vocab", `${name}.inp`), "utf8");
  const out = readFileSync(modelPath("llama.cpp-vocab", `${name}.out`), "utf8");
  const sep = "\n__ggml_vocab_test__\n";
  if (!inp.endsWith(sep)) throw new Error(`${name}.inp does not end with the separator`);
  const texts = inp.slice(0, -sep.length).split(sep);
  const lines = out.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines.length !== texts.length) throw new Error(`${texts.length} inputs but ${lines.length} outputs`);
  return texts.map((text, k) => ({
    text,
    ids: lines[k]!.split(" ").filter((s) => s.length > 0).map(Number),
  }));
}

/** A JSON file under golden/. */
export function readGolden<T>(name: string): T {
  return JSON.parse(readFileSync(modelPath("golden", name), "utf8")) as T;
}

/** Whether a string is well-formed UTF-16 (no lone surrogates), i.e. encodes to valid UTF-8. */
export function isWellFormed(s: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}
