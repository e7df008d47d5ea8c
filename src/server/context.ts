import type { AsyncLLM } from "../engine/async-llm.ts";
import type { LLMEngine } from "../engine/llm-engine.ts";
import type { SamplingParams } from "../sampling/params.ts";
import type { ChatTemplate } from "./chat-template.ts";
import { Inflight } from "./inflight.ts";
import { ServerMetrics } from "./metrics.ts";

/** Server settings (the `llm serve` flags that reach the HTTP layer). */
export interface ServeOptions {
  /** The name clients pass as `model` (the models.yaml id by default). */
  modelName: string;
  /** Bearer token required on /v1/* routes; undefined: none. */
  apiKey?: string;
  /** Answer 429 when this many sequences would be waiting (default: no limit). */
  maxWaiting?: number;
  /** Largest request body accepted, in bytes (413 beyond it). */
  maxBodyBytes?: number;
  /** Sampling defaults under the request's own values (the model's models.yaml `sampling`). */
  defaults?: Partial<SamplingParams>;
  /** One line per request; default: stderr. */
  log?: ((line: string) => void) | null;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Everything a handler needs: the shared engine, the template, metrics, in-flight requests. */
export class ServerContext {
  readonly metrics: ServerMetrics;
  readonly inflight = new Inflight();
  shuttingDown = false;

  constructor(
    readonly llm: AsyncLLM,
    readonly chatTemplate: ChatTemplate,
    readonly opts: ServeOptions,
  ) {
    this.metrics = new ServerMetrics(opts.modelName);
  }

  get engine(): LLMEngine {
    return this.llm.engine;
  }

  get maxModelLen(): number {
    return this.engine.maxModelLen;
  }

  get vocabSize(): number {
    return this.engine.tokenizer.vocabSize;
  }

  get maxBodyBytes(): number {
    return this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  }
}
