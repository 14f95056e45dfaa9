import { z } from "zod";
import { DashScopeError } from "./errors.js";
import { parseSseText } from "./sse.js";

/**
 * Turns DashScope's failure answers into `DashScopeError`s.
 *
 * DashScope answers a failed call with `{code, message, request_id}` (seed `qwen-audio-api.zh.txt`,
 * "异常响应示例"), as JSON or, on an SSE call, as an `event:error` frame. Anything else (a proxy's
 * HTML page, an empty 502) gets the code `Unknown`, as the official Python SDK does
 * (`dashscope/common/utils.py`, `_handle_http_failed_response`).
 */

const errorBodySchema = z.object({
  code: z.string().optional(),
  message: z.string().optional(),
  request_id: z.string().optional(),
});

/** How much of a non-JSON error body we quote in a message. */
const SNIPPET_CHARS = 200;

/** What we know about the call when an error arrives. */
export type CallContext = {
  endpoint: string;
  method: string;
  /** Removes secrets from any text the service sent back before it reaches a message. */
  scrub: (text: string) => string;
};

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
}

function fromErrorJson(
  json: unknown,
  details: { status: number | undefined; headerRequestId: string | undefined; retryAfterSeconds?: number | undefined },
  context: CallContext,
): DashScopeError | undefined {
  const parsed = errorBodySchema.safeParse(json);
  if (!parsed.success || parsed.data.code === undefined || parsed.data.code === "") return undefined;
  const { code, message, request_id } = parsed.data;
  return new DashScopeError({
    code,
    message: context.scrub(`${code}: ${message ?? "(no message)"}`),
    status: details.status,
    requestId: request_id ?? details.headerRequestId,
    endpoint: context.endpoint,
    method: context.method,
    retryAfterSeconds: details.retryAfterSeconds,
  });
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The error for a non-2xx HTTP answer, whatever its body: JSON, an SSE error frame, or text.
 */
export function errorFromHttpResponse(
  response: {
    status: number;
    contentType: string;
    bodyText: string;
    headerRequestId: string | undefined;
    retryAfterSeconds: number | undefined;
  },
  context: CallContext,
): DashScopeError {
  const details = {
    status: response.status,
    headerRequestId: response.headerRequestId,
    retryAfterSeconds: response.retryAfterSeconds,
  };
  if (response.contentType.includes("text/event-stream")) {
    for (const frame of parseSseText(response.bodyText)) {
      const error = fromErrorJson(tryJson(frame.data), { ...details, status: frame.httpStatus ?? response.status }, context);
      if (error) return error;
    }
  }
  const fromJson = fromErrorJson(tryJson(response.bodyText), details, context);
  if (fromJson) return fromJson;
  const body = snippet(response.bodyText);
  return new DashScopeError({
    code: "Unknown",
    message: context.scrub(`HTTP ${response.status}${body === "" ? "" : `: ${body}`}`),
    status: response.status,
    requestId: response.headerRequestId,
    endpoint: context.endpoint,
    method: context.method,
    retryAfterSeconds: response.retryAfterSeconds,
  });
}

/**
 * Whether an SSE frame reports a failure: `event:error`, a `:HTTP_STATUS/` of 400 or more, or a
 * `data:` that carries an error `code` and no `output` (seen in the wild on HTTP 200 streams
 * whose frames are named `result`).
 */
export function errorFromSseFrame(
  frame: { event: string; httpStatus: number | undefined; data: string },
  headerRequestId: string | undefined,
  context: CallContext,
): DashScopeError | undefined {
  const json = tryJson(frame.data);
  const isErrorFrame = frame.event === "error" || (frame.httpStatus !== undefined && frame.httpStatus >= 400);
  const hasErrorCode =
    typeof json === "object" &&
    json !== null &&
    typeof (json as { code?: unknown }).code === "string" &&
    (json as { code: string }).code !== "" &&
    !("output" in json);
  if (!isErrorFrame && !hasErrorCode) return undefined;
  const fromJson = fromErrorJson(json, { status: frame.httpStatus, headerRequestId }, context);
  if (fromJson) return fromJson;
  return new DashScopeError({
    code: "Unknown",
    message: context.scrub(`SSE error frame: ${snippet(frame.data)}`),
    status: frame.httpStatus,
    requestId: headerRequestId,
    endpoint: context.endpoint,
    method: context.method,
  });
}

/**
 * The error a 200 JSON answer carries instead of a result: `{code, message, request_id}` with a
 * non-empty `code` and neither `output` (model calls) nor `data` (getPolicy). DashScope has been
 * seen answering that way; it is the same error as over a 4xx or an SSE error frame, so the user
 * reads the same text. `status` stays the HTTP status that came (200): nothing else is known.
 */
export function errorFromOkBody(
  json: unknown,
  details: { status: number; headerRequestId: string | undefined },
  context: CallContext,
): DashScopeError | undefined {
  if (typeof json !== "object" || json === null || "output" in json || "data" in json) return undefined;
  return fromErrorJson(json, details, context);
}
