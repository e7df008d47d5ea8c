import { describe, expect, it } from "vitest";
import { computeLogprobs } from "../../src/sampling/logprobs.ts";
import { testEngine } from "../helpers/engine.ts";
import { readGolden } from "../helpers/golden.ts";

/** Plain float64 log-softmax, for reference. */
function logSoftmax(v: readonly number[]): number[] {
  const max = Math.max(...v);
  const lse = max + Math.log(v.reduce((s, x) => s + Math.exp(x - max), 0));
  return v.map((x) => x - lse);
}

describe("logprobs (engine and sampler additions the server uses)", () => {
  it("computeLogprobs: log-softmax of the raw logits, rank, top-k most likely first (ties: lower id)", () => {
    const raw = [0.5, 2, -1, 2, 0];
    const ref = logSoftmax(raw);
    const lp = computeLogprobs(Float32Array.from(raw), 4, 3);
    expect(lp.tokenId).toBe(4);
    expect(lp.logprob).toBeCloseTo(ref[4]!, 12);
    expect(lp.rank).toBe(4);
    expect(lp.top.map((t) => t.tokenId)).toEqual([1, 3, 0]);
    lp.top.forEach((t) => expect(t.logprob).toBeCloseTo(ref[t.tokenId]!, 12));
    expect(computeLogprobs(Float32Array.from(raw), 1, 0).top).toEqual([]);
  });

  it("greedy logprobs equal the log-softmax of run.c's logits (the golden's), top 5 included", async () => {
    const g = readGolden("stories260K_once_upon_a_time");
    const engine = await testEngine();
    engine.addRequest("lp", g.prompt, { temperature: 0, maxTokens: g.logits!.length, logprobs: 5 }, { outputKind: "final_only" });
    let out;
    while (engine.hasUnfinishedRequests()) for (const o of await engine.step()) out = o;
    const lps = out!.outputs[0]!.logprobs!;
    expect(lps.length).toBe(g.logits!.length);
    g.logits!.forEach((step, i) => {
      const ref = logSoftmax(step.values);
      const lp = lps[i]!;
      expect(lp.tokenId).toBe(step.next_id);
      expect(lp.rank).toBe(1);
      expect(lp.logprob).toBeCloseTo(ref[step.next_id]!, 4);
      const refTop = ref.map((x, id) => [id, x] as const).sort((a, b) => b[1] - a[1]).slice(0, 5);
      expect(lp.top.map((t) => t.tokenId)).toEqual(refTop.map(([id]) => id));
      lp.top.forEach((t, k) => expect(t.logprob).toBeCloseTo(refTop[k]![1], 4));
    });
  });

  it("logit_bias shifts sampling (greedy follows a +100 bias) but not the reported raw logprobs; no logprobs unless asked", async () => {
    const engine = await testEngine();
    engine.addRequest("b", "Once upon a time", { temperature: 0, maxTokens: 3, logitBias: { 77: 100 }, logprobs: 0 }, { outputKind: "final_only" });
    engine.addRequest("plain", "Once upon a time", { temperature: 0, maxTokens: 3 }, { outputKind: "final_only" });
    const outs = [];
    while (engine.hasUnfinishedRequests()) outs.push(...(await engine.step()));
    const b = outs.find((o) => o.requestId === "b")!.outputs[0]!;
    expect(b.tokenIds).toEqual([77, 77, 77]);
    expect(b.logprobs!.every((p) => p.rank > 1 && p.top.length === 0)).toBe(true);
    expect(outs.find((o) => o.requestId === "plain")!.outputs[0]!.logprobs).toBeUndefined();
    expect(() => engine.addRequest("bad", "x", { logitBias: { 600: 1 } })).toThrow(/logit_bias token id 600/);
  });
});
