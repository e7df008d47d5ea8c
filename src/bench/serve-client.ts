/** Timings of one streamed completion request, as a serving benchmark client sees them. */
export interface StreamTiming {
  ok: boolean;
  error?: string;
  /** ms from sending the request to the first content chunk. */
  ttftMs: number | null;
  /** ms between successive content chunks. */
  itlsMs: number[];
  e2eMs: number;
  promptTokens: number;
  outputTokens: number;
}

/** Split an SSE byte stream into its `data:` payloads. */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const dec = new TextDecoder();
  const reader = body.getReader();
  let buf = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut: number;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const event = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (data) yield data;
    }
  }
}

/**
 * POST a streaming request (stream_options.include_usage) to `url` and time it: TTFT at the first
 * chunk that carries a choice, one inter-token latency per later chunk, token counts from usage.
 */
export async function timeStreamingRequest(url: string, body: object, headers: Record<string, string>): Promise<StreamTiming> {
  const t0 = performance.now();
  const r: StreamTiming = { ok: false, ttftMs: null, itlsMs: [], e2eMs: 0, promptTokens: 0, outputTokens: 0 };
  try {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }) });
    if (!res.ok || !res.body) {
      r.error = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
      return r;
    }
    let last = t0;
    for await (const data of sseData(res.body)) {
      if (data === "[DONE]") {
        r.ok = true;
        break;
      }
      const chunk = JSON.parse(data) as { choices?: unknown[]; usage?: { prompt_tokens: number; completion_tokens: number }; error?: { message: string } };
      const now = performance.now();
      if (chunk.error) r.error = chunk.error.message;
      if (chunk.usage) {
        r.promptTokens = chunk.usage.prompt_tokens;
        r.outputTokens = chunk.usage.completion_tokens;
      }
      if (chunk.choices && chunk.choices.length > 0) {
        if (r.ttftMs === null) r.ttftMs = now - t0;
        else r.itlsMs.push(now - last);
        last = now;
      }
    }
    if (r.error) r.ok = false;
  } catch (e) {
    r.error = (e as Error).message;
  } finally {
    r.e2eMs = performance.now() - t0;
  }
  return r;
}
