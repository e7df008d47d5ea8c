/**
 * Attention micro-benchmarks: plugin against plugin in one run (round-robin repetitions, so load
 * on the machine affects all alike), one JSON line per case with each plugin's best time per step
 * (plan + one layer's forward) and its time ratio to paged (< 1: faster than paged), the median
 * over rounds of the ratio within a round.
 *
 *   npx tsx bench/attention.ts [--quick] [--case decode,prefill,split-kv,cascade]
 */
import { cpuBackendPlugin } from "../plugins/backend/cpu/index.ts";
import { createFlexPlugin } from "../plugins/attention/flex/index.ts";
import { flashInferAttentionPlugin } from "../plugins/attention/flashinfer/index.ts";
import { pagedAttentionPlugin } from "../plugins/attention/paged/index.ts";
import type { AttentionPlugin, AttentionShape } from "../src/plugin/types.ts";
import { prepare, runStep, type Prepared, type Scenario } from "./attention-setup.ts";
import type { FlashInferPlan } from "../plugins/attention/flashinfer/plan.ts";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const only = args.includes("--case") ? args[args.indexOf("--case") + 1]!.split(",") : null;

/** A Llama-like attention layer: 8 query heads, 2 KV heads (GQA 4), head dim 64. */
const SHAPE: AttentionShape = { numLayers: 1, numHeads: 8, numKvHeads: 2, headDim: 64, smScale: 1 / 8, slidingWindow: null };

interface Variant { label: string; plugin: AttentionPlugin; options?: Record<string, unknown> }
const paged: Variant = { label: "paged", plugin: pagedAttentionPlugin };
const flashinfer: Variant = { label: "flashinfer", plugin: flashInferAttentionPlugin };
const flex: Variant = { label: "flex", plugin: createFlexPlugin() };

async function bench(
  name: string, extra: Record<string, unknown>, scenario: Scenario, variants: Variant[],
  detail?: (p: Prepared[]) => Record<string, unknown>, minMs = quick ? 300 : 3000,
): Promise<void> {
  if (only && !only.includes(name)) return;
  const backend = await cpuBackendPlugin.create({});
  const prepared = variants.map((v) => prepare(v.plugin, v.options ? { ...SHAPE, options: v.options } : SHAPE, backend, scenario));
  const times: number[][] = variants.map(() => []);
  const w0 = performance.now(); // warm-up until the JIT has settled: two runs each and 300 ms
  for (let i = 0; i < 2 || performance.now() - w0 < 300; i++) prepared.forEach((p) => runStep(p));
  const t0 = performance.now();
  while (times[0]!.length < 5 || (performance.now() - t0 < minMs && times[0]!.length < 50)) {
    prepared.forEach((p, i) => { const s = performance.now(); runStep(p); times[i]!.push(performance.now() - s); });
  }
  // Best time per variant; ratios are the median over rounds of the in-round ratio (robust to load drift).
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ms = Object.fromEntries(variants.map((v, i) => [v.label, +Math.min(...times[i]!).toFixed(3)]));
  const ratio = Object.fromEntries(variants.slice(1).map((v, i) => [v.label, +median(times[i + 1]!.map((t, r) => t / times[0]![r]!)).toFixed(3)]));
  for (const p of prepared) for (const [k, v] of p.cache.layers) { backend.free(k); backend.free(v); }
  console.log(JSON.stringify({
    bench: "attention", case: name, ...extra, shape: "8 heads / 2 KV heads x 64", block_size: scenario.blockSize, reps: times[0]!.length,
    best_ms: ms, [`time_ratio_to_${variants[0]!.label}`]: ratio, ...(detail ? detail(prepared) : {}), runtime: typeof Bun !== "undefined" ? "bun" : "node",
  }));
}

declare const Bun: unknown;
const decode = (ctx: number, batch: number): Scenario => ({ reqs: Array.from({ length: batch }, () => ({ ctxLen: ctx - 1, qLen: 1 })), sharedPrefix: 0, blockSize: 16 });

const grid: Array<[number, number]> = quick ? [[1024, 1], [8192, 1], [1024, 32]] : [[1024, 1], [1024, 8], [1024, 32], [4096, 8], [8192, 1], [8192, 8], [8192, 32]];
for (const [ctx, batch] of grid) await bench("decode", { ctx, batch }, decode(ctx, batch), [paged, flashinfer, flex]);
for (const [ctx, q] of quick ? [[0, 256]] : [[0, 512], [2048, 512]]) {
  await bench("prefill", { ctx, new_tokens: q }, { reqs: [{ ctxLen: ctx!, qLen: q! }], sharedPrefix: 0, blockSize: 16 }, [paged, flashinfer, flex]);
}
await bench("split-kv", { ctx: 8192, batch: 1 }, decode(8192, 1), [
  paged, { label: "flashinfer (1 lane, unsplit)", plugin: flashInferAttentionPlugin },
  { label: "flashinfer split-kv (8 lanes: 8 x 1024)", plugin: flashInferAttentionPlugin, options: { num_workers: 8 } },
  { label: "flashinfer split-kv (32 lanes: 32 x 256)", plugin: flashInferAttentionPlugin, options: { num_workers: 32 } },
]);
const cascadeScenario: Scenario = { reqs: Array.from({ length: 32 }, (_, i) => ({ ctxLen: 2048 + 16 + i, qLen: 1 })), sharedPrefix: 2048, blockSize: 16 };
await bench("cascade", { requests: 32, shared_prefix: 2048, own_tokens: "17..48" }, cascadeScenario, [
  paged, { label: "flashinfer no cascade", plugin: flashInferAttentionPlugin, options: { cascade: false } },
  { label: "flashinfer cascade", plugin: flashInferAttentionPlugin }, flex,
], (p) => {
  // KV tokens each KV head reads per step, from the plans: the shared prefix once per group with cascade.
  const read = (x: Prepared) => {
    const plan = x.impl.plan(x.batch) as FlashInferPlan;
    return plan.groups.reduce((s, g) => s + g.sharedLen, 0) + plan.partitions.reduce((s, q) => s + q.kvEnd - q.kvStart, 0);
  };
  return { kv_tokens_read_per_kv_head: { "flashinfer no cascade": read(p[1]!), "flashinfer cascade": read(p[2]!) } };
});
