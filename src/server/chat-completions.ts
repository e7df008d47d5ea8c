import { randomUUID } from "node:crypto";
import type { ServerContext } from "./context.ts";
import { readJsonBody } from "./body.ts";
import { parseMessages } from "./chat-messages.ts";
import { encodeChatPrompt } from "./chat-template.ts";
import { ChoiceCollector } from "./choices.ts";
import { badRequest } from "./errors.ts";
import { deferred, linkedAbort, type ServerCtx } from "./env.ts";
import { optBool, optNumber, type Body } from "./fields.ts";
import { admit, startGenerations } from "./generate.ts";
import { chatLogprobs } from "./logprobs-format.ts";
import { parseCommon, resolveMaxTokens } from "./request-params.ts";
import { sseResponse } from "./sse.ts";

/** `logprobs: bool` and `top_logprobs: 0..20` (which needs logprobs true). Returns the number of top tokens, or undefined for none. */
function parseChatLogprobs(b: Body): number | undefined {
  const want = optBool(b, "logprobs") ?? false;
  const top = optNumber(b, "top_logprobs", { integer: true, min: 0, max: 20 });
  if (top !== undefined && !want) throw badRequest("'top_logprobs' requires 'logprobs' to be true", "top_logprobs", "invalid_value");
  return want ? top ?? 0 : undefined;
}

/** The prompt ids for a chat request: the template rendered over the messages, tokenized. */
export function chatPromptIds(ctx: ServerContext, b: Body): number[] {
  const messages = parseMessages(b["messages"]);
  const addGenerationPrompt = optBool(b, "add_generation_prompt") ?? true;
  return encodeChatPrompt(ctx.engine.tokenizer, ctx.chatTemplate.render(messages, addGenerationPrompt));
}

/** POST /v1/chat/completions. */
export async function chatCompletionsHandler(c: ServerCtx, ctx: ServerContext): Promise<Response> {
  const log = c.get("log");
  const b = await readJsonBody(c.req.raw, ctx.maxBodyBytes);
  const common = parseCommon(b, ctx, "chat");
  const numTop = parseChatLogprobs(b);
  if (Array.isArray(b["tools"]) && b["tools"].length > 0) throw badRequest("'tools' (function calling) is not supported", "tools", "unsupported_value");
  const promptIds = chatPromptIds(ctx, b);
  const maxTokens = resolveMaxTokens(ctx, promptIds.length, common.maxTokens, "messages");
  admit(ctx, common.n);
  const id = `chatcmpl-${randomUUID().replaceAll("-", "")}`;
  const created = Math.floor(Date.now() / 1000);
  const collector = new ChoiceCollector(common.n);
  collector.promptTokens = promptIds.length;
  log.promptTokens = promptIds.length;
  log.stream = common.stream;
  const ac = linkedAbort(c.req.raw);
  const [outputs] = startGenerations(ctx, [{
    requestId: id, promptIds, arrivalMs: log.arrivalMs, params: { ...common.params, maxTokens, logprobs: numTop ?? null },
  }], ac.signal);
  const tok = ctx.engine.tokenizer;
  const base = { id, object: "chat.completion.chunk", created, model: common.model };
  const finishLog = () => {
    log.completionTokens = collector.completionTokens;
    log.finishReasons = collector.sorted().map(([, s]) => s.finishReason ?? "abort");
  };

  if (common.stream) {
    const d = deferred();
    log.done = d.promise;
    return sseResponse(async (send) => {
      for (let i = 0; i < common.n; i++) {
        send({ ...base, choices: [{ index: i, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }] });
      }
      for await (const out of outputs!) {
        for (const o of out.outputs) {
          const { index } = collector.add(0, o);
          if (o.text === "" && o.tokenIds.length === 0 && o.finishReason === null) continue;
          send({ ...base, choices: [{
            index, delta: o.text === "" ? {} : { content: o.text },
            logprobs: numTop !== undefined ? chatLogprobs(tok, o.logprobs ?? [], numTop) : null,
            finish_reason: o.finishReason, stop_reason: o.stopReason,
          }] });
        }
      }
      if (common.includeUsage) send({ ...base, choices: [], usage: collector.usage() });
    }, () => ac.abort(), () => { finishLog(); d.resolve(); });
  }

  for await (const out of outputs!) for (const o of out.outputs) collector.add(0, o);
  finishLog();
  return c.json({
    ...base,
    object: "chat.completion",
    choices: collector.sorted().map(([index, s]) => ({
      index, message: { role: "assistant", content: s.text },
      logprobs: numTop !== undefined ? chatLogprobs(tok, s.logprobs, numTop) : null,
      finish_reason: s.finishReason, stop_reason: s.stopReason,
    })),
    usage: collector.usage(),
  });
}
