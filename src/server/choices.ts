import type { CompletionOutput, PositionLogprobs } from "../engine/request-output.ts";

/** One choice's running state while a request streams in. */
export interface ChoiceState {
  text: string;
  numTokens: number;
  logprobs: PositionLogprobs[];
  finishReason: string | null;
  stopReason: string | number | null;
}

/**
 * Collects delta outputs into OpenAI choices (index = prompt index * n + sample index) and counts
 * usage: prompt tokens once per prompt, completion tokens over every choice.
 */
export class ChoiceCollector {
  readonly choices = new Map<number, ChoiceState>();
  promptTokens = 0;
  completionTokens = 0;

  constructor(readonly n: number) {}

  choiceIndex(promptIndex: number, o: CompletionOutput): number {
    return promptIndex * this.n + o.index;
  }

  /** Add one delta; returns the choice state before the delta was added (for offsets) and its index. */
  add(promptIndex: number, o: CompletionOutput): { index: number; textBefore: number } {
    const index = this.choiceIndex(promptIndex, o);
    let c = this.choices.get(index);
    if (!c) this.choices.set(index, (c = { text: "", numTokens: 0, logprobs: [], finishReason: null, stopReason: null }));
    const textBefore = c.text.length;
    c.text += o.text;
    c.numTokens += o.tokenIds.length;
    this.completionTokens += o.tokenIds.length;
    if (o.logprobs) c.logprobs.push(...o.logprobs);
    if (o.finishReason !== null) {
      c.finishReason = o.finishReason;
      c.stopReason = o.stopReason;
    }
    return { index, textBefore };
  }

  /** Choices in index order. */
  sorted(): [number, ChoiceState][] {
    return [...this.choices].sort((a, b) => a[0] - b[0]);
  }

  usage(): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
    return { prompt_tokens: this.promptTokens, completion_tokens: this.completionTokens, total_tokens: this.promptTokens + this.completionTokens };
  }
}
