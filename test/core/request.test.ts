import { describe, expect, it } from "vitest";
import { finishReason, isFinished, Request, RequestStatus } from "../../src/core/request.ts";
import { makeSamplingParams } from "../../src/sampling/params.ts";

describe("Request", () => {
  it("tracks prompt, output and all token ids", () => {
    const prompt = [1, 2, 3];
    const r = new Request({ requestId: "a", promptTokenIds: prompt, samplingParams: makeSamplingParams({ maxTokens: 5 }) });
    prompt.push(4); // the request keeps its own copy
    expect(r.numTokens).toBe(3);
    r.appendOutputTokenIds([7, 8]);
    r.appendOutputTokenIds(9);
    expect(r.outputTokenIds).toEqual([7, 8, 9]);
    expect(r.allTokenIds).toEqual([1, 2, 3, 7, 8, 9]);
    expect(r.numOutputTokens).toBe(3);
    expect(r.numTokens).toBe(6);
    expect(r.promptTokenIds).toEqual([1, 2, 3]);
    expect(r.numCachedTokens).toBe(-1);
    expect(r.status).toBe(RequestStatus.WAITING);
    expect(r.priority).toBe(0);
    expect(r.eosTokenId).toBeNull();
    expect(r.maxTokens).toBe(5);
  });

  it("maps statuses to finish reasons as vLLM does", () => {
    expect(finishReason(RequestStatus.FINISHED_STOPPED)).toBe("stop");
    expect(finishReason(RequestStatus.FINISHED_LENGTH_CAPPED)).toBe("length");
    expect(finishReason(RequestStatus.FINISHED_IGNORED)).toBe("length");
    expect(finishReason(RequestStatus.FINISHED_ABORTED)).toBe("abort");
    for (const s of [RequestStatus.WAITING, RequestStatus.RUNNING, RequestStatus.PREEMPTED]) {
      expect(finishReason(s)).toBeNull();
      expect(isFinished(s)).toBe(false);
    }
    expect(isFinished(RequestStatus.FINISHED_ABORTED)).toBe(true);
  });
});
