import { describe, expect, it } from "vitest";
import { Prng } from "../../src/sampling/prng.ts";
import type { LLMEngine } from "../../src/engine/llm-engine.ts";
import { testEngine } from "../helpers/engine.ts";
import { findSchedulerViolations } from "../../src/core/scheduler/check-invariants.ts";

interface Job { id: string; prompt: number[]; maxTokens: number; arriveAt: number; abortAt: number | null }

const MAX_LEN = 128;
const BASE_PROMPTS = [
  [1, 403, 407, 261, 378], // "Once upon a time"
  [1, 365, 268, 307, 292, 323], // some story start
];

/** Greedy tokens of each job when it runs alone (cached by prompt + length). */
async function alone(engine: LLMEngine, job: Job, memo: Map<string, number[]>): Promise<number[]> {
  const key = `${job.prompt.join(",")}|${job.maxTokens}`;
  if (!memo.has(key)) {
    engine.addRequest(`alone-${memo.size}`, job.prompt, { temperature: 0, maxTokens: job.maxTokens, ignoreEos: true }, { outputKind: "final_only" });
    let ids: number[] = [];
    while (engine.hasUnfinishedRequests()) for (const o of await engine.step()) ids = o.outputs[0]!.tokenIds;
    memo.set(key, ids);
  }
  return memo.get(key)!;
}

function randomJobs(rng: Prng, n: number): Job[] {
  const r = (k: number) => Math.floor(rng.nextFloat() * k);
  return Array.from({ length: n }, (_, i) => {
    // Prompts share random prefixes: a base prompt, a shared random middle, then a random tail.
    const base = BASE_PROMPTS[r(BASE_PROMPTS.length)]!;
    const shared = Array.from({ length: r(3) * 16 }, (_, j) => 3 + ((j * 37 + base.length) % 500));
    const tail = Array.from({ length: 1 + r(30) }, () => 3 + r(509));
    return {
      id: `r${i}`, prompt: [...base, ...shared, ...tail], maxTokens: 1 + r(24), arriveAt: r(12),
      abortAt: rng.nextFloat() < 0.15 ? r(20) : null,
    };
  });
}

describe("batch invariance: every request's greedy tokens equal the same request run alone", () => {
  const totals = { preemptions: 0, prefixHits: 0, chunked: 0 };
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
  for (const seed of seeds) {
    it(`seed ${seed}`, async () => {
      const rng = new Prng(seed);
      const blockSize = [1, 2, 4, 8, 16, 32][Math.floor(rng.nextFloat() * 6)]!;
      const budget = [7, 16, 33, 64, 256][Math.floor(rng.nextFloat() * 5)]!;
      const blocksFor = Math.ceil(MAX_LEN / blockSize) + 1;
      const extraBlocks = Math.floor(rng.nextFloat() * blocksFor * 2); // small pools force preemption
      const caching = rng.nextFloat() < 0.7;
      const cfg = { seed, blockSize, maxNumBatchedTokens: budget, numBlocks: blocksFor + extraBlocks, caching };
      const engine = await testEngine({
        maxModelLen: MAX_LEN, blockSize, maxNumBatchedTokens: budget, maxNumSeqs: 1 + Math.floor(rng.nextFloat() * 8),
        enablePrefixCaching: caching, kvCacheMemory: (blocksFor + extraBlocks) * blockSize * 1280,
      });
      const reference = await testEngine({ maxModelLen: MAX_LEN, enablePrefixCaching: false });
      const jobs = randomJobs(rng, 10);
      const memo = new Map<string, number[]>();
      const got = new Map<string, number[]>(jobs.map((j) => [j.id, []]));
      const finished = new Set<string>();
      const aborted = new Set<string>();
      let step = 0;
      while (step < 2000) {
        for (const j of jobs) if (j.arriveAt === step) engine.addRequest(j.id, j.prompt, { temperature: 0, maxTokens: j.maxTokens, ignoreEos: true });
        for (const j of jobs) {
          if (j.abortAt === step && j.arriveAt <= step && !finished.has(j.id)) {
            engine.abortRequest([j.id]);
            aborted.add(j.id);
            finished.add(j.id);
          }
        }
        for (const o of await engine.step()) {
          got.get(o.requestId)!.push(...o.outputs[0]!.tokenIds);
          if (o.finished) finished.add(o.requestId);
        }
        const problems = findSchedulerViolations(engine.scheduler);
        if (problems.length) throw new Error(`seed ${seed} step ${step} (${JSON.stringify(cfg)}): ${problems.join("; ")}`);
        step++;
        if (finished.size === jobs.length) break;
      }
      expect(finished.size, `seed ${seed}: not all finished`).toBe(jobs.length);
      for (const j of jobs) {
        const want = await alone(reference, j, memo);
        const have = got.get(j.id)!;
        const msg = `seed ${seed} ${j.id} (${JSON.stringify(cfg)})`;
        if (aborted.has(j.id)) expect(want.slice(0, have.length), msg).toEqual(have);
        else expect(have, msg).toEqual(want);
      }
      expect(engine.kvCacheManager.usage, `seed ${seed}: blocks leaked`).toBe(0);
      const st = engine.stats();
      totals.preemptions += st.numPreemptions;
      totals.prefixHits += st.prefixCacheHits;
      if (budget < 40) totals.chunked++;
    });
  }
  it("the random mixes exercised preemption, prefix-cache hits and chunked prefill", () => {
    expect(totals.preemptions).toBeGreaterThan(0);
    expect(totals.prefixHits).toBeGreaterThan(0);
    expect(totals.chunked).toBeGreaterThan(0);
  });
});
