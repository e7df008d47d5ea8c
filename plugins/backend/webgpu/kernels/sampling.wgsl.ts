import type { Kernel } from "../command-stream.ts";
import { WG_INDEX } from "./common.wgsl.ts";

/** Threads per row of the argmax kernel. */
export const ARGMAX_WG = 256;

/**
 * Greedy sampling on the GPU: ids[r] = argmax over x[r, 0..vocab) (ties to the lowest id, as the
 * cpu sampler), one workgroup per row: each thread scans a strided slice, then a tree reduction
 * in workgroup memory. Params: numRows, vocab.
 */
export const ARGMAX_ROWS: Kernel = {
  name: "argmax_rows",
  paramTypes: "uu",
  code: /* wgsl */ `
struct P { numRows: u32, vocab: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> ids: array<i32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
${WG_INDEX}
var<workgroup> bv: array<f32, ${ARGMAX_WG}>;
var<workgroup> bi: array<u32, ${ARGMAX_WG}>;
fn better(v: f32, i: u32, w: f32, j: u32) -> bool { return v > w || (v == w && i < j); }
@compute @workgroup_size(${ARGMAX_WG}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) li: u32) {
  let r = wg_linear(wg, nw);
  if (r >= p.numRows) { return; }
  let base = r * p.vocab;
  var best = -3.4e38;
  var at = 0xffffffffu;
  for (var i = li; i < p.vocab; i += ${ARGMAX_WG}u) {
    let v = x[base + i];
    if (at == 0xffffffffu || v > best) { best = v; at = i; }
  }
  bv[li] = best;
  bi[li] = at;
  workgroupBarrier();
  for (var s = ${ARGMAX_WG / 2}u; s > 0u; s = s >> 1u) {
    if (li < s && bi[li + s] != 0xffffffffu && (bi[li] == 0xffffffffu || better(bv[li + s], bi[li + s], bv[li], bi[li]))) {
      bv[li] = bv[li + s];
      bi[li] = bi[li + s];
    }
    workgroupBarrier();
  }
  if (li == 0u) { ids[r] = i32(bi[0]); }
}`,
};
