import type { Kernel } from "../command-stream.ts";
import { EW, WG_INDEX } from "./common.wgsl.ts";

function elementwise(name: string, decls: string, body: string, extra: { types: string; fields: string } = { types: "", fields: "" }): Kernel {
  return {
    name,
    paramTypes: "u" + extra.types,
    code: /* wgsl */ `
struct P { n: u32${extra.fields} }
@group(0) @binding(0) var<uniform> p: P;
${decls}
${WG_INDEX}
@compute @workgroup_size(${EW}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wg_linear(wg, nw) * ${EW}u + li;
  if (i >= p.n) { return; }
  ${body}
}`,
  };
}

/** out[i] += x[i] */
export const ADD_IN_PLACE = elementwise(
  "add_in_place",
  `@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;`,
  "out[i] = out[i] + x[i];",
);

/** out[i] = silu(gate[i]) * up[i] */
export const SILU_MUL = elementwise(
  "silu_mul",
  `@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> up: array<f32>;`,
  "let g = gate[i]; out[i] = g / (1.0 + exp(-g)) * up[i];",
);

/** out[r, d] = x[rows[r], d] over n = numRows * dim elements (params: n, dim). */
export const GATHER_ROWS: Kernel = {
  name: "gather_rows",
  paramTypes: "uuu",
  code: /* wgsl */ `
struct P { n: u32, dim: u32, numSrcRows: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> rows: array<i32>;
${WG_INDEX}
@compute @workgroup_size(${EW}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = wg_linear(wg, nw) * ${EW}u + li;
  if (i >= p.n) { return; }
  let r = i / p.dim;
  let row = rows[r];
  if (row < 0 || u32(row) >= p.numSrcRows) { out[i] = 0.0; return; }
  out[i] = x[u32(row) * p.dim + (i - r * p.dim)];
}`,
};

/** out[i] += bias[i % dim] (params: n, dim). */
export const ADD_BIAS = elementwise(
  "add_bias",
  `@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;`,
  "out[i] = out[i] + bias[i % p.dim];",
  { types: "u", fields: ", dim: u32" },
);

/** x[i] *= s (params: n, s). */
export const SCALE = elementwise(
  "scale",
  `@group(0) @binding(1) var<storage, read_write> x: array<f32>;`,
  "x[i] = x[i] * p.s;",
  { types: "f", fields: ", s: f32" },
);

/** out[i] = gelu_tanh(gate[i]) * up[i] */
export const GELU_MUL = elementwise(
  "gelu_mul",
  `@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> up: array<f32>;`,
  "let g = gate[i]; out[i] = 0.5 * g * (1.0 + tanh_safe(0.7978845608028654 * (g + 0.044715 * g * g * g))) * up[i];",
);

/** x[i] = cap * tanh(x[i] / cap) (params: n, cap). */
export const SOFT_CAP = elementwise(
  "soft_cap",
  `@group(0) @binding(1) var<storage, read_write> x: array<f32>;`,
  "x[i] = p.cap * tanh_safe(x[i] / p.cap);",
  { types: "f", fields: ", cap: f32" },
);
