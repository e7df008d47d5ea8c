/**
 * tokenizer_config.json (transformers' PreTrainedTokenizer settings): the special tokens by text,
 * whether BOS/EOS are added, and the chat template(s).
 */
export interface TokenizerConfig {
  bosToken?: string;
  eosToken?: string;
  unkToken?: string;
  addBosToken?: boolean;
  addEosToken?: boolean;
  /** The default chat template: the string, or the entry named "default" of a list. */
  chatTemplate?: string;
  /** Every named template of a list form (`[{name, template}]`), "default" included. */
  namedTemplates: Record<string, string>;
}

export class TokenizerConfigError extends Error {}

/** A special token given as a string or as an AddedToken object `{content: "..."}`. */
function tokenText(v: unknown, key: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "object" && !Array.isArray(v) && typeof (v as { content?: unknown }).content === "string") {
    return (v as { content: string }).content;
  }
  throw new TokenizerConfigError(`'${key}' should be a string, null or {"content": "..."}`);
}

function bool(v: unknown, key: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw new TokenizerConfigError(`'${key}' should be true or false`);
  return v;
}

export function readTokenizerConfig(raw: unknown): TokenizerConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new TokenizerConfigError("expected a JSON object");
  const o = raw as Record<string, unknown>;
  const cfg: TokenizerConfig = { namedTemplates: {} };
  const set = <K extends keyof TokenizerConfig>(k: K, v: TokenizerConfig[K] | undefined): void => {
    if (v !== undefined) cfg[k] = v;
  };
  set("bosToken", tokenText(o.bos_token, "bos_token"));
  set("eosToken", tokenText(o.eos_token, "eos_token"));
  set("unkToken", tokenText(o.unk_token, "unk_token"));
  set("addBosToken", bool(o.add_bos_token, "add_bos_token"));
  set("addEosToken", bool(o.add_eos_token, "add_eos_token"));
  const ct = o.chat_template;
  if (typeof ct === "string") cfg.chatTemplate = ct;
  else if (Array.isArray(ct)) {
    for (const [i, t] of ct.entries()) {
      if (typeof t !== "object" || t === null || typeof t.name !== "string" || typeof t.template !== "string") {
        throw new TokenizerConfigError(`'chat_template[${i}]' should be {"name": ..., "template": ...}`);
      }
      cfg.namedTemplates[t.name] = t.template;
    }
    const dflt = cfg.namedTemplates.default;
    if (dflt !== undefined) cfg.chatTemplate = dflt;
  } else if (ct !== undefined && ct !== null) {
    throw new TokenizerConfigError("'chat_template' should be a string or a list of {name, template}");
  }
  return cfg;
}
