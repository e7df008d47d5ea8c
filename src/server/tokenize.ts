import type { ServerContext } from "./context.ts";
import { readJsonBody } from "./body.ts";
import { chatPromptIds } from "./chat-completions.ts";
import { badRequest } from "./errors.ts";
import type { ServerCtx } from "./env.ts";
import { optBool, optIdList, optString } from "./fields.ts";
import { tokenText } from "./logprobs-format.ts";
import { checkModel } from "./request-params.ts";

/**
 * POST /tokenize (vLLM's shape): {prompt, add_special_tokens = true} or {messages,
 * add_generation_prompt = true} (rendered with the chat template, as /v1/chat/completions does);
 * `return_token_strs` adds the tokens' text. Answers {count, max_model_len, tokens, token_strs}.
 */
export async function tokenizeHandler(c: ServerCtx, ctx: ServerContext): Promise<Response> {
  const b = await readJsonBody(c.req.raw, ctx.maxBodyBytes);
  checkModel(b, ctx);
  const tok = ctx.engine.tokenizer;
  let tokens: number[];
  if (b["messages"] !== undefined) {
    tokens = chatPromptIds(ctx, b);
  } else {
    const prompt = optString(b, "prompt");
    if (prompt === undefined) throw badRequest("'prompt' (a string) or 'messages' is required", "prompt", "missing_required_parameter");
    tokens = tok.encode(prompt, { addSpecial: optBool(b, "add_special_tokens") ?? true });
  }
  const strs = optBool(b, "return_token_strs") ?? false;
  return c.json({ count: tokens.length, max_model_len: ctx.maxModelLen, tokens, token_strs: strs ? tokens.map((id) => tokenText(tok, id)) : null });
}

/** POST /detokenize: {tokens: [ids]} → {prompt: text}. */
export async function detokenizeHandler(c: ServerCtx, ctx: ServerContext): Promise<Response> {
  const b = await readJsonBody(c.req.raw, ctx.maxBodyBytes);
  checkModel(b, ctx);
  const tokens = optIdList(b, "tokens", ctx.vocabSize);
  if (tokens === undefined) throw badRequest("'tokens' (an array of token ids) is required", "tokens", "missing_required_parameter");
  const tok = ctx.engine.tokenizer;
  // As Hugging Face's decode: no SentencePiece dummy-prefix space at the start, after BOS or not.
  return c.json({ prompt: tok.decode(tokens, { leadingSpace: tokens[0] === tok.bosId ? "after-bos" : "first" }) });
}
