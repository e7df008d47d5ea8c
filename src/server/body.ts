import { ApiError, badRequest } from "./errors.ts";
import { asBody, type Body } from "./fields.ts";

const tooLarge = (limit: number) =>
  new ApiError(413, `The request body is larger than the limit of ${limit} bytes (--max-body-size).`, "invalid_request_error", null, "request_too_large");

/** Read a JSON object body of at most `limit` bytes: 413 beyond it, 400 when it is not JSON or not an object. */
export async function readJsonBody(req: Request, limit: number): Promise<Body> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge(limit);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    const reader = req.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw badRequest("The request body is not valid UTF-8.", null, "invalid_json");
  }
  if (text.trim() === "") throw badRequest("The request body is empty; expected a JSON object.", null, "invalid_json");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw badRequest(`We could not parse the JSON body of your request: ${(e as Error).message}`, null, "invalid_json");
  }
  return asBody(parsed);
}
