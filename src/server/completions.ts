import { randomUUID } from "node:crypto";
import type { ServerContext } from "./context.ts";
import { readJsonBody } from "./body.ts";
import { ChoiceCollector } from "./choices.ts";
import { badRequest } from "./errors.ts";
import { deferred, linkedAbort, type ServerCtx } from "./env.ts";
import { optBool, optNumber, type Body } from "./fields.ts";
import { admit, merge, startGenerations, type GenerationRequest } from "./generate.ts";
import { completionLogprobs } from "./logprobs-format.ts";
import { parseCommon, resolveMaxTokens } from "./request-params.ts";
import { sseResponse } from "./sse.ts";

const isIdList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number");

/** `prompt`: a string, a list of token ids, or a batch (list) of either. */
export function parsePrompts(b: Body, vocabSize: number): (string | number[])[] {
  const p = b["prompt"];
  if (p === undefined || p === null) throw badRequest("'prompt' is required", "prompt", "missing_required_parameter");
  let list: unknown[];
  if (typeof p === "string" || isIdList(p)) list = [p];
  else if (Array.isArray(p) && p.length > 0) list = p;
  else throw badRequest("Invalid type for 'prompt': expected a string, an array of token ids, or a non-empty array of those", "prompt", "invalid_type");
  return list.map((x) => {
    if (typeof x === "string") return x;
    if (!isIdList(x)) throw badRequest("Invalid type for 'prompt': expected a string, an array of token ids, or a non-empty array of those", "prompt", "invalid_type");
    const bad = x.find((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
    if (bad !== undefined) throw badRequest(`prompt token id ${bad} is outside the vocabulary [0, ${vocabSize - 1}]`, "prompt", "invalid_value");
    return x;
  });
}

/** POST /v1/completions (OpenAI's legacy completions, with vLLM's extensions: top_k, min_p, ignore_eos, ...). */
export async function completionsHandler(c: ServerCtx, ctx: ServerContext): Promise<Response> {
  const log = c.get("log");
  const b = await readJsonBody(c.req.raw, ctx.maxBodyBytes);
  const common = parseCommon(b, ctx, "completions");
  if (optBool(b, "echo")) throw badRequest("'echo' is not supported", "echo", "unsupported_value");
  if (b["suffix"] !== undefined && b["suffix"] !== null) throw badRequest("'suffix' is not supported", "suffix", "unsupported_value");
  const numTop = optNumber(b, "logprobs", { integer: true, min: 0, max: 20 });
  const prompts = parsePrompts(b, ctx.vocabSize).map((p) => (typeof p === "string" ? ctx.engine.encodePrompt(p) : p.slice()));
  const id = `cmpl-${randomUUID().replaceAll("-", "")}`;
  const gens: GenerationRequest[] = prompts.map((promptIds, i) => ({
    requestId: prompts.length === 1 ? id : `${id}-${i}`, promptIds, arrivalMs: log.arrivalMs,
    params: { ...common.params, maxTokens: resolveMaxTokens(ctx, promptIds.length, common.maxTokens, "prompt"), logprobs: numTop ?? null },
  }));
  admit(ctx, prompts.length * common.n);
  const created = Math.floor(Date.now() / 1000);
  const collector = new ChoiceCollector(common.n);
  collector.promptTokens = prompts.reduce((s, p) => s + p.length, 0);
  log.promptTokens = collector.promptTokens;
  log.stream = common.stream;
  const ac = linkedAbort(c.req.raw);
  const streams = startGenerations(ctx, gens, ac.signal);
  const tok = ctx.engine.tokenizer;
  const base = { id, object: "text_completion", created, model: common.model };
  const finishLog = () => {
    log.completionTokens = collector.completionTokens;
    log.finishReasons = collector.sorted().map(([, s]) => s.finishReason ?? "abort");
  };

  if (common.stream) {
    const d = deferred();
    log.done = d.promise;
    return sseResponse(async (send) => {
      for await (const [pi, out] of merge(streams)) {
        for (const o of out.outputs) {
          const { index, textBefore } = collector.add(pi, o);
          if (o.text === "" && o.tokenIds.length === 0 && o.finishReason === null) continue;
          send({ ...base, choices: [{
            index, text: o.text, logprobs: numTop !== undefined ? completionLogprobs(tok, o.logprobs ?? [], textBefore) : null,
            finish_reason: o.finishReason, stop_reason: o.stopReason,
          }] });
        }
      }
      if (common.includeUsage) send({ ...base, choices: [], usage: collector.usage() });
    }, () => ac.abort(), () => { finishLog(); d.resolve(); });
  }

  for await (const [pi, out] of merge(streams)) for (const o of out.outputs) collector.add(pi, o);
  finishLog();
  return c.json({
    ...base,
    choices: collector.sorted().map(([index, s]) => ({
      index, text: s.text, logprobs: numTop !== undefined ? completionLogprobs(tok, s.logprobs, 0) : null,
      finish_reason: s.finishReason, stop_reason: s.stopReason,
    })),
    usage: collector.usage(),
  });
}
