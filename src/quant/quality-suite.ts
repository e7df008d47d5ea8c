/**
 * Measures quant plugins against f32 on the same model file: load once per plugin, run the same
 * teacher-forced token sequences, compare next-token distributions (quality.ts).
 */
import { basename } from "node:path";
import { loadModel, type LoadedModel } from "../engine/load-model.ts";
import { BUILTIN_PLUGINS } from "../plugin/builtin.ts";
import { PluginRegistry } from "../plugin/registry.ts";
import { compareLogits, mergeComparisons, teacherForcedLogits, type LogitsComparison } from "./quality.ts";

/** A token sequence and the rows whose next-token distributions are compared. */
export interface EvalSequence {
  ids: number[];
  rows: number[];
}

export interface QualityRow extends LogitsComparison {
  quant: string;
  weightBytes: number;
}

export async function loadWithQuant(
  path: string, quant: string, registry = PluginRegistry.withBuiltins(BUILTIN_PLUGINS), opts: { kvCacheDtype?: string } = {},
): Promise<LoadedModel> {
  return loadModel({ id: basename(path), path, sampling: {}, plugins: {} }, registry, { plugins: { backend: "cpu", attention: "paged", quant }, ...opts });
}

export async function sequenceLogits(m: LoadedModel, seqs: readonly EvalSequence[]): Promise<Float32Array[][]> {
  const out: Float32Array[][] = [];
  for (const s of seqs) out.push(await teacherForcedLogits(m.model, m.attention, s.ids, s.rows));
  return out;
}

/** Compares each plugin in `quants` against `reference` logits (from the f32 run of the same file). */
export async function measureQuality(
  path: string, quants: readonly string[], seqs: readonly EvalSequence[], reference: Float32Array[][],
  opts: { registry?: PluginRegistry; onRow?: (r: QualityRow) => void } = {},
): Promise<QualityRow[]> {
  const rows: QualityRow[] = [];
  for (const quant of quants) {
    const m = await loadWithQuant(path, quant, opts.registry);
    const got = await sequenceLogits(m, seqs);
    const cmp = mergeComparisons(got.map((g, i) => compareLogits(reference[i]!, g)));
    const row = { quant, weightBytes: m.model.weightBytes, ...cmp };
    m.model.backend.dispose();
    rows.push(row);
    opts.onRow?.(row);
  }
  return rows;
}

/** `count` random sequences of `length` ids in [firstId, vocab) from a seeded LCG; every row compared. */
export function randomSequences(count: number, length: number, vocab: number, seed: number, firstId = 3): EvalSequence[] {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
  return Array.from({ length: count }, () => {
    const ids = [1, ...Array.from({ length: length - 1 }, () => firstId + (next() % (vocab - firstId)))];
    return { ids, rows: ids.map((_, i) => i) };
  });
}
