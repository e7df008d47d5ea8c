import type { SamplingParams } from "../sampling/params.ts";
import { ApiError, badRequest } from "./errors.ts";
import { optBool, optIdList, optLogitBias, optNumber, optObject, optStop, optString, type Body } from "./fields.ts";
import type { ServerContext } from "./context.ts";

/** What /v1/completions and /v1/chat/completions share: the model check, streaming, n and sampling. */
export interface CommonRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  n: number;
  /** Sampling parameters without maxTokens (that needs the prompt length: see resolveMaxTokens). */
  params: Partial<SamplingParams>;
  /** max_completion_tokens or max_tokens as given. */
  maxTokens: number | undefined;
}

/** The requested model must be the one served (absent: it is). */
export function checkModel(b: Body, ctx: ServerContext): string {
  const model = optString(b, "model");
  if (model !== undefined && model !== ctx.opts.modelName) {
    throw new ApiError(404, `The model '${model}' does not exist; this server serves '${ctx.opts.modelName}'.`, "invalid_request_error", "model", "model_not_found");
  }
  return ctx.opts.modelName;
}

export function parseCommon(b: Body, ctx: ServerContext, kind: "chat" | "completions"): CommonRequest {
  const model = checkModel(b, ctx);
  const stream = optBool(b, "stream") ?? false;
  const streamOptions = optObject(b, "stream_options");
  if (streamOptions && !stream) throw badRequest("'stream_options' is only allowed when 'stream' is true", "stream_options", "invalid_value");
  const includeUsage = streamOptions ? optBool(streamOptions, "include_usage") ?? false : false;
  const n = optNumber(b, "n", { integer: true, min: 1, max: 128 }) ?? 1;
  const bestOf = optNumber(b, "best_of", { integer: true, min: 1 });
  if (bestOf !== undefined && bestOf !== n) throw badRequest("'best_of' other than n is not supported", "best_of", "unsupported_value");
  const format = optObject(b, "response_format");
  if (format && format["type"] !== "text") {
    throw badRequest(`response_format type ${JSON.stringify(format["type"])} is not supported; accepted: "text"`, "response_format", "unsupported_value");
  }
  const maxTokens = (kind === "chat" ? optNumber(b, "max_completion_tokens", { integer: true, min: 1 }) : undefined) ?? optNumber(b, "max_tokens", { integer: true, min: 1 });
  const vocab = ctx.vocabSize;
  const raw: Partial<SamplingParams> = {
    temperature: optNumber(b, "temperature", { min: 0, max: 2 }),
    topP: optNumber(b, "top_p", { above: 0, max: 1 }),
    topK: optNumber(b, "top_k", { integer: true, min: -1 }),
    minP: optNumber(b, "min_p", { min: 0, max: 1 }),
    presencePenalty: optNumber(b, "presence_penalty", { min: -2, max: 2 }),
    frequencyPenalty: optNumber(b, "frequency_penalty", { min: -2, max: 2 }),
    repetitionPenalty: optNumber(b, "repetition_penalty", { above: 0, max: 2 }),
    seed: optNumber(b, "seed", { integer: true }),
    stop: optStop(b),
    stopTokenIds: optIdList(b, "stop_token_ids", vocab),
    ignoreEos: optBool(b, "ignore_eos"),
    logitBias: optLogitBias(b, vocab),
    n,
  };
  const params: Partial<SamplingParams> = { ...ctx.opts.defaults };
  delete params.maxTokens;
  for (const [k, v] of Object.entries(raw)) if (v !== undefined) (params as Record<string, unknown>)[k] = v;
  return { model, stream, includeUsage, n, params, maxTokens };
}

/**
 * max_tokens for a prompt of `promptLen` tokens: the request's own, else the model's default
 * capped to the room left, else the room left. Never truncates: a prompt that fills the context,
 * or a max_tokens past it, is a 400 with the numbers.
 */
export function resolveMaxTokens(ctx: ServerContext, promptLen: number, requested: number | undefined, promptParam: "prompt" | "messages"): number {
  const limit = ctx.maxModelLen;
  const what = promptParam === "messages" ? "messages" : "prompt";
  if (promptLen >= limit) {
    throw badRequest(`This model's maximum context length is ${limit} tokens. However, your ${what} ${promptParam === "messages" ? "have" : "has"} ${promptLen} tokens, which leaves no room for a completion. Please reduce the length of the ${what}.`,
      promptParam, "context_length_exceeded");
  }
  const room = limit - promptLen;
  if (requested === undefined) return Math.min(ctx.opts.defaults?.maxTokens ?? room, room);
  if (requested > room) {
    throw badRequest(`This model's maximum context length is ${limit} tokens. However, you requested ${promptLen + requested} tokens (${promptLen} in the ${what}, ${requested} in the completion). Please reduce the length of the ${what} or completion.`,
      "max_tokens", "context_length_exceeded");
  }
  return requested;
}
