import { describe, expect, it } from "vitest";
import { makeSamplingParams } from "../../src/sampling/params.ts";
import { Prng } from "../../src/sampling/prng.ts";
import { applyPenalties, argmax, sampleToken, type SamplingContext } from "../../src/sampling/sampler.ts";
import { UsageError } from "../../src/util/errors.ts";

function ctx(p: Parameters<typeof makeSamplingParams>[0], seed = 1, prompt: number[] = [], output: number[] = []): SamplingContext {
  return { params: makeSamplingParams(p), promptTokenIds: prompt, outputTokenIds: output, rng: new Prng(seed) };
}

function histogram(logits: number[], p: Parameters<typeof makeSamplingParams>[0], draws = 4000): number[] {
  const c = ctx(p, 123);
  const h = new Array(logits.length).fill(0);
  const l = Float32Array.from(logits);
  for (let i = 0; i < draws; i++) h[sampleToken(l, c)]++;
  return h;
}

describe("sampler", () => {
  it("greedy takes the argmax, ties to the lowest id", () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(sampleToken(Float32Array.from([0, 5, 5, 1]), ctx({ temperature: 0 }))).toBe(1);
  });

  it("top-k keeps only the k most likely", () => {
    const h = histogram([1, 2, 3, 4, 5], { temperature: 1, topK: 2 });
    expect(h.slice(0, 3)).toEqual([0, 0, 0]);
    expect(h[3]! + h[4]!).toBe(4000);
  });

  it("top-p keeps the smallest set whose mass reaches p", () => {
    // probs ~ [0.032, 0.087, 0.237, 0.644]: p=0.8 keeps the two largest
    const h = histogram([1, 2, 3, 4], { temperature: 1, topP: 0.8 });
    expect(h[0]! + h[1]!).toBe(0);
    expect(h[2]! > 0 && h[3]! > 0).toBe(true);
  });

  it("min-p drops tokens under min_p times the top probability", () => {
    // relative probs e^-3, e^-2, e^-1, 1: min_p 0.2 keeps ids 2 (0.37) and 3
    const h = histogram([1, 2, 3, 4], { temperature: 1, minP: 0.2 });
    expect(h[0]! + h[1]!).toBe(0);
  });

  it("temperature sharpens and flattens", () => {
    const cold = histogram([1, 2], { temperature: 0.25 });
    const hot = histogram([1, 2], { temperature: 4 });
    expect(cold[1]! / 4000).toBeGreaterThan(0.95);
    expect(hot[1]! / 4000).toBeLessThan(0.65);
    // empirical frequency near softmax(l / T) = 1/(1+e^-1) = 0.731 at T=1
    const t1 = histogram([1, 2], { temperature: 1 });
    expect(Math.abs(t1[1]! / 4000 - 0.731)).toBeLessThan(0.03);
  });

  it("the same seed gives the same draws; another seed differs", () => {
    const l = Float32Array.from(Array.from({ length: 50 }, (_, i) => Math.sin(i)));
    const draw = (seed: number) => { const c = ctx({ temperature: 1 }, seed); return Array.from({ length: 30 }, () => sampleToken(l, c)); };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it("penalties follow vLLM: repetition over prompt+output, frequency and presence over output", () => {
    const l = Float64Array.from([2, -2, 2, 1]);
    applyPenalties(l, ctx({ repetitionPenalty: 2, frequencyPenalty: 0.5, presencePenalty: 0.25 }, 1, [0], [1, 2, 2]));
    expect(Array.from(l)).toEqual([1, -4 - 0.5 - 0.25, 1 - 1 - 0.25, 1]);
  });

  it("rejects out-of-range parameters with what is accepted", () => {
    expect(() => makeSamplingParams({ temperature: -1 })).toThrow(UsageError);
    expect(() => makeSamplingParams({ topP: 0 })).toThrow(/top_p.*\(0, 1\]/);
    expect(() => makeSamplingParams({ maxTokens: 0 })).toThrow(/max_tokens/);
    expect(() => makeSamplingParams({ n: 0 })).toThrow(/n /);
    expect(() => makeSamplingParams({ stop: [""] })).toThrow(/stop/);
  });
});
