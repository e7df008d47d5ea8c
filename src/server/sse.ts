import { toApiError } from "./errors.ts";

export type SendEvent = (data: unknown) => void;

/**
 * A text/event-stream Response: `run` sends JSON events; after it ends (or fails: the error object
 * is sent as an event, as vLLM does) comes `data: [DONE]`. When the client goes away the stream is
 * cancelled and `onCancel` runs (the caller aborts its engine requests). `onEnd` runs once either way.
 */
export function sseResponse(run: (send: SendEvent) => Promise<void>, onCancel: () => void, onEnd: () => void = () => {}): Response {
  const enc = new TextEncoder();
  let closed = false;
  let ended = false;
  const end = () => {
    if (!ended) {
      ended = true;
      onEnd();
    }
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (s: string) => {
        if (closed) return;
        try {
          controller.enqueue(enc.encode(s));
        } catch {
          closed = true;
        }
      };
      const send: SendEvent = (data) => write(`data: ${JSON.stringify(data)}\n\n`);
      void run(send)
        .catch((e) => send(toApiError(e).body()))
        .finally(() => {
          write("data: [DONE]\n\n");
          if (!closed) {
            closed = true;
            try {
              controller.close();
            } catch {
              // already cancelled
            }
          }
          end();
        });
    },
    cancel() {
      closed = true;
      onCancel();
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-accel-buffering": "no" },
  });
}
