import { RequestStatus, type Request } from "../../../src/core/request.ts";

/**
 * What a request generates when it runs alone, computed independently of the scheduler: tokens
 * sample(id, position) until EOS / a stop token (stop), or maxTokens / maxModelLen (length).
 */
export function expectedAlone(
  request: Request,
  sample: (requestId: string, position: number) => number,
  maxModelLen: number,
): { tokens: number[]; status: RequestStatus } {
  const p = request.samplingParams;
  const tokens: number[] = [];
  for (;;) {
    const t = sample(request.requestId, request.numPromptTokens + tokens.length);
    tokens.push(t);
    if (!p.ignoreEos && request.eosTokenId !== null && t === request.eosTokenId) return { tokens, status: RequestStatus.FINISHED_STOPPED };
    if (p.stopTokenIds.includes(t)) return { tokens, status: RequestStatus.FINISHED_STOPPED };
    if (request.numPromptTokens + tokens.length >= maxModelLen || tokens.length >= p.maxTokens) {
      return { tokens, status: RequestStatus.FINISHED_LENGTH_CAPPED };
    }
  }
}
