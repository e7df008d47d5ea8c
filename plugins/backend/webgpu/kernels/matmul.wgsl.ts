import type { Kernel } from "../command-stream.ts";
import { WG_INDEX } from "./common.wgsl.ts";

/**
 * How a linear layer's weights are stored on the GPU: WGSL declarations for bindings 3.. and a
 * function `w4(j, g) -> vec4f` giving W[j, 4g .. 4g+3] as f32 (row j = output feature). `k`, `m`
 * and `nb` (blocks per row) come from the parameter block `p`.
 */
export interface WeightFormat {
  /** Short name used in kernel names (f32, q8_0, ...). */
  readonly name: string;
  /** Number of weight storage buffers (bound after out and x). */
  readonly buffers: number;
  /** WGSL: bindings (from 3) and the w4 function. */
  readonly wgsl: string;
  /** Values per block (the k granularity the format needs); 1 for plain formats. */
  readonly blockSize: number;
}

/** Rows per matrix-vector dispatch (a compile-time constant of the kernel). */
export const MATVEC_MAX_ROWS = 8;
/** Batches up to this many rows run as matrix-vector dispatches of 8 rows; larger ones use the tiled kernel. */
export const MATVEC_CHUNKED_MAX_ROWS = 32;
const MV_LANES = 64;
const MV_COLS = 4;
const TILE = 64;
const TILE_K = 16;

const PARAMS = `struct P { n: u32, k: u32, m: u32, nb: u32, row0: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;`;

/** x[i, 4g .. 4g+3]; bounds-checked unless k is a multiple of 4. */
function x4(aligned: boolean): string {
  if (aligned) return `fn x4(i: u32, g: u32) -> vec4f { let b = i * p.k + 4u * g; return vec4f(x[b], x[b + 1u], x[b + 2u], x[b + 3u]); }`;
  return `fn x4(i: u32, g: u32) -> vec4f {
  let b = i * p.k; let c = 4u * g; var v = vec4f(0.0);
  for (var e = 0u; e < 4u; e++) { if (c + e < p.k) { v[e] = x[b + c + e]; } }
  return v;
}`;
}

/**
 * y[i, j] = sum_p x[i, p] W[j, p] for rows row0 .. row0 + `rows` - 1 (rows <= MATVEC_MAX_ROWS, a
 * compile-time constant) of a decode step: 64 lanes per output feature stream its weight row (coalesced), 4 features per
 * workgroup; the lanes' partial sums meet in workgroup memory behind a single barrier and lane r
 * adds up row r (few barriers: they dominate on CPU drivers such as llvmpipe).
 */
export function matvecKernel(fmt: WeightFormat, aligned: boolean, rows: number): Kernel {
  const wg = MV_LANES * MV_COLS;
  return {
    name: `matvec_${fmt.name}_${aligned ? "a" : "u"}_${rows}`,
    paramTypes: "uuuuu",
    code: /* wgsl */ `${PARAMS}
${fmt.wgsl}
${x4(aligned)}
${WG_INDEX}
const NR = ${rows}u;
var<workgroup> red: array<f32, ${wg * rows}>;
@compute @workgroup_size(${wg}) fn main(@builtin(workgroup_id) wgid: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) li: u32) {
  let col = wg_linear(wgid, nw) * ${MV_COLS}u + li / ${MV_LANES}u;
  let lane = li % ${MV_LANES}u;
  let k4 = (p.k + 3u) / 4u;
  var acc: array<f32, ${rows}>;
  if (col < p.m) {
    for (var g = lane; g < k4; g += ${MV_LANES}u) {
      let wv = w4(col, g);
      for (var r = 0u; r < NR; r++) { acc[r] += dot(x4(p.row0 + r, g), wv); }
    }
  }
  for (var r = 0u; r < NR; r++) { red[r * ${wg}u + li] = acc[r]; }
  workgroupBarrier();
  if (lane < NR && col < p.m) {
    let base = lane * ${wg}u + li - lane;
    var s = 0.0;
    for (var i = 0u; i < ${MV_LANES}u; i++) { s += red[base + i]; }
    out[(p.row0 + lane) * p.m + col] = s;
  }
}`,
  };
}

/** Tiled y = x W^T: 64x64 output tiles, k in steps of 16, each of 256 threads computing 4x4 outputs. */
export function tiledMatmulKernel(fmt: WeightFormat, aligned: boolean): Kernel {
  return {
    name: `matmul_${fmt.name}_${aligned ? "a" : "u"}`,
    paramTypes: "uuuuu",
    code: /* wgsl */ `${PARAMS}
${fmt.wgsl}
${x4(aligned)}
${WG_INDEX}
var<workgroup> xs: array<array<f32, ${TILE_K}>, ${TILE}>;
var<workgroup> ws: array<array<f32, ${TILE_K}>, ${TILE}>;
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wgid: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) li: u32) {
  let tilesM = (p.m + ${TILE - 1}u) / ${TILE}u;
  let tile = wg_linear(wgid, nw);
  let row0 = (tile / tilesM) * ${TILE}u;
  let col0 = (tile % tilesM) * ${TILE}u;
  let lr = li / 4u;
  let lg = li % 4u;
  let ty = li / 16u;
  let tx = li % 16u;
  let k4 = (p.k + 3u) / 4u;
  var acc: array<vec4f, 4>;
  for (var g0 = 0u; g0 < k4; g0 += ${TILE_K / 4}u) {
    let g = g0 + lg;
    var xv = vec4f(0.0);
    var wv = vec4f(0.0);
    if (row0 + lr < p.n && g < k4) { xv = x4(row0 + lr, g); }
    if (col0 + lr < p.m && g < k4) { wv = w4(col0 + lr, g); }
    for (var e = 0u; e < 4u; e++) { xs[lr][4u * lg + e] = xv[e]; ws[lr][4u * lg + e] = wv[e]; }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILE_K}u; kk++) {
      let b = vec4f(ws[4u * tx][kk], ws[4u * tx + 1u][kk], ws[4u * tx + 2u][kk], ws[4u * tx + 3u][kk]);
      for (var r = 0u; r < 4u; r++) { acc[r] += xs[4u * ty + r][kk] * b; }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let i = row0 + 4u * ty + r;
    if (i >= p.n) { break; }
    for (var c = 0u; c < 4u; c++) {
      let j = col0 + 4u * tx + c;
      if (j < p.m) { out[i * p.m + j] = acc[r][c]; }
    }
  }
}`,
  };
}

export function matvecWorkgroups(m: number): number {
  return Math.ceil(m / MV_COLS);
}

export function tiledWorkgroups(n: number, m: number): number {
  return Math.ceil(n / TILE) * Math.ceil(m / TILE);
}

/** f32 weights [m, k] row-major. */
export const F32_WEIGHTS: WeightFormat = {
  name: "f32",
  buffers: 1,
  blockSize: 1,
  wgsl: `@group(0) @binding(3) var<storage, read> w: array<f32>;
fn w4(j: u32, g: u32) -> vec4f {
  let b = j * p.k; let c = 4u * g;
  if (c + 3u < p.k) { return vec4f(w[b + c], w[b + c + 1u], w[b + c + 2u], w[b + c + 3u]); }
  var v = vec4f(0.0);
  for (var e = 0u; e < 4u; e++) { if (c + e < p.k) { v[e] = w[b + c + e]; } }
  return v;
}`,
};

/** GGML Q8_0 repacked: scales[m * nb] f32 and 32 int8 codes per block as 8 u32 words. */
export const Q8_0_WEIGHTS: WeightFormat = {
  name: "q8_0",
  buffers: 2,
  blockSize: 32,
  wgsl: `@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> qs: array<u32>;
fn w4(j: u32, g: u32) -> vec4f {
  let blk = j * p.nb + g / 8u;
  let q = qs[blk * 8u + g % 8u];
  let v = vec4i(i32(q << 24u) >> 24u, i32(q << 16u) >> 24u, i32(q << 8u) >> 24u, i32(q) >> 24u);
  return vec4f(v) * scales[blk];
}`,
};

/**
 * GGML Q4_0 repacked: scales[m * nb] f32 and the block's 16 code bytes as 4 u32 words. Value i < 16
 * is the low nibble of byte i, value i + 16 the high nibble; both minus 8.
 */
export const Q4_0_WEIGHTS: WeightFormat = {
  name: "q4_0",
  buffers: 2,
  blockSize: 32,
  wgsl: `@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> qs: array<u32>;
fn w4(j: u32, g: u32) -> vec4f {
  let blk = j * p.nb + g / 8u;
  let gi = g % 8u;
  let q = qs[blk * 4u + gi % 4u] >> select(0u, 4u, gi >= 4u);
  let v = vec4u(q & 15u, (q >> 8u) & 15u, (q >> 16u) & 15u, (q >> 24u) & 15u);
  return (vec4f(v) - 8.0) * scales[blk];
}`,
};

/**
 * The int4 group layout (src/quant/int4.ts): packed nibbles [m, k/2] as u32 words (element 2t in
 * the low nibble of byte t), scales and zero points [m, nb] as f32; W = (q - zero) * scale. nb is
 * the number of groups per row (group size k / nb).
 */
export const INT4_WEIGHTS: WeightFormat = {
  name: "int4",
  buffers: 3,
  blockSize: 32,
  wgsl: `@group(0) @binding(3) var<storage, read> packed: array<u32>;
@group(0) @binding(4) var<storage, read> scales: array<f32>;
@group(0) @binding(5) var<storage, read> zeros: array<f32>;
fn w4(j: u32, g: u32) -> vec4f {
  let q = packed[j * (p.k / 8u) + g / 2u] >> (16u * (g % 2u));
  let gi = j * p.nb + (4u * g) / (p.k / p.nb);
  let v = vec4f(vec4u(q & 15u, (q >> 4u) & 15u, (q >> 8u) & 15u, (q >> 12u) & 15u));
  return (v - zeros[gi]) * scales[gi];
}`,
};

/** int8 per-channel (src/quant/int8.ts): codes [m, k] as u32 words (k a multiple of 4), one f32 scale per row. */
export const INT8_WEIGHTS: WeightFormat = {
  name: "int8",
  buffers: 2,
  blockSize: 4,
  wgsl: `@group(0) @binding(3) var<storage, read> scales: array<f32>;
@group(0) @binding(4) var<storage, read> qs: array<u32>;
fn w4(j: u32, g: u32) -> vec4f {
  let q = qs[j * (p.k / 4u) + g];
  let v = vec4i(i32(q << 24u) >> 24u, i32(q << 16u) >> 24u, i32(q << 8u) >> 24u, i32(q) >> 24u);
  return vec4f(v) * scales[j];
}`,
};

/**
 * f16 weights [m, k] (k a multiple of 4), two halves per u32 word, widened with unpack2x16float
 * (core WGSL: no shader-f16 needed) and multiplied in f32: half the memory and bandwidth of f32.
 */
export const F16_WEIGHTS: WeightFormat = {
  name: "f16",
  buffers: 1,
  blockSize: 4,
  wgsl: `@group(0) @binding(3) var<storage, read> w: array<u32>;
fn w4(j: u32, g: u32) -> vec4f {
  let b = j * (p.k / 2u) + 2u * g;
  return vec4f(unpack2x16float(w[b]), unpack2x16float(w[b + 1u]));
}`,
};
