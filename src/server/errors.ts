import { LlmError, UsageError } from "../util/errors.ts";

/** OpenAI's error types, as its API and vLLM's server report them. */
export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "rate_limit_error"
  | "server_error";

/** The body of every error response: OpenAI's error object. */
export interface ErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | number | null };
}

/** An error a handler throws to answer with a given status and OpenAI error object. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 404 | 405 | 413 | 429 | 500 | 503,
    message: string,
    readonly type: ApiErrorType = "invalid_request_error",
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }

  body(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, "invalid_request_error", param, code);
}

/** Any thrown value as an ApiError: the engine's usage errors are the client's fault (400), the rest 500. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof UsageError) return badRequest(e.message, paramOf(e.message));
  const message = e instanceof LlmError || e instanceof Error ? e.message : String(e);
  return new ApiError(500, message, "server_error", null, "internal_error");
}

/** The engine's messages read "invalid top_p 2; accepted: ..." — name the parameter when they do. */
function paramOf(message: string): string | null {
  return /^invalid ([a-z_]+) /.exec(message)?.[1] ?? null;
}

/** A JSON Response carrying the error object. */
export function errorResponse(err: ApiError): Response {
  return new Response(JSON.stringify(err.body()), {
    status: err.status,
    headers: { "content-type": "application/json", ...err.headers },
  });
}
