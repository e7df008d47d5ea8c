import { UsageError } from "../../util/errors.ts";
import { RequestStatus, type Request } from "../request.ts";

/**
 * Reject what the scheduler could never serve, with a message the user can act on. A prompt needs
 * room for at least one generated token, so it may hold at most maxModelLen - 1 tokens; it is never
 * truncated silently.
 */
export function validateNewRequest(request: Request, maxModelLen: number): void {
  const n = request.numPromptTokens;
  if (n === 0) throw new UsageError(`request ${request.requestId}: the prompt is empty; at least one token is needed`);
  if (n > maxModelLen) {
    throw new UsageError(`prompt has ${n} tokens, more than max_model_len ${maxModelLen}; shorten the prompt or raise --max-model-len`);
  }
  if (n === maxModelLen) {
    throw new UsageError(
      `prompt has ${n} tokens, as many as max_model_len ${maxModelLen}, leaving no room for a generated token; ` +
        `shorten the prompt to at most ${maxModelLen - 1} tokens or raise --max-model-len`,
    );
  }
  for (let i = 0; i < n; i++) {
    const t = request.promptTokenIds[i]!;
    if (!Number.isInteger(t) || t < 0 || t > 0xffffffff) {
      throw new UsageError(`request ${request.requestId}: prompt token ${i} is ${t}; token ids are non-negative integers`);
    }
  }
  if (request.status !== RequestStatus.WAITING || request.numComputedTokens !== 0 || request.numOutputTokens !== 0) {
    throw new Error(`request ${request.requestId} was already scheduled (status ${request.status}); add a fresh Request`);
  }
}
