import type { Kernel } from "../command-stream.ts";
import { WG_INDEX } from "./common.wgsl.ts";

/** Threads per row of the RMSNorm kernel. */
export const NORM_WG = 256;

/** out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w, one workgroup per row (params: rows, dim, eps). */
export const RMS_NORM: Kernel = {
  name: "rms_norm",
  paramTypes: "uuf",
  code: /* wgsl */ `
struct P { rows: u32, dim: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> w: array<f32>;
var<workgroup> red: array<f32, ${NORM_WG}>;
var<workgroup> total: f32;
${WG_INDEX}
@compute @workgroup_size(${NORM_WG}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) li: u32) {
  let row = wg_linear(wg, nw);
  if (row >= p.rows) { return; }
  let base = row * p.dim;
  var ss = 0.0;
  for (var i = li; i < p.dim; i += ${NORM_WG}u) { let v = x[base + i]; ss += v * v; }
  red[li] = ss;
  workgroupBarrier();
  // One thread adds the partial sums: two barriers in all (barriers dominate on CPU drivers).
  if (li == 0u) {
    var t = 0.0;
    for (var i = 0u; i < ${NORM_WG}u; i++) { t += red[i]; }
    total = t;
  }
  workgroupBarrier();
  let scale = 1.0 / sqrt(total / f32(p.dim) + p.eps);
  for (var i = li; i < p.dim; i += ${NORM_WG}u) { out[base + i] = x[base + i] * scale * w[i]; }
}`,
};
