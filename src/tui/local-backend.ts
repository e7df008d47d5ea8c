import { AsyncLLM } from "../engine/async-llm.ts";
import type { LLMEngine } from "../engine/llm-engine.ts";
import { makeSamplingParams, type SamplingParams } from "../sampling/params.ts";
import { encodeChatPrompt, type ChatTemplate } from "../server/chat-template.ts";
import { ContextOverflowError, type BackendStats, type ChatBackend, type ChatMessage, type ReplyEvent, type ReplyStream } from "./backend.ts";

/** Turn markers that end a reply when the template uses them (a model may write the next turn itself). */
const TURN_MARKERS = ["<|im_end|>", "<|im_start|>"];

/**
 * The chat backend over the in-process engine: messages → chat template → prompt ids → AsyncLLM
 * (delta outputs). The reply's max_tokens is capped to the room left in the context; a
 * conversation that leaves less than min(max_tokens, a quarter of the context) is refused with
 * ContextOverflowError so the session can drop old turns.
 */
export class LocalChatBackend implements ChatBackend {
  readonly where = "local";
  readonly llm: AsyncLLM;
  private readonly stopMarkers: string[];

  constructor(
    readonly engine: LLMEngine,
    readonly template: ChatTemplate,
    readonly model: string,
    /** Defaults under the session's parameters (models.yaml sampling, built-in defaults under that). */
    private readonly defaults: Partial<SamplingParams> = {},
  ) {
    this.llm = new AsyncLLM(engine);
    this.stopMarkers = TURN_MARKERS.filter((m) => template.source.includes(m));
  }

  get maxContext(): number {
    return this.engine.maxModelLen;
  }

  effectiveParams(overrides: Partial<SamplingParams>): SamplingParams {
    return makeSamplingParams({ ...this.defaults, ...stripUndefined(overrides) });
  }

  /** The prompt ids for these messages, with the generation prompt. */
  promptIds(messages: readonly ChatMessage[]): number[] {
    return encodeChatPrompt(this.engine.tokenizer, this.template.render(messages, true));
  }

  reply(messages: readonly ChatMessage[], params: Partial<SamplingParams>): ReplyStream {
    const sp = this.effectiveParams(params);
    const ids = this.promptIds(messages);
    const limit = this.engine.maxModelLen;
    const room = limit - ids.length;
    const reserve = Math.max(1, Math.min(sp.maxTokens, Math.floor(limit / 4)));
    if (room < reserve) {
      throw new ContextOverflowError(`the conversation has ${ids.length} tokens, which leaves ${Math.max(0, room)} of the ${limit}-token context (need ${reserve})`);
    }
    const stream = this.llm.addRequest(ids, {
      ...sp, maxTokens: Math.min(sp.maxTokens, room), stop: [...new Set([...sp.stop, ...this.stopMarkers])],
    }, { outputKind: "delta" });
    const llm = this.llm;
    async function* events(): AsyncGenerator<ReplyEvent> {
      let completion = 0;
      let finish = "abort";
      let cached: number | null = null;
      for await (const out of stream) {
        cached = out.metrics.numCachedTokens;
        const c = out.outputs[0];
        if (!c) continue;
        completion += c.tokenIds.length;
        if (c.text !== "" || c.tokenIds.length > 0) yield { type: "delta", text: c.text, tokens: c.tokenIds.length };
        if (c.finishReason) finish = c.finishReason;
      }
      yield { type: "end", finishReason: finish, promptTokens: ids.length, completionTokens: completion, cachedTokens: cached };
    }
    const it = events();
    return {
      promptTokens: ids.length,
      abort: () => llm.abort(stream.requestId),
      [Symbol.asyncIterator]: () => it,
    };
  }

  async stats(): Promise<BackendStats> {
    const s = this.engine.stats();
    return {
      kvCacheUsage: s.kvCacheUsage, prefixCacheHitRate: s.prefixCacheHitRate,
      numRunning: s.numRunning, numWaiting: s.numWaiting,
      extra: {
        "KV blocks": `${s.numBlocks} of ${this.engine.args.blockSize} tokens`,
        "prefix cache": `${s.prefixCacheHits} hits / ${s.prefixCacheQueries} queried tokens`,
        preemptions: s.numPreemptions,
        "chat template": this.template.origin,
      },
    };
  }

  async close(): Promise<void> {
    await this.llm.shutdown();
  }
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
