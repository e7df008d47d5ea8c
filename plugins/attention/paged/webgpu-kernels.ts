import type { Kernel } from "../../backend/webgpu/command-stream.ts";
import { WG_INDEX } from "../../backend/webgpu/kernels/common.wgsl.ts";

/** Threads per (token, head) in the attention kernel; also the key tile length. */
export const ATTN_WG = 64;
/** Largest head size the attention kernel holds (4 accumulators per thread). */
export const ATTN_MAX_HEAD_DIM = 4 * ATTN_WG;

/**
 * The per-step metadata buffer (i32), with N tokens and R requests:
 * [positions: N | slotMapping: N | request of each token: N | blockTables: R * maxBlocksPerReq].
 */
const META = `@group(0) @binding(0) var<uniform> p: P;`;

/** kc/vc[slot, :] = k/v[t, :] for tokens with slot >= 0 (params: n = N * kvDim, kvDim, N). */
export const RESHAPE_AND_CACHE: Kernel = {
  name: "paged_reshape_and_cache",
  paramTypes: "uuu",
  code: /* wgsl */ `
struct P { n: u32, kvDim: u32, numTokens: u32 }
${META}
@group(0) @binding(1) var<storage, read_write> kc: array<f32>;
@group(0) @binding(2) var<storage, read_write> vc: array<f32>;
@group(0) @binding(3) var<storage, read> k: array<f32>;
@group(0) @binding(4) var<storage, read> v: array<f32>;
@group(0) @binding(5) var<storage, read> md: array<i32>;
${WG_INDEX}
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wg_linear(wg, nw) * 256u + li;
  if (i >= p.n) { return; }
  let t = i / p.kvDim;
  let slot = md[p.numTokens + t];
  if (slot < 0) { return; }
  let dst = u32(slot) * p.kvDim + (i - t * p.kvDim);
  kc[dst] = k[i];
  vc[dst] = v[i];
}`,
};

/**
 * Causal paged attention, one workgroup per (query token, head): keys in tiles of 64 (one per
 * thread) read through the request's block table, online softmax (running max and sum), each
 * thread accumulating up to 4 output dims; scores soft-capped (cap * tanh(s / cap)) when softCap > 0. Serves decode and prefill rows alike.
 */
export const PAGED_ATTENTION: Kernel = {
  name: "paged_attention",
  paramTypes: "uuuuuufif",
  code: /* wgsl */ `
struct P { numTokens: u32, numHeads: u32, numKvHeads: u32, headDim: u32, blockSize: u32, maxBlocks: u32, scale: f32, window: i32, softCap: f32 }
${META}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> kc: array<f32>;
@group(0) @binding(4) var<storage, read> vc: array<f32>;
@group(0) @binding(5) var<storage, read> md: array<i32>;
${WG_INDEX}
const NEG = -3.0e38;
var<workgroup> qs: array<f32, ${ATTN_MAX_HEAD_DIM}>;
var<workgroup> sc: array<f32, ${ATTN_WG}>;
var<workgroup> base: array<u32, ${ATTN_WG}>;
@compute @workgroup_size(${ATTN_WG}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) li: u32) {
  let wid = wg_linear(wg, nw);
  if (wid >= p.numTokens * p.numHeads) { return; }
  let t = wid / p.numHeads;
  let h = wid % p.numHeads;
  let hd = p.headDim;
  let kvDim = p.numKvHeads * hd;
  let kvOff = (h / (p.numHeads / p.numKvHeads)) * hd;
  let qo = (t * p.numHeads + h) * hd;
  for (var d = li; d < hd; d += ${ATTN_WG}u) { qs[d] = q[qo + d]; }
  let pos = md[t];
  let req = u32(md[2u * p.numTokens + t]);
  let tables = 3u * p.numTokens + req * p.maxBlocks;
  var start = 0;
  if (p.window > 0) { start = max(0, pos - p.window + 1); }
  var m = NEG;
  var l = 0.0;
  var acc = vec4f(0.0);
  workgroupBarrier();
  for (var j0 = start; j0 <= pos; j0 += ${ATTN_WG}) {
    let j = j0 + i32(li);
    var s = NEG;
    var kb = 0u;
    if (j <= pos) {
      let bs = i32(p.blockSize);
      kb = (u32(md[tables + u32(j / bs)]) * p.blockSize + u32(j % bs)) * kvDim + kvOff;
      var dotv = 0.0;
      for (var d = 0u; d < hd; d++) { dotv += qs[d] * kc[kb + d]; }
      s = dotv * p.scale;
      if (p.softCap > 0.0) { s = p.softCap * tanh_safe(s / p.softCap); }
    }
    sc[li] = s;
    base[li] = kb;
    workgroupBarrier();
    var mt = NEG;
    for (var i = 0u; i < ${ATTN_WG}u; i++) { mt = max(mt, sc[i]); }
    let mNew = max(m, mt);
    let corr = exp(m - mNew);
    workgroupBarrier();
    sc[li] = select(0.0, exp(s - mNew), j <= pos);
    workgroupBarrier();
    var ps = 0.0;
    var tile = vec4f(0.0);
    for (var i = 0u; i < ${ATTN_WG}u; i++) {
      let w = sc[i];
      ps += w;
      if (w != 0.0) {
        for (var c = 0u; c < 4u; c++) {
          let d = li + c * ${ATTN_WG}u;
          if (d < hd) { tile[c] += w * vc[base[i] + d]; }
        }
      }
    }
    l = l * corr + ps;
    acc = acc * corr + tile;
    m = mNew;
    workgroupBarrier();
  }
  for (var c = 0u; c < 4u; c++) {
    let d = li + c * ${ATTN_WG}u;
    if (d < hd) { out[qo + d] = acc[c] / l; }
  }
}`,
};
