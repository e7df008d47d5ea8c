import { UsageError } from "../util/errors.ts";

/** Per-request sampling parameters, named as in vLLM / the OpenAI API. */
export interface SamplingParams {
  /** 0 means greedy (argmax, ties to the lowest id). */
  temperature: number;
  /** 1 disables. */
  topP: number;
  /** 0 or -1 disables. */
  topK: number;
  /** 0 disables. */
  minP: number;
  /** 1 disables; >1 discourages tokens already in prompt or output (CTRL-style, as in vLLM). */
  repetitionPenalty: number;
  /** 0 disables; subtracted once from the logit of every token already generated. */
  presencePenalty: number;
  /** 0 disables; subtracted count times from the logit of every generated token. */
  frequencyPenalty: number;
  /** null: nondeterministic seed drawn per request. */
  seed: number | null;
  /** Maximum number of new tokens. */
  maxTokens: number;
  /** Strings that end generation; the stop string itself is not part of the output. */
  stop: string[];
  /** Token ids that end generation (in addition to EOS unless ignoreEos). */
  stopTokenIds: number[];
  ignoreEos: boolean;
  /** Number of samples for the prompt. */
  n: number;
  /** Log-probabilities per generated token: the sampled one plus this many top ones (0 = sampled only); null = none. */
  logprobs?: number | null;
  /** Token id → bias added to that logit before penalties and sampling (OpenAI logit_bias); null = none. */
  logitBias?: Readonly<Record<number, number>> | null;
}

export const DEFAULT_SAMPLING_PARAMS: Readonly<SamplingParams> = Object.freeze({
  temperature: 1.0,
  topP: 1.0,
  topK: 0,
  minP: 0,
  repetitionPenalty: 1.0,
  presencePenalty: 0,
  frequencyPenalty: 0,
  seed: null,
  maxTokens: 256,
  stop: [],
  stopTokenIds: [],
  ignoreEos: false,
  n: 1,
  logprobs: null,
  logitBias: null,
});

/** Fill defaults and check ranges; throws UsageError naming the parameter and what is accepted. */
export function makeSamplingParams(p: Partial<SamplingParams> = {}, base: Readonly<SamplingParams> = DEFAULT_SAMPLING_PARAMS): SamplingParams {
  const s: SamplingParams = { ...base, ...dropUndefined(p), stop: [...(p.stop ?? base.stop)], stopTokenIds: [...(p.stopTokenIds ?? base.stopTokenIds)] };
  const bad = (name: string, accepted: string, v: unknown) => {
    throw new UsageError(`invalid ${name} ${JSON.stringify(v)}; accepted: ${accepted}`);
  };
  if (!Number.isFinite(s.temperature) || s.temperature < 0) bad("temperature", "a number >= 0 (0 = greedy)", s.temperature);
  if (!Number.isFinite(s.topP) || s.topP <= 0 || s.topP > 1) bad("top_p", "a number in (0, 1]", s.topP);
  if (!Number.isInteger(s.topK) || s.topK < -1) bad("top_k", "an integer >= -1 (0 or -1 = off)", s.topK);
  if (!Number.isFinite(s.minP) || s.minP < 0 || s.minP > 1) bad("min_p", "a number in [0, 1]", s.minP);
  if (!Number.isFinite(s.repetitionPenalty) || s.repetitionPenalty <= 0) bad("repetition_penalty", "a number > 0 (1 = off)", s.repetitionPenalty);
  if (!Number.isFinite(s.presencePenalty) || Math.abs(s.presencePenalty) > 2) bad("presence_penalty", "a number in [-2, 2]", s.presencePenalty);
  if (!Number.isFinite(s.frequencyPenalty) || Math.abs(s.frequencyPenalty) > 2) bad("frequency_penalty", "a number in [-2, 2]", s.frequencyPenalty);
  if (s.seed !== null && (!Number.isSafeInteger(s.seed))) bad("seed", "an integer", s.seed);
  if (!Number.isInteger(s.maxTokens) || s.maxTokens < 1) bad("max_tokens", "an integer >= 1", s.maxTokens);
  if (!Number.isInteger(s.n) || s.n < 1 || s.n > 128) bad("n", "an integer in [1, 128]", s.n);
  if (s.logprobs != null && (!Number.isInteger(s.logprobs) || s.logprobs < 0)) bad("logprobs", "an integer >= 0, or null", s.logprobs);
  for (const [id, b] of Object.entries(s.logitBias ?? {})) {
    if (!/^\d+$/.test(id) || !Number.isFinite(b)) bad("logit_bias", "token id → finite number", { [id]: b });
  }
  for (const st of s.stop) if (typeof st !== "string" || st.length === 0) bad("stop", "non-empty strings", st);
  return s;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}
