import { RequestStatus, type Request } from "../request.ts";

/**
 * After one token was appended, decide whether the request is done (vLLM's check_stop, current order):
 * EOS (unless ignoreEos) or a stop token id -> FINISHED_STOPPED (stopReason = the stop token id);
 * then maxTokens or maxModelLen reached -> FINISHED_LENGTH_CAPPED. Sets status; returns true if done.
 * Stop strings are the output processor's job (they need detokenized text).
 */
export function checkStop(request: Request, maxModelLen: number): boolean {
  const params = request.samplingParams;
  const last = request.outputTokenIds[request.outputTokenIds.length - 1];
  if (last !== undefined) {
    if (!params.ignoreEos && request.eosTokenId !== null && last === request.eosTokenId) {
      request.status = RequestStatus.FINISHED_STOPPED;
      return true;
    }
    if (params.stopTokenIds.includes(last)) {
      request.status = RequestStatus.FINISHED_STOPPED;
      request.stopReason = last;
      return true;
    }
  }
  if (request.numTokens >= maxModelLen || request.numOutputTokens >= params.maxTokens) {
    request.status = RequestStatus.FINISHED_LENGTH_CAPPED;
    return true;
  }
  return false;
}
