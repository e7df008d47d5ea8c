import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GGUFValueType as T } from "../loader/gguf/parse.ts";
import { gguf, writeGGUFFile, type GGUFTypedValue } from "../loader/gguf/writer.ts";
import { f16ToF32, f32ArrayToF16 } from "../loader/gguf/dequantize.ts";
import { f32ArrayToBF16 } from "../loader/gguf/encode.ts";
import { writeSafetensorsFile, type SafetensorsTensorSpec, type SafetensorsWriteDtype } from "../loader/safetensors/writer.ts";
import { GGMLType } from "../loader/types.ts";
import { Prng } from "../sampling/prng.ts";
import { syntheticLlamaVocab } from "./random-model.ts";
import { TINY_ARCH_SHAPES, type TinyArch, type TinyArchShape } from "./tiny-arch-shapes.ts";

/**
 * Random-weight tiny models of every supported architecture, written both as a GGUF (the tensor
 * names and metadata llama.cpp expects, with a synthetic llama SPM vocabulary so llama.cpp loads
 * it) and as a Hugging Face folder (config.json + safetensors). The same values go into both; the
 * HF side is derived from the GGUF layout here, independently of the loader's conversion (Llama
 * q/k rows de-interleaved back to rotate-half order, Gemma norms minus one), so a test comparing
 * the two paths checks the loader. Values are pre-rounded to the HF dtype, so both hold equal numbers.
 */

/** A tensor in GGUF naming and layout (dims in ggml order; data row-major [dims[1]][dims[0]]). */
interface GenTensor { name: string; dims: number[]; values: Float32Array }

const STD = 0.05;

function roundTo(dtype: SafetensorsWriteDtype, v: Float32Array): Float32Array {
  if (dtype === "F32") return v;
  if (dtype === "F16") return Float32Array.from(f32ArrayToF16(v), f16ToF32);
  const bits = new Uint32Array(Array.from(f32ArrayToBF16(v), (b) => b << 16));
  return new Float32Array(bits.buffer);
}

/**
 * Llama 3 scaled frequencies the way transformers computes them (inv_freq divided by `factor` for
 * long wavelengths, blended for medium ones), as the divisors inv_freq / scaled that GGUF stores.
 */
function llama3FreqDivisors(s: TinyArchShape): Float32Array {
  const { factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositions: old } = s.llama3Scaling!;
  return Float32Array.from({ length: s.headDim / 2 }, (_, i) => {
    const inv = 1 / Math.pow(s.ropeTheta, (2 * i) / s.headDim);
    const wavelen = (2 * Math.PI) / inv;
    let scaled = wavelen > old / low ? inv / factor : inv;
    if (!(wavelen < old / high) && !(wavelen > old / low)) {
      const smooth = (old / wavelen - low) / (high - low);
      scaled = (1 - smooth) * (inv / factor) + smooth * inv;
    }
    return inv / scaled;
  });
}

/** The model's tensors in llama.cpp's names; norms are 1 + d (d on a 1/1024 grid, so w - 1 is exact in any dtype). */
export function tinyArchTensors(arch: TinyArch, seed: number, dtype: SafetensorsWriteDtype = "F32"): GenTensor[] {
  const s = TINY_ARCH_SHAPES[arch];
  const rng = new Prng(seed * 1000003 + arch.length);
  const gauss = () => (rng.nextFloat() + rng.nextFloat() + rng.nextFloat() + rng.nextFloat() - 2) * Math.sqrt(3);
  const rand = (n: number, std: number) => roundTo(dtype, Float32Array.from({ length: n }, () => gauss() * std));
  const mat = (name: string, inF: number, outF: number): GenTensor => ({ name, dims: [inF, outF], values: rand(inF * outF, STD) });
  const vec = (name: string, n: number, std: number): GenTensor => ({ name, dims: [n], values: rand(n, std) });
  const qDim = s.numHeads * s.headDim, kvDim = s.numKvHeads * s.headDim;
  const gemma = s.ggufArch === "gemma2" || s.ggufArch === "gemma3";
  // Gemma's HF files hold w - 1: keep that exact in the dtype; others hold w itself, rounded to it.
  const norm = (name: string, n: number): GenTensor => {
    const d = Float32Array.from({ length: n }, () => Math.round(gauss() * 0.05 * 1024) / 1024);
    return { name, dims: [n], values: gemma ? roundTo(dtype, d).map((x) => 1 + x) : roundTo(dtype, d.map((x) => 1 + x)) };
  };
  const out: GenTensor[] = [mat("token_embd.weight", s.dim, s.vocabSize), norm("output_norm.weight", s.dim)];
  if (s.llama3Scaling) out.push({ name: "rope_freqs.weight", dims: [s.headDim / 2], values: llama3FreqDivisors(s) });
  if (!s.tied) out.push(mat("output.weight", s.dim, s.vocabSize));
  for (let l = 0; l < s.numLayers; l++) {
    const p = `blk.${l}.`;
    out.push(norm(`${p}attn_norm.weight`, s.dim));
    if (s.ggufArch === "phi3") out.push(mat(`${p}attn_qkv.weight`, s.dim, qDim + 2 * kvDim));
    else out.push(mat(`${p}attn_q.weight`, s.dim, qDim), mat(`${p}attn_k.weight`, s.dim, kvDim), mat(`${p}attn_v.weight`, s.dim, kvDim));
    if (s.ggufArch === "qwen2") out.push(vec(`${p}attn_q.bias`, qDim, 0.5), vec(`${p}attn_k.bias`, kvDim, 0.5), vec(`${p}attn_v.bias`, kvDim, 0.5));
    if (s.ggufArch === "qwen3" || s.ggufArch === "gemma3") out.push(norm(`${p}attn_q_norm.weight`, s.headDim), norm(`${p}attn_k_norm.weight`, s.headDim));
    out.push(mat(`${p}attn_output.weight`, qDim, s.dim));
    if (gemma) out.push(norm(`${p}post_attention_norm.weight`, s.dim));
    out.push(norm(`${p}ffn_norm.weight`, s.dim));
    if (s.ggufArch === "phi3") out.push(mat(`${p}ffn_up.weight`, s.dim, 2 * s.hiddenDim));
    else out.push(mat(`${p}ffn_gate.weight`, s.dim, s.hiddenDim), mat(`${p}ffn_up.weight`, s.dim, s.hiddenDim));
    out.push(mat(`${p}ffn_down.weight`, s.hiddenDim, s.dim));
    if (gemma) out.push(norm(`${p}post_ffw_norm.weight`, s.dim));
  }
  return out;
}

/** GGUF metadata llama.cpp reads for the architecture, plus the synthetic llama vocabulary. */
export function tinyArchMetadata(arch: TinyArch): [string, GGUFTypedValue][] {
  const s = TINY_ARCH_SHAPES[arch];
  const a = s.ggufArch;
  const v = syntheticLlamaVocab(s.vocabSize);
  if (a === "phi3") {
    // llama.cpp's vocabulary loader looks these up by text for Phi-3 (its end-of-turn tokens).
    const n = v.tokens.length;
    v.tokens.splice(n - 2, 2, "<|endoftext|>", "<|end|>");
    v.types.splice(n - 2, 2, 3, 3);
  }
  const md: [string, GGUFTypedValue][] = [
    ["general.architecture", gguf.str(a)],
    ["general.name", gguf.str(`tiny-${arch}`)],
    ["general.file_type", gguf.u32(0)],
    [`${a}.context_length`, gguf.u32(s.contextLength)],
    [`${a}.embedding_length`, gguf.u32(s.dim)],
    [`${a}.block_count`, gguf.u32(s.numLayers)],
    [`${a}.feed_forward_length`, gguf.u32(s.hiddenDim)],
    [`${a}.attention.head_count`, gguf.u32(s.numHeads)],
    [`${a}.attention.head_count_kv`, gguf.u32(s.numKvHeads)],
    [`${a}.attention.key_length`, gguf.u32(s.headDim)],
    [`${a}.attention.value_length`, gguf.u32(s.headDim)],
    [`${a}.rope.dimension_count`, gguf.u32(s.headDim)],
    [`${a}.rope.freq_base`, gguf.f32(s.ropeTheta)],
    [`${a}.attention.layer_norm_rms_epsilon`, gguf.f32(s.rmsEps)],
    ["tokenizer.ggml.model", gguf.str("llama")],
    ["tokenizer.ggml.tokens", gguf.array(T.STRING, v.tokens)],
    ["tokenizer.ggml.scores", gguf.array(T.FLOAT32, v.scores)],
    ["tokenizer.ggml.token_type", gguf.array(T.INT32, v.types)],
    ["tokenizer.ggml.unknown_token_id", gguf.u32(0)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(1)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(2)],
    ["tokenizer.ggml.add_bos_token", gguf.bool(true)],
  ];
  // Mistral's window is not written: llama.cpp's converter drops it (the tests keep prompts shorter).
  if (a === "gemma2" || a === "gemma3") md.push([`${a}.attention.sliding_window`, gguf.u32(s.slidingWindow!)]);
  if (s.attnSoftCap !== undefined) md.push([`${a}.attn_logit_softcapping`, gguf.f32(s.attnSoftCap)]);
  if (s.finalSoftCap !== undefined) md.push([`${a}.final_logit_softcapping`, gguf.f32(s.finalSoftCap)]);
  return md;
}

export async function writeTinyArchGGUF(path: string, arch: TinyArch, seed: number, dtype: SafetensorsWriteDtype = "F32"): Promise<void> {
  const tensors = tinyArchTensors(arch, seed, dtype).map((t) => ({ name: t.name, type: GGMLType.F32, dims: t.dims, data: t.values }));
  await writeGGUFFile(path, { metadata: tinyArchMetadata(arch), tensors });
}

/** config.json as transformers writes it for the architecture. */
export function tinyArchHfConfig(arch: TinyArch, dtype: SafetensorsWriteDtype = "F32"): Record<string, unknown> {
  const s = TINY_ARCH_SHAPES[arch];
  const gemma = s.ggufArch === "gemma2" || s.ggufArch === "gemma3";
  const c: Record<string, unknown> = {
    architectures: [s.hfArch], model_type: s.modelType,
    hidden_size: s.dim, intermediate_size: s.hiddenDim, num_hidden_layers: s.numLayers,
    num_attention_heads: s.numHeads, num_key_value_heads: s.numKvHeads, head_dim: s.headDim,
    max_position_embeddings: s.contextLength, rope_theta: s.ropeTheta, rms_norm_eps: s.rmsEps,
    vocab_size: s.vocabSize, tie_word_embeddings: s.tied, rope_scaling: null,
    [gemma ? "hidden_activation" : "hidden_act"]: gemma ? "gelu_pytorch_tanh" : "silu",
    bos_token_id: 1, eos_token_id: 2,
    torch_dtype: { F32: "float32", F16: "float16", BF16: "bfloat16" }[dtype],
  };
  if (s.llama3Scaling) {
    const l = s.llama3Scaling;
    c.rope_scaling = { rope_type: "llama3", factor: l.factor, low_freq_factor: l.lowFreqFactor, high_freq_factor: l.highFreqFactor, original_max_position_embeddings: l.originalMaxPositions };
  }
  if (s.slidingWindow !== undefined) c.sliding_window = s.slidingWindow;
  if (s.ggufArch === "qwen2") c.use_sliding_window = false;
  if (gemma) c.query_pre_attn_scalar = s.headDim;
  if (s.ggufArch === "gemma2") { c.attn_logit_softcapping = s.attnSoftCap; c.final_logit_softcapping = s.finalSoftCap; }
  if (s.ggufArch === "gemma3") { c.sliding_window_pattern = 6; c.rope_local_base_freq = s.ropeLocalTheta; c.attn_logit_softcapping = null; c.final_logit_softcapping = null; }
  return c;
}

/** GGUF → HF tensor names for the generated tensors (the inverse of llama.cpp's mapping). */
function hfName(s: TinyArchShape, name: string): string {
  const fixed: Record<string, string> = { "token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight", "output.weight": "lm_head.weight" };
  if (fixed[name]) return fixed[name]!;
  const [, l, rest] = /^blk\.(\d+)\.(.+)$/.exec(name)!;
  const gemma = s.ggufArch === "gemma2" || s.ggufArch === "gemma3";
  const layer: Record<string, string> = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight", "attn_k.weight": "self_attn.k_proj.weight", "attn_v.weight": "self_attn.v_proj.weight",
    "attn_q.bias": "self_attn.q_proj.bias", "attn_k.bias": "self_attn.k_proj.bias", "attn_v.bias": "self_attn.v_proj.bias",
    "attn_qkv.weight": "self_attn.qkv_proj.weight", "attn_output.weight": "self_attn.o_proj.weight",
    "attn_q_norm.weight": "self_attn.q_norm.weight", "attn_k_norm.weight": "self_attn.k_norm.weight",
    "post_attention_norm.weight": "post_attention_layernorm.weight",
    "ffn_norm.weight": gemma ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight",
    "post_ffw_norm.weight": "post_feedforward_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": s.ggufArch === "phi3" ? "mlp.gate_up_proj.weight" : "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
  };
  return `model.layers.${l}.${layer[rest!]}`;
}

/** Per head, the even rows (first halves of rotated pairs) then the odd rows: HF's rotate-half order. */
function deinterleaveHeads(t: GenTensor, numHeads: number): Float32Array {
  const rowLen = t.dims[0]!, rows = t.dims[1]!, hd = rows / numHeads;
  const out = new Float32Array(t.values.length);
  let dst = 0;
  for (let h = 0; h < numHeads; h++) {
    for (const parity of [0, 1]) {
      for (let r = parity; r < hd; r += 2) {
        out.set(t.values.subarray((h * hd + r) * rowLen, (h * hd + r + 1) * rowLen), dst * rowLen);
        dst++;
      }
    }
  }
  return out;
}

export interface TinyHfOptions { dtype?: SafetensorsWriteDtype; shards?: number }

/** Writes config.json and model.safetensors (or `shards` files + model.safetensors.index.json) into `dir`. */
export async function writeTinyArchHfFolder(dir: string, arch: TinyArch, seed: number, o: TinyHfOptions = {}): Promise<void> {
  const s = TINY_ARCH_SHAPES[arch];
  const dtype = o.dtype ?? "F32";
  const gemma = s.ggufArch === "gemma2" || s.ggufArch === "gemma3";
  const specs: SafetensorsTensorSpec[] = tinyArchTensors(arch, seed, dtype).filter((t) => t.name !== "rope_freqs.weight").map((t) => {
    let values = t.values;
    if (s.ggufArch === "llama" && /attn_[qk]\.weight$/.test(t.name)) values = deinterleaveHeads(t, t.name.includes("attn_q") ? s.numHeads : s.numKvHeads);
    if (gemma && t.name.endsWith("norm.weight")) values = values.map((x) => x - 1);
    return { name: hfName(s, t.name), shape: [...t.dims].reverse(), dtype, values };
  });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "config.json"), JSON.stringify(tinyArchHfConfig(arch, dtype), null, 2));
  const shards = o.shards ?? 1;
  if (shards <= 1) {
    await writeSafetensorsFile(join(dir, "model.safetensors"), specs, { format: "pt" });
    return;
  }
  const weightMap: Record<string, string> = {};
  const per = Math.ceil(specs.length / shards);
  for (let i = 0; i < shards; i++) {
    const file = `model-${String(i + 1).padStart(5, "0")}-of-${String(shards).padStart(5, "0")}.safetensors`;
    const part = specs.slice(i * per, (i + 1) * per);
    for (const t of part) weightMap[t.name] = file;
    await writeSafetensorsFile(join(dir, file), part, { format: "pt" });
  }
  await writeFile(join(dir, "model.safetensors.index.json"), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
}
