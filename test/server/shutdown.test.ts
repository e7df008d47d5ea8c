import { describe, expect, it } from "vitest";
import { readSse, spawnServer } from "./helpers.ts";

describe("graceful shutdown", () => {
  for (const signal of ["SIGTERM"] as const) {
    it(`${signal} during a stream: the stream ends cleanly ([DONE]), new connections are refused, exit 0`, async () => {
      const s = await spawnServer(["stories260k"]);
      const res = await fetch(`${s.url}/v1/chat/completions`, {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "Tell me a long story" }], max_tokens: 400, ignore_eos: true, stream: true }),
      });
      expect(res.status).toBe(200);
      let sent = false;
      const { events, done } = await readSse(res, (_, i) => {
        if (i === 3 && !sent) {
          sent = true;
          s.proc.kill(signal);
        }
      });
      expect(sent).toBe(true);
      expect(done).toBe(true);
      const finishes = events.flatMap((e) => e.choices).map((c: any) => c.finish_reason).filter((f: any) => f);
      expect(finishes).toEqual(["abort"]);
      expect(await s.exited).toBe(0);
      expect(s.stderr()).toContain(`llm serve: ${signal}: shutting down (in-flight requests: 1)`);
      expect(s.stderr()).toMatch(/llm serve: POST \/v1\/chat\/completions 200 [\d.]+ms stream prompt_tokens=\d+ completion_tokens=\d+ finish=abort/);
      expect(s.stderr()).toContain("llm serve: stopped");
      await expect(fetch(`${s.url}/health`)).rejects.toThrow();
    });
  }

  it("SIGINT with --shutdown-timeout lets in-flight requests finish; LLM_API_KEY is honoured", async () => {
    const s = await spawnServer(["stories260k", "--shutdown-timeout", "30"], { LLM_API_KEY: "k" });
    const res = await fetch(`${s.url}/v1/completions`, {
      method: "POST", headers: { "content-type": "application/json", authorization: "Bearer k" },
      body: JSON.stringify({ prompt: "Once upon a time", max_tokens: 40, ignore_eos: true, stream: true }),
    });
    expect(res.status).toBe(200);
    let sent = false;
    const { events, done } = await readSse(res, () => {
      if (!sent) {
        sent = true;
        s.proc.kill("SIGINT");
      }
    });
    expect(done).toBe(true);
    expect(events.flatMap((e) => e.choices).filter((c: any) => c.finish_reason).map((c: any) => c.finish_reason)).toEqual(["length"]);
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toContain("llm serve: SIGINT: shutting down (in-flight requests: 1)");
  });
});
