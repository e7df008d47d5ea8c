/**
 * llama.cpp as the baseline, through node-llama-cpp (prebuilt CPU binaries shipped in the npm
 * package; a devDependency for benchmarks only). Same GGUF, greedy, a given thread count.
 */
import { getLlama, type Llama } from "node-llama-cpp";

/** llama.cpp's CPU build, loaded once per caller (each getLlama adds process listeners: pass one to repeated runs). */
export function loadLlamaCpp(): Promise<Llama> {
  return getLlama({ gpu: false, build: "never", logLevel: "error" as never });
}

export interface LlamaCppRun {
  prefillTokPerS: number;
  decodeTokPerS: number;
  generated: number[];
}

/** Prefill `promptIds` (timed alone), then greedily decode `numTokens` (timed alone). */
export async function llamaCppGreedy(modelPath: string, promptIds: number[], numTokens: number, threads: number, contextSize = 512, llama?: Llama): Promise<LlamaCppRun> {
  llama ??= await loadLlamaCpp();
  const model = await llama.loadModel({ modelPath });
  const ctx = await model.createContext({ contextSize, threads, batchSize: Math.max(512, promptIds.length) });
  try {
    const seq = ctx.getSequence();
    const t0 = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(promptIds.slice(0, -1) as never);
    const t1 = performance.now();
    const generated: number[] = [];
    let t2 = 0;
    for await (const t of seq.evaluate([promptIds[promptIds.length - 1]!] as never, { temperature: 0 })) {
      if (generated.length === 0) t2 = performance.now();
      generated.push(t as number);
      if (generated.length >= numTokens) break;
    }
    const t3 = performance.now();
    return {
      prefillTokPerS: ((promptIds.length - 1) / (t1 - t0)) * 1000,
      decodeTokPerS: ((generated.length - 1) / (t3 - t2)) * 1000,
      generated,
    };
  } finally {
    await ctx.dispose();
    await model.dispose();
  }
}

export interface LlamaCppBatchedRun {
  outputTokPerS: number;
  wallMs: number;
}

/**
 * `prompts.length` sequences in one context (node-llama-cpp batches their evaluation), each
 * prompt prefilled and then `outputLen` tokens decoded greedily, all at once; aggregate output
 * tok/s over the whole run (prefill included, as in a serving benchmark).
 */
export async function llamaCppBatched(modelPath: string, prompts: number[][], outputLen: number, threads: number, contextSize = 4096, llama?: Llama): Promise<LlamaCppBatchedRun> {
  llama ??= await loadLlamaCpp();
  const model = await llama.loadModel({ modelPath });
  const ctx = await model.createContext({ contextSize, threads, sequences: prompts.length, batchSize: 512 });
  try {
    const t0 = performance.now();
    let produced = 0;
    await Promise.all(prompts.map(async (prompt) => {
      const seq = ctx.getSequence();
      let n = 0;
      for await (const _t of seq.evaluate(prompt as never, { temperature: 0 })) {
        if (++n >= outputLen) break;
      }
      produced += n;
    }));
    const wallMs = performance.now() - t0;
    return { outputTokPerS: (produced / wallMs) * 1000, wallMs };
  } finally {
    await ctx.dispose();
    await model.dispose();
  }
}
