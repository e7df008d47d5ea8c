/**
 * Hugging Face tensor names → GGUF tensor names, as llama.cpp's converter (gguf-py
 * tensor_mapping.py) maps them for the architectures we load. Returns null for names that carry no
 * weights we need (rotary_emb.inv_freq buffers) and undefined for names we do not know.
 */
const LAYER_NAMES: Readonly<Record<string, string>> = {
  "input_layernorm.weight": "attn_norm.weight",
  "self_attn.q_proj.weight": "attn_q.weight",
  "self_attn.k_proj.weight": "attn_k.weight",
  "self_attn.v_proj.weight": "attn_v.weight",
  "self_attn.q_proj.bias": "attn_q.bias",
  "self_attn.k_proj.bias": "attn_k.bias",
  "self_attn.v_proj.bias": "attn_v.bias",
  "self_attn.o_proj.weight": "attn_output.weight",
  "self_attn.qkv_proj.weight": "attn_qkv.weight",
  "self_attn.q_norm.weight": "attn_q_norm.weight",
  "self_attn.k_norm.weight": "attn_k_norm.weight",
  "mlp.gate_proj.weight": "ffn_gate.weight",
  "mlp.up_proj.weight": "ffn_up.weight",
  "mlp.down_proj.weight": "ffn_down.weight",
  "mlp.gate_up_proj.weight": "ffn_up.weight",
  "pre_feedforward_layernorm.weight": "ffn_norm.weight",
  "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
};

const GLOBAL_NAMES: Readonly<Record<string, string>> = {
  "model.embed_tokens.weight": "token_embd.weight",
  "model.norm.weight": "output_norm.weight",
  "lm_head.weight": "output.weight",
};

const LAYER_RE = /^model\.layers\.(\d+)\.(.+)$/;

export function ggufTensorName(hfName: string, architecture: string): string | null | undefined {
  if (hfName.endsWith(".rotary_emb.inv_freq")) return null;
  const g = GLOBAL_NAMES[hfName];
  if (g) return g;
  const m = LAYER_RE.exec(hfName);
  if (!m) return undefined;
  const [, layer, rest] = m as unknown as [string, string, string];
  // Gemma 2/3 norm the attention output (post_attention_layernorm) and have a separate pre-FFN norm.
  if (rest === "post_attention_layernorm.weight") {
    return `blk.${layer}.${architecture === "gemma2" || architecture === "gemma3" ? "post_attention_norm.weight" : "ffn_norm.weight"}`;
  }
  const l = LAYER_NAMES[rest];
  return l === undefined ? undefined : `blk.${layer}.${l}`;
}
