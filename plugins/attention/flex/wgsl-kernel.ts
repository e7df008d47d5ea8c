/**
 * The flex attention kernel for webgpu: the paged attention kernel (one workgroup per query token ×
 * head, keys in tiles of 64 read through the block table, online softmax) with the mods compiled in:
 * the mask tree becomes `mask_mod(b, h, q_idx, kv_idx) -> bool`, the score mods in order become
 * `score_mod(score, b, h, q_idx, kv_idx) -> f32` (wgsl-expr.ts). A masked key skips its dot product;
 * a tile with no visible key skips its P·V; a query that sees nothing gets zeros (as on cpu).
 */
import type { Kernel } from "../../backend/webgpu/command-stream.ts";
import { WG_INDEX } from "../../backend/webgpu/kernels/common.wgsl.ts";
import type { MaskMod, ScoreMod } from "./mods.ts";
import { ModParamBuffer, modToWgsl, type WgslType } from "./wgsl-expr.ts";

export const FLEX_WG = 64;
export const FLEX_MAX_HEAD_DIM = 4 * FLEX_WG;

const SCORE_ROLES: ReadonlyArray<readonly [string, WgslType]> = [["score", "f32"], ["b", "i32"], ["h", "i32"], ["q_idx", "i32"], ["kv_idx", "i32"]];
const MASK_ROLES: ReadonlyArray<readonly [string, WgslType]> = SCORE_ROLES.slice(1);

export interface FlexWgsl {
  kernel: Kernel;
  /** Values of the `modp` buffer (array params), empty when the mods use none. */
  modParams: Float32Array;
}

function leafError(name: string, e: unknown): Error {
  return new Error(`flex mod '${name}' cannot be compiled to WGSL: ${(e as Error).message}`);
}

function maskCode(m: MaskMod | undefined, buf: ModParamBuffer): string {
  if (!m) return "true";
  if (m.parts) {
    if (m.parts.length === 0) return m.op === "or" ? "false" : "true";
    return `(${m.parts.map((x) => maskCode(x, buf)).join(m.op === "or" ? " || " : " && ")})`;
  }
  try {
    const r = modToWgsl(m.fn!, MASK_ROLES, m.params, buf, "p.inf");
    if (r.type !== "bool") throw new Error(`a mask mod must give a boolean (this one gives ${r.type})`);
    return r.code;
  } catch (e) {
    throw leafError(m.name, e);
  }
}

function scoreStatements(m: ScoreMod | undefined, buf: ModParamBuffer): string[] {
  if (!m) return [];
  if (m.parts) return m.parts.flatMap((x) => scoreStatements(x, buf));
  try {
    const r = modToWgsl(m.fn!, SCORE_ROLES, m.params, buf, "p.inf");
    if (r.type === "bool") throw new Error("a score mod must give a number");
    return [`score = ${r.type === "f32" ? r.code : `f32(${r.code})`};`];
  } catch (e) {
    throw leafError(m.name, e);
  }
}

function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

/**
 * WGSL for (score, mask); throws an Error naming the mod and the reason when one cannot be compiled.
 * causal: keys up to the query's own position; otherwise up to the request's sequence length.
 * Params: numTokens, numHeads, numKvHeads, headDim, blockSize, maxBlocks, numReqs, scale, inf.
 * Metadata (i32): [positions N | slots N | request of each token N | block tables R*maxBlocks | seqLens R].
 */
export function flexWgsl(score: ScoreMod | undefined, mask: MaskMod | undefined, causal: boolean): FlexWgsl {
  const buf = new ModParamBuffer();
  const maskExpr = maskCode(mask, buf);
  const scoreStmts = scoreStatements(score, buf).join("\n  ");
  const hasParams = buf.values.length > 0;
  const code = /* wgsl */ `
struct P { numTokens: u32, numHeads: u32, numKvHeads: u32, headDim: u32, blockSize: u32, maxBlocks: u32, numReqs: u32, scale: f32, inf: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<f32>;
@group(0) @binding(3) var<storage, read> kc: array<f32>;
@group(0) @binding(4) var<storage, read> vc: array<f32>;
@group(0) @binding(5) var<storage, read> md: array<i32>;
${hasParams ? "@group(0) @binding(6) var<storage, read> modp: array<f32>;" : ""}
${WG_INDEX}
const NEG = -3.0e38;
fn mask_mod(b: i32, h: i32, q_idx: i32, kv_idx: i32) -> bool {
  return ${maskExpr};
}
fn score_mod(score_in: f32, b: i32, h: i32, q_idx: i32, kv_idx: i32) -> f32 {
  var score = score_in;
  ${scoreStmts}
  return score;
}
var<workgroup> qs: array<f32, ${FLEX_MAX_HEAD_DIM}>;
var<workgroup> sc: array<f32, ${FLEX_WG}>;
var<workgroup> base: array<u32, ${FLEX_WG}>;
@compute @workgroup_size(${FLEX_WG}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nw: vec3u, @builtin(local_invocation_index) li: u32) {
  let wid = wg_linear(wg, nw);
  if (wid >= p.numTokens * p.numHeads) { return; }
  let t = wid / p.numHeads;
  let h = wid % p.numHeads;
  let hd = p.headDim;
  let kvDim = p.numKvHeads * hd;
  let kvOff = (h / (p.numHeads / p.numKvHeads)) * hd;
  let qo = (t * p.numHeads + h) * hd;
  for (var d = li; d < hd; d += ${FLEX_WG}u) { qs[d] = q[qo + d]; }
  let pos = md[t];
  let req = u32(md[2u * p.numTokens + t]);
  let tables = 3u * p.numTokens + req * p.maxBlocks;
  let kvEnd = ${causal ? "pos" : "md[3u * p.numTokens + p.numReqs * p.maxBlocks + req] - 1"};
  let bi = i32(req);
  let hi = i32(h);
  var m = NEG;
  var l = 0.0;
  var acc = vec4f(0.0);
  workgroupBarrier();
  for (var j0 = 0; j0 <= kvEnd; j0 += ${FLEX_WG}) {
    let j = j0 + i32(li);
    var s = NEG;
    var ok = false;
    var kb = 0u;
    if (j <= kvEnd && mask_mod(bi, hi, pos, j)) {
      let bs = i32(p.blockSize);
      kb = (u32(md[tables + u32(j / bs)]) * p.blockSize + u32(j % bs)) * kvDim + kvOff;
      var dotv = 0.0;
      for (var d = 0u; d < hd; d++) { dotv += qs[d] * kc[kb + d]; }
      let s1 = score_mod(dotv * p.scale, bi, hi, pos, j);
      if (s1 > NEG) { s = s1; ok = true; }
    }
    sc[li] = s;
    base[li] = kb;
    workgroupBarrier();
    var mt = NEG;
    for (var i = 0u; i < ${FLEX_WG}u; i++) { mt = max(mt, sc[i]); }
    let mNew = max(m, mt);
    let corr = exp(m - mNew);
    workgroupBarrier();
    sc[li] = select(0.0, exp(s - mNew), ok);
    workgroupBarrier();
    var ps = 0.0;
    var tile = vec4f(0.0);
    if (mt > NEG) {
      for (var i = 0u; i < ${FLEX_WG}u; i++) {
        let w = sc[i];
        ps += w;
        if (w != 0.0) {
          for (var c = 0u; c < 4u; c++) {
            let d = li + c * ${FLEX_WG}u;
            if (d < hd) { tile[c] += w * vc[base[i] + d]; }
          }
        }
      }
    }
    l = l * corr + ps;
    acc = acc * corr + tile;
    m = mNew;
    workgroupBarrier();
  }
  for (var c = 0u; c < 4u; c++) {
    let d = li + c * ${FLEX_WG}u;
    if (d < hd) { out[qo + d] = select(acc[c] / l, 0.0, l == 0.0); }
  }
}`;
  return { kernel: { name: `flex_attention_${hash(code)}`, paramTypes: "uuuuuuuff", code }, modParams: Float32Array.from(buf.values) };
}
