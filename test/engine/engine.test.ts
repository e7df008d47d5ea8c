import { describe, expect, it } from "vitest";
import { AsyncLLM } from "../../src/engine/async-llm.ts";
import { LLM } from "../../src/engine/llm.ts";
import type { RequestOutput } from "../../src/engine/request-output.ts";
import { testEngine } from "../helpers/engine.ts";
import { readGolden } from "../helpers/golden.ts";

async function drain(engine: Awaited<ReturnType<typeof testEngine>>): Promise<RequestOutput[]> {
  const all: RequestOutput[] = [];
  while (engine.hasUnfinishedRequests()) all.push(...(await engine.step()));
  return all;
}

describe("LLMEngine", () => {
  it("prefix caching: a request sharing a long prefix computes only its suffix, output unchanged", async () => {
    const engine = await testEngine({ blockSize: 16 });
    const prefix = readGolden("stories260K_long_200").prompt_ids.concat(readGolden("stories260K_long_200").generated_ids.slice(0, 150));
    const a = [...prefix, 300, 301];
    const b = [...prefix, 302, 303, 304];
    engine.addRequest("a", a, { temperature: 0, maxTokens: 8, ignoreEos: true }, { outputKind: "final_only" });
    const outA = (await drain(engine))[0]!;
    expect(outA.metrics.numCachedTokens).toBe(0);
    engine.addRequest("b", b, { temperature: 0, maxTokens: 8, ignoreEos: true }, { outputKind: "final_only" });
    const outB = (await drain(engine))[0]!;
    const fullBlocks = Math.floor(prefix.length / 16) * 16;
    expect(outB.metrics.numCachedTokens).toBe(fullBlocks);
    expect(engine.stats().prefixCacheHits).toBe(fullBlocks);
    // Same output as without the cache.
    const cold = await testEngine({ blockSize: 16, enablePrefixCaching: false });
    cold.addRequest("b", b, { temperature: 0, maxTokens: 8, ignoreEos: true }, { outputKind: "final_only" });
    expect((await drain(cold))[0]!.outputs[0]!.tokenIds).toEqual(outB.outputs[0]!.tokenIds);
    // Scheduled tokens of b's first step: only the suffix.
    engine.addRequest("c", b, { temperature: 0, maxTokens: 1, ignoreEos: true });
    const sched = engine.scheduler.schedule();
    expect(sched.scheduledRequests[0]!.numScheduledTokens).toBe(b.length - fullBlocks);
  });

  it("n = 2 samples share the prompt's blocks and differ by seed", async () => {
    const engine = await testEngine({ blockSize: 4 });
    engine.addRequest("n2", "Once upon a time, there was a little girl", { temperature: 1, seed: 3, n: 2, maxTokens: 16 }, { outputKind: "final_only" });
    const outs = await drain(engine);
    const final = outs.find((o) => o.finished)!;
    expect(final.outputs.map((o) => o.index)).toEqual([0, 1]);
    // The second sample found the prompt's full blocks in the prefix cache.
    expect(engine.stats().prefixCacheHits).toBe(Math.floor((final.promptTokenIds.length - 1) / 4) * 4);
    expect(final.outputs[0]!.tokenIds).not.toEqual(final.outputs[1]!.tokenIds);
    expect(engine.kvCacheManager.usage).toBe(0);
  });

  it("stop strings end the request and are not in the text; finish reasons stop/length", async () => {
    const engine = await testEngine();
    const g = readGolden("stories260K_once_upon_a_time");
    engine.addRequest("s", g.prompt, { temperature: 0, maxTokens: 64, stop: ["Lily"] }, { outputKind: "final_only" });
    engine.addRequest("l", g.prompt, { temperature: 0, maxTokens: 5 }, { outputKind: "final_only" });
    const outs = await drain(engine);
    const s = outs.find((o) => o.requestId === "s")!.outputs[0]!;
    const expected = g.run_c_stdout.slice(g.prompt.length);
    expect(s.text).toBe(expected.slice(0, expected.indexOf("Lily")));
    expect(s.finishReason).toBe("stop");
    expect(s.stopReason).toBe("Lily");
    expect(outs.find((o) => o.requestId === "l")!.outputs[0]!.finishReason).toBe("length");
    expect(engine.kvCacheManager.usage).toBe(0);
  });

  it("delta, cumulative and final_only outputs", async () => {
    const engine = await testEngine();
    const g = readGolden("stories260K_the_sun");
    engine.addRequest("d", g.prompt, { temperature: 0, maxTokens: 20 }, { outputKind: "delta" });
    engine.addRequest("c", g.prompt, { temperature: 0, maxTokens: 20 }, { outputKind: "cumulative" });
    engine.addRequest("f", g.prompt, { temperature: 0, maxTokens: 20 }, { outputKind: "final_only" });
    const outs = await drain(engine);
    const by = (id: string) => outs.filter((o) => o.requestId === id);
    const deltaText = by("d").map((o) => o.outputs[0]!.text).join("");
    const cum = by("c");
    expect(by("f").length).toBe(1);
    expect(by("f")[0]!.outputs[0]!.text).toBe(deltaText);
    expect(cum[cum.length - 1]!.outputs[0]!.text).toBe(deltaText);
    expect(cum.length).toBeGreaterThan(5);
    for (let i = 1; i < cum.length; i++) expect(cum[i]!.outputs[0]!.text.startsWith(cum[i - 1]!.outputs[0]!.text)).toBe(true);
    expect(by("d").map((o) => o.outputs[0]!.tokenIds).flat()).toEqual(g.generated_ids.slice(0, 20));
  });

  it("rejects a prompt longer than the context with the numbers", async () => {
    const engine = await testEngine({ maxModelLen: 64 });
    expect(() => engine.addRequest("x", Array.from({ length: 80 }, () => 5))).toThrow(/prompt has 80 tokens.*max_model_len 64/);
    expect(() => engine.addRequest("y", [1, 99999])).toThrow(/outside the vocabulary/);
  });

  it("a KV budget that cannot hold one full-context request is refused clearly", async () => {
    await expect(testEngine({ kvCacheMemory: 10_000 })).rejects.toThrow(/cannot hold one request of max_model_len=512/);
  });
});

describe("AsyncLLM and LLM", () => {
  it("streams, aborts at any moment (blocks freed at once) and keeps the event loop responsive", async () => {
    const engine = await testEngine();
    const llm = new AsyncLLM(engine);
    const long = llm.addRequest("Once upon a time", { temperature: 0, maxTokens: 400, ignoreEos: true });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let got = 0;
    let last: RequestOutput | null = null;
    for await (const o of long) {
      got += o.outputs[0]?.tokenIds.length ?? 0;
      last = o;
      if (got >= 20) {
        llm.abort(long.requestId);
        expect(engine.kvCacheManager.usage).toBe(0);
      }
    }
    clearInterval(timer);
    expect(got).toBeGreaterThanOrEqual(20);
    expect(got).toBeLessThan(400);
    expect(last!.finished).toBe(true);
    expect(last!.outputs[0]!.finishReason).toBe("abort");
    expect(ticks).toBeGreaterThan(0);
    await llm.shutdown();
  });

  it("LLM.generate runs a batch and returns outputs in prompt order equal to the goldens", async () => {
    const llm = new LLM(await testEngine());
    const names = ["stories260K_the_cat", "stories260K_lily_and_tom", "stories260K_she_was_happy"];
    const gs = names.map(readGolden);
    const outs = await llm.generate(gs.map((g) => g.prompt), { temperature: 0, maxTokens: 64, stopTokenIds: [1] });
    outs.forEach((o, i) => expect(o.outputs[0]!.tokenIds).toEqual(gs[i]!.generated_ids));
  });
});
