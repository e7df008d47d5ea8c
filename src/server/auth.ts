import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";
import type { ServerEnv } from "./env.ts";

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Bearer-token check for /v1/* (as vLLM's --api-key): 401 when the key is missing or wrong. */
export function bearerAuth(apiKey: string): MiddlewareHandler<ServerEnv> {
  const want = digest(apiKey);
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) {
      throw new ApiError(401, "You didn't provide an API key. Pass it as 'Authorization: Bearer KEY'.", "invalid_request_error", null, "invalid_api_key",
        { "www-authenticate": "Bearer" });
    }
    if (!timingSafeEqual(digest(m[1]!), want)) {
      throw new ApiError(401, "Incorrect API key provided.", "invalid_request_error", null, "invalid_api_key", { "www-authenticate": "Bearer" });
    }
    await next();
  };
}
