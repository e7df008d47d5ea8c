import type { Kernel } from "../command-stream.ts";
import { EW, WG_INDEX } from "./common.wgsl.ts";

/**
 * In-place RoPE on [n, heads * headDim], one thread per rotated pair. "normal" (neox = 0) rotates
 * (x[2i], x[2i+1]); "neox" (neox = 1) rotates (x[i], x[i + rot/2]). cos/sin are [maxPos, rot/2].
 * Params: pairs (n * heads * half), heads, headDim, half, neox.
 */
export const ROPE: Kernel = {
  name: "rope",
  paramTypes: "uuuuu",
  code: /* wgsl */ `
struct P { pairs: u32, heads: u32, headDim: u32, half: u32, neox: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> positions: array<i32>;
@group(0) @binding(3) var<storage, read> cosT: array<f32>;
@group(0) @binding(4) var<storage, read> sinT: array<f32>;
${WG_INDEX}
@compute @workgroup_size(${EW}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) li: u32) {
  let g = wg_linear(wg, nw) * ${EW}u + li;
  if (g >= p.pairs) { return; }
  let i = g % p.half;
  let th = g / p.half;
  let t = th / p.heads;
  let base = th * p.headDim;
  let tb = u32(positions[t]) * p.half + i;
  let c = cosT[tb];
  let s = sinT[tb];
  var a = base + 2u * i;
  var b = a + 1u;
  if (p.neox == 1u) { a = base + i; b = a + p.half; }
  let x0 = x[a];
  let x1 = x[b];
  x[a] = x0 * c - x1 * s;
  x[b] = x0 * s + x1 * c;
}`,
};
