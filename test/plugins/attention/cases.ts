/**
 * Random attention steps for the conformance suite: a shape, requests with cached context and new
 * tokens (decodes, prefills, chunked prefills, shared prefixes on shared blocks), run through a
 * plugin exactly as the runner does (a setup step writes the context, then the step under test),
 * and the same step computed by the dense reference.
 */
import { Prng } from "../../../src/sampling/prng.ts";
import type { AttentionBatch, AttentionPlugin, AttentionShape } from "../../../src/plugin/types.ts";
import { cpuBackendPlugin } from "../../../plugins/backend/cpu/index.ts";
import type { DenseRequest } from "./dense-reference.ts";

export interface ReqSpec {
  ctxLen: number;
  qLen: number;
  /** Requests with the same group share their first `sharedPages` blocks. */
  group?: number;
}

export interface CaseSpec {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  blockSize: number;
  reqs: ReqSpec[];
  sharedPages?: number;
  slidingWindow?: number | null;
  logitsSoftCap?: number | null;
}

export interface AttnCase {
  spec: CaseSpec;
  shape: AttentionShape;
  numBlocks: number;
  setup: AttentionBatch;
  step: AttentionBatch;
  /** Setup and step inputs, [numTokens, heads*headDim]. */
  setupQkv: [Float32Array, Float32Array, Float32Array];
  stepQkv: [Float32Array, Float32Array, Float32Array];
  /** Logical per-request view for the dense reference. */
  dense: DenseRequest[];
}

const LAYER = 1; // write and read the second of two layers: layers must not alias

export function shapeOf(s: CaseSpec, options?: Record<string, unknown>): AttentionShape {
  const shape: AttentionShape = {
    numLayers: 2, numHeads: s.numHeads, numKvHeads: s.numKvHeads, headDim: s.headDim,
    smScale: 1 / Math.sqrt(s.headDim), slidingWindow: s.slidingWindow ?? null, logitsSoftCap: s.logitsSoftCap ?? null,
  };
  if (options) shape.options = options;
  return shape;
}

function randArray(rng: Prng, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.nextFloat() * 2 - 1) * scale;
  return a;
}

function batchOf(rows: Array<{ positions: number[]; seqLen: number }>, tables: number[][], bs: number): AttentionBatch {
  const numReqs = rows.length;
  const maxB = Math.max(1, ...tables.map((t) => t.length));
  const positions: number[] = [], slots: number[] = [];
  const queryStartLoc = new Int32Array(numReqs + 1);
  rows.forEach((r, i) => {
    queryStartLoc[i] = positions.length;
    for (const p of r.positions) { positions.push(p); slots.push(tables[i]![Math.floor(p / bs)]! * bs + (p % bs)); }
  });
  queryStartLoc[numReqs] = positions.length;
  const blockTables = new Int32Array(numReqs * maxB);
  tables.forEach((t, i) => blockTables.set(t, i * maxB));
  return {
    numTokens: positions.length, numReqs, queryStartLoc, seqLens: Int32Array.from(rows.map((r) => r.seqLen)),
    positions: Int32Array.from(positions), slotMapping: Int32Array.from(slots), blockTables, maxBlocksPerReq: maxB, blockSize: bs,
  };
}

/** Build the case: block tables (shared groups share leading blocks; ids shuffled, never 0), inputs, dense view. */
export function buildCase(spec: CaseSpec, seed: number): AttnCase {
  const rng = new Prng(seed);
  const { blockSize: bs, numHeads, numKvHeads, headDim } = spec;
  const qDim = numHeads * headDim, kvDim = numKvHeads * headDim;
  const shared = spec.sharedPages ?? 0;
  const needed = spec.reqs.map((r) => Math.ceil((r.ctxLen + r.qLen) / bs));
  const total = needed.reduce((a, b) => a + b, 0) + 4;
  const ids = Array.from({ length: total }, (_, i) => i + 1);
  for (let i = ids.length - 1; i > 0; i--) { const j = Math.floor(rng.nextFloat() * (i + 1)); [ids[i], ids[j]] = [ids[j]!, ids[i]!]; }
  let next = 0;
  const groupBlocks = new Map<number, number[]>();
  const leader = new Map<number, number>();
  const tables = spec.reqs.map((r, i) => {
    const t: number[] = [];
    if (r.group !== undefined) {
      if (!groupBlocks.has(r.group)) { groupBlocks.set(r.group, Array.from({ length: shared }, () => ids[next++]!)); leader.set(r.group, i); }
      t.push(...groupBlocks.get(r.group)!);
    }
    while (t.length < needed[i]!) t.push(ids[next++]!);
    return t;
  });
  // Setup step: each request writes its context (a group's followers skip the shared pages).
  const setupRows = spec.reqs.map((r, i) => {
    const from = r.group !== undefined && leader.get(r.group) !== i ? Math.min(r.ctxLen, shared * bs) : 0;
    return { positions: range(from, r.ctxLen), seqLen: r.ctxLen };
  });
  const inSetup = spec.reqs.map((_, i) => i).filter((i) => setupRows[i]!.positions.length > 0);
  const setup = batchOf(inSetup.map((i) => setupRows[i]!), inSetup.map((i) => tables[i]!), bs);
  const stepRows = spec.reqs.map((r) => ({ positions: range(r.ctxLen, r.ctxLen + r.qLen), seqLen: r.ctxLen + r.qLen }));
  const step = batchOf(stepRows, tables, bs);
  const setupQkv: [Float32Array, Float32Array, Float32Array] = [randArray(rng, setup.numTokens * qDim, 1), randArray(rng, setup.numTokens * kvDim, 1), randArray(rng, setup.numTokens * kvDim, 1)];
  const stepQkv: [Float32Array, Float32Array, Float32Array] = [randArray(rng, step.numTokens * qDim, 1.5), randArray(rng, step.numTokens * kvDim, 1), randArray(rng, step.numTokens * kvDim, 1)];
  // Logical K/V per request: position -> the row that wrote it.
  const dense: DenseRequest[] = spec.reqs.map((r, i) => {
    const seqLen = r.ctxLen + r.qLen;
    const k = new Float64Array(seqLen * kvDim), v = new Float64Array(seqLen * kvDim);
    for (let p = 0; p < seqLen; p++) {
      let src: Float32Array[], row: number;
      if (p >= r.ctxLen) { src = [stepQkv[1], stepQkv[2]]; row = step.queryStartLoc[i]! + p - r.ctxLen; }
      else {
        const owner = r.group !== undefined && p < shared * bs ? leader.get(r.group)! : i;
        src = [setupQkv[1], setupQkv[2]];
        row = setup.queryStartLoc[inSetup.indexOf(owner)]! + p - setupRows[owner]!.positions[0]!;
      }
      k.set(src[0]!.subarray(row * kvDim, (row + 1) * kvDim), p * kvDim);
      v.set(src[1]!.subarray(row * kvDim, (row + 1) * kvDim), p * kvDim);
    }
    const q0 = step.queryStartLoc[i]!;
    return { q: Float64Array.from(stepQkv[0].subarray(q0 * qDim, (q0 + r.qLen) * qDim)), qPos: range(r.ctxLen, seqLen), k, v, seqLen };
  });
  return { spec, shape: shapeOf(spec), numBlocks: total + 1, setup, step, setupQkv, stepQkv, dense };
}

function range(a: number, b: number): number[] {
  return Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);
}

/** Run setup then step through the plugin (as the runner does: plan once per step, forward per layer); returns the step's output. */
export async function runCase(plugin: AttentionPlugin, c: AttnCase, shape: AttentionShape = c.shape): Promise<Float32Array> {
  const backend = await cpuBackendPlugin.create({});
  const impl = plugin.create(shape, backend);
  const cache = impl.allocateKvCache(c.numBlocks, c.spec.blockSize);
  const qDim = shape.numHeads * shape.headDim;
  let out: Float32Array = new Float32Array(0);
  for (const [batch, [q, k, v]] of [[c.setup, c.setupQkv], [c.step, c.stepQkv]] as const) {
    if (batch.numTokens === 0) continue;
    const kvDim = shape.numKvHeads * shape.headDim;
    const qt = backend.upload(q, [batch.numTokens, qDim]), kt = backend.upload(k, [batch.numTokens, kvDim]), vt = backend.upload(v, [batch.numTokens, kvDim]);
    const ot = backend.empty([batch.numTokens, qDim]);
    const meta = impl.plan(batch);
    impl.forward(LAYER, qt, kt, vt, cache, meta, ot);
    out = (await backend.read(ot)) as Float32Array;
  }
  return out;
}

/** Largest |got - ref| over the step, in units of the largest |V| (outputs are convex mixes of V rows). */
export function maxError(c: AttnCase, got: Float32Array, ref: Float64Array[]): number {
  const qDim = c.spec.numHeads * c.spec.headDim;
  let vmax = 0;
  for (const r of c.dense) for (const x of r.v) vmax = Math.max(vmax, Math.abs(x));
  let err = 0;
  ref.forEach((o, i) => {
    const base = c.step.queryStartLoc[i]! * qDim;
    for (let j = 0; j < o.length; j++) err = Math.max(err, Math.abs(got[base + j]! - o[j]!));
  });
  return err / Math.max(vmax, 1e-30);
}
