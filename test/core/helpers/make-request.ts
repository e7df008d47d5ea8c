import { Request } from "../../../src/core/request.ts";
import { makeSamplingParams, type SamplingParams } from "../../../src/sampling/params.ts";

export interface MakeRequestOptions extends Partial<SamplingParams> {
  eosTokenId?: number | null;
  priority?: number;
  arrivalTime?: number;
  cacheSalt?: string;
}

/** A Request with test-friendly defaults (arrivalTime 0, no EOS). */
export function makeRequest(requestId: string, promptTokenIds: readonly number[], opts: MakeRequestOptions = {}): Request {
  const { eosTokenId = null, priority = 0, arrivalTime = 0, cacheSalt, ...params } = opts;
  return new Request({
    requestId,
    promptTokenIds,
    samplingParams: makeSamplingParams(params),
    eosTokenId,
    priority,
    arrivalTime,
    ...(cacheSalt !== undefined ? { cacheSalt } : {}),
  });
}

/** n copies of each value in `values`: blockOf([0, 1], 16) is 16 zeros then 16 ones. */
export function repeatEach(values: readonly number[], n: number): number[] {
  return values.flatMap((v) => Array.from({ length: n }, () => v));
}
