import { ModelFileError } from "../../util/errors.ts";
import type { MetadataValue } from "../types.ts";
import { HF_ARCHITECTURES, supportedHfArchitectures } from "./architectures.ts";

/** What config.json says, as GGUF metadata (the keys llama.cpp's converter writes) plus the HF class. */
export interface HfModelConfig {
  hfArchitecture: string;
  architecture: string;
  metadata: Map<string, MetadataValue>;
  tiedEmbeddings: boolean;
  /** Llama 3.1+ rope scaling as the rope_freqs.weight divisors llama.cpp's converter writes; null for none. */
  ropeFreqs: Float32Array | null;
}

/**
 * Llama 3 rope scaling (rope_type "llama3") as per-frequency divisors, as llama.cpp's converter
 * computes them: 1 for wavelengths under original_max_position_embeddings / high_freq_factor,
 * `factor` above original / low_freq_factor, and a smooth blend between.
 */
export function llama3RopeFactors(theta: number, rotDim: number, rs: Record<string, unknown>): Float32Array {
  const get = (k: string, d: number) => (typeof rs[k] === "number" ? (rs[k] as number) : d);
  const factor = get("factor", 8), low = get("low_freq_factor", 1), high = get("high_freq_factor", 4);
  const oldCtx = get("original_max_position_embeddings", 8192);
  const lowWavelen = oldCtx / low, highWavelen = oldCtx / high;
  const out = new Float32Array(rotDim / 2);
  for (let i = 0; i < out.length; i++) {
    const freq = 1 / Math.pow(theta, (2 * i) / rotDim);
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = factor;
    else {
      const smooth = (oldCtx / wavelen - low) / (high - low);
      out[i] = 1 / ((1 - smooth) / factor + smooth);
    }
  }
  return out;
}

type Json = Record<string, unknown>;

/** RoPE scaling types implemented (none = absent/"default"; llama3 for Llama only). */
const ROPE_SCALING_SUPPORTED = ["default", "linear", "llama3"];

/**
 * Reads config.json's object into GGUF-style metadata; float keys are rounded to f32 as the
 * converter stores them, so a folder and its GGUF conversion run the same numbers. ModelFileError
 * naming the key for anything missing or unsupported.
 */
export function hfConfigToMetadata(file: string, cfg: unknown): HfModelConfig {
  if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) throw new ModelFileError(file, "config.json must be a JSON object");
  const c = cfg as Json;
  const archs = c.architectures;
  if (!Array.isArray(archs) || archs.length === 0 || typeof archs[0] !== "string") {
    throw new ModelFileError(file, `missing 'architectures' (e.g. ["LlamaForCausalLM"]); supported: ${supportedHfArchitectures().join(", ")}`);
  }
  const hfArchitecture = archs[0];
  const arch = HF_ARCHITECTURES[hfArchitecture];
  if (!arch) throw new ModelFileError(file, `unsupported architecture '${hfArchitecture}'; supported: ${supportedHfArchitectures().join(", ")}`);
  const num = (key: string, fallback?: number): number => {
    const v = c[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw new ModelFileError(file, `missing required config key '${key}'`);
    }
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ModelFileError(file, `config key '${key}' must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const md = new Map<string, MetadataValue>();
  const k = (s: string) => `${arch}.${s}`;
  md.set("general.architecture", arch);
  md.set("general.name", typeof c._name_or_path === "string" && c._name_or_path ? c._name_or_path : hfArchitecture);
  const dim = num("hidden_size");
  const numHeads = num("num_attention_heads");
  const headDim = num("head_dim", dim / numHeads);
  md.set(k("context_length"), num("max_position_embeddings"));
  md.set(k("embedding_length"), dim);
  md.set(k("block_count"), num("num_hidden_layers"));
  md.set(k("feed_forward_length"), num("intermediate_size"));
  md.set(k("attention.head_count"), numHeads);
  md.set(k("attention.head_count_kv"), num("num_key_value_heads", numHeads));
  md.set(k("attention.key_length"), headDim);
  md.set(k("attention.value_length"), headDim);
  md.set(k("rope.freq_base"), Math.fround(num("rope_theta", 10000)));
  md.set(k("attention.layer_norm_rms_epsilon"), Math.fround(num("rms_norm_eps", 1e-6)));
  const partial = num("partial_rotary_factor", 1);
  md.set(k("rope.dimension_count"), Math.round(headDim * partial));

  const rs = c.rope_scaling as Json | null | undefined;
  let ropeFreqs: Float32Array | null = null;
  if (rs !== undefined && rs !== null) {
    const type = String(rs.rope_type ?? rs.type ?? "default");
    if (type === "llama3" && arch !== "llama") throw new ModelFileError(file, `rope_scaling type 'llama3' is only implemented for Llama models, not ${hfArchitecture}`);
    if (type === "llama3") ropeFreqs = llama3RopeFactors(num("rope_theta", 10000), Math.round(headDim * partial), rs);
    if (!ROPE_SCALING_SUPPORTED.includes(type)) {
      throw new ModelFileError(file, `rope_scaling type '${type}' is not implemented; supported: none, ${ROPE_SCALING_SUPPORTED.join(", ")}`);
    }
    if (type === "linear") {
      const f = rs.factor;
      if (typeof f !== "number" || !(f > 0)) throw new ModelFileError(file, `rope_scaling.factor must be a number > 0, got ${JSON.stringify(f)}`);
      md.set(k("rope.scaling.type"), "linear");
      md.set(k("rope.scaling.factor"), Math.fround(f));
    }
  }
  const sw = c.sliding_window;
  if (typeof sw === "number" && sw > 0) {
    // Mistral's window is kept (llama.cpp drops it); Gemma's layers alternate local/global; phi3's
    // is ignored, as llama.cpp disables Phi SWA; Qwen2's applies only with use_sliding_window.
    if (hfArchitecture === "MistralForCausalLM" || arch === "gemma2" || arch === "gemma3") md.set(k("attention.sliding_window"), sw);
    if (arch === "qwen2" && c.use_sliding_window === true) {
      throw new ModelFileError(file, "qwen2 use_sliding_window: true is not implemented (llama.cpp does not implement it either)");
    }
  }
  if (arch === "gemma2") {
    md.set(k("attn_logit_softcapping"), Math.fround(num("attn_logit_softcapping", 50)));
    md.set(k("final_logit_softcapping"), Math.fround(num("final_logit_softcapping", 30)));
  }
  if (arch === "gemma2" || arch === "gemma3") md.set(k("attention.query_pre_attn_scalar"), num("query_pre_attn_scalar", headDim));
  if (arch === "gemma3") {
    md.set(k("rope.freq_base_swa"), Math.fround(num("rope_local_base_freq", 10000)));
    md.set(k("attention.sliding_window_pattern"), num("sliding_window_pattern", 6));
    if (c.final_logit_softcapping !== undefined && c.final_logit_softcapping !== null) md.set(k("final_logit_softcapping"), Math.fround(num("final_logit_softcapping")));
    if (c.attn_logit_softcapping !== undefined && c.attn_logit_softcapping !== null) md.set(k("attn_logit_softcapping"), Math.fround(num("attn_logit_softcapping")));
  }
  const act = c.hidden_act ?? c.hidden_activation;
  const wantAct = arch === "gemma2" || arch === "gemma3" ? ["gelu_pytorch_tanh", "gelu"] : ["silu"];
  if (act !== undefined && !wantAct.includes(String(act))) {
    throw new ModelFileError(file, `hidden_act '${String(act)}' is not implemented for ${hfArchitecture}; supported: ${wantAct.join(", ")}`);
  }
  // Gemma always ties; others tie when config says so (else lm_head.weight, when present, is the output).
  const tied = arch === "gemma2" || arch === "gemma3" || c.tie_word_embeddings === true;
  return { hfArchitecture, architecture: arch, metadata: md, tiedEmbeddings: tied, ropeFreqs };
}
