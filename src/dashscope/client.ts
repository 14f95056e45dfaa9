import { performance } from "node:perf_hooks";
import { Agent, request, type Dispatcher, type FormData } from "undici";
import type { z } from "zod";
import type { Logger } from "../log.js";
import { createIdleGuard, errorFromTransportFailure, startAttempt, type Attempt } from "./call-attempt.js";
import { abortableSleep, startBudget, type CallBudget } from "./call-budget.js";
import { DashScopeError, OUTCOME_UNKNOWN } from "./errors.js";
import { errorFromHttpResponse, errorFromOkBody, errorFromSseFrame, type CallContext } from "./response-errors.js";
import { decideRetry, defaultRetryOptions, parseRetryAfterMs, type RetryDecision, type RetryOptions } from "./retry-policy.js";
import { createSseParser, SseFrameTooLargeError, type SseFrame } from "./sse.js";

/**
 * The DashScope HTTP transport: base URL, Bearer auth, time limits, retries, and one error type.
 * It knows the protocol (JSON and SSE answers, `{code, message, request_id}` errors) and
 * nothing of any one model, so Fun-Music (`music.ts`) and Qwen-Audio share it.
 *
 * Billing rule: `postJson` and `postSse` are paid calls. They are sent again only when the request
 * never reached a connected socket, or when DashScope answered 429/5xx with its own error body.
 * Once sent, a call that gets no whole answer fails with `DashScopeOutcomeUnknownError` and is
 * never re-sent (see `call-attempt.ts`). `getJson` and `postForm` serve temporary storage, which
 * bills nothing, so they keep retrying network failures.
 */

/** What `onCallFinished` hears once per HTTP try. */
export type CallFinished = {
  /** The caller's label (`CallOptions.api`), e.g. "music", "qwen-audio", "upload-policy", "oss-upload". */
  api: string;
  /**
   * The HTTP status when an answer arrived and was read (a 200 whose body named an error is 200);
   * otherwise how the try ended: `network-error` (no answer, nothing billed or a free call),
   * `timeout`, `outcome-unknown` (a paid call lost after sending), or `aborted` (the caller's
   * signal).
   */
  status: number | "network-error" | "timeout" | "outcome-unknown" | "aborted";
  durationMs: number;
  requestId?: string;
};

/** Longest silence between two events of a stream when the call does not say (`CallOptions.idleTimeoutMs`). */
export const DEFAULT_STREAM_IDLE_MS = 30_000;

export type DashScopeClientOptions = {
  /** E.g. `https://dashscope.aliyuncs.com/api/v1` (the SDK's `DASHSCOPE_HTTP_BASE_URL` default). */
  baseUrl: string;
  apiKey: string;
  logger: Logger;
  /**
   * An undici dispatcher (Agent, MockAgent, ProxyAgent); an Agent of this undici if absent. Never
   * undici's global one: on Node 26 that slot belongs to Node's own bundled undici, which refuses
   * the FormData of this package's copy (temporary-storage uploads).
   */
  dispatcher?: Dispatcher | undefined;
  retry?: Partial<RetryOptions> | undefined;
  /** Waits between tries; tests pass one that returns at once. Must reject if `signal` aborts. */
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  /** Source of jitter in [0, 1); `Math.random` if absent. */
  random?: (() => number) | undefined;
  /**
   * Hears every HTTP try once it ends, e.g. for metrics. Called synchronously; an exception it
   * throws is logged and otherwise ignored.
   */
  onCallFinished?: ((call: CallFinished) => void) | undefined;
};

export type CallOptions = {
  /**
   * The whole call's budget, retries and waits included. When it runs out the call fails with
   * `RequestTimeout`. Also bounds the wait for response headers.
   */
  timeoutMs: number;
  /**
   * SSE calls: the longest time without an event (from sending the request to the first event,
   * and between events), `DEFAULT_STREAM_IDLE_MS` if absent; exceeding it gives the stream up as
   * `OutcomeUnknown` (reason `stream-idle`). Other calls: the longest silence while the body
   * streams (undici's `bodyTimeout`), the rest of the budget if absent.
   */
  idleTimeoutMs?: number | undefined;
  /** Names the API in `onCallFinished` (e.g. "music"); the endpoint path if absent. */
  api?: string | undefined;
  /** Aborting rejects the call with the signal's reason, as `fetch` does; it is not retried. */
  signal?: AbortSignal | undefined;
  /**
   * Logger for this call's lines, e.g. a child carrying the interaction's id, user and guild;
   * the client's own logger when absent.
   */
  log?: Logger | undefined;
  /** Extra request headers (e.g. `X-DashScope-OssResourceResolve`); they cannot replace auth. */
  headers?: Record<string, string> | undefined;
};

export type JsonCallOptions<T> = CallOptions & {
  /** Validates the answer; a mismatch is a `MalformedResponse`. */
  schema?: z.ZodType<T> | undefined;
};

export type DashScopeJsonResponse<T> = {
  data: T;
  status: number;
  /** `request_id` from the body, else the `x-request-id` header. */
  requestId: string | undefined;
};

/** An SSE event that is not an error (error frames are thrown as `DashScopeError`). */
export type DashScopeSseEvent = SseFrame & {
  /** The call's request id as far as known (header, then the first frame's `request_id`). */
  requestId: string | undefined;
};

export type GetJsonCallOptions<T> = JsonCallOptions<T> & {
  /** Query parameters, e.g. `{ action: "getPolicy", model }` for `/uploads`. */
  query?: Record<string, string> | undefined;
};

/** What a failed form POST answered, for the caller to turn into a `DashScopeError`. */
export type FormErrorResponse = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** At most 64 KiB of the body. */
  bodyText: string;
  /** The request id from `requestIdHeader` (default `x-request-id`), if any. */
  headerRequestId: string | undefined;
  retryAfterSeconds: number | undefined;
};

export type FormCallOptions = CallOptions & {
  /**
   * Names the call in logs and in `DashScopeError.endpoint`, since the URL is not under the base
   * URL (e.g. `"oss:PostObject"`). Defaults to the URL's host and path.
   */
  endpoint?: string | undefined;
  /** Header carrying the answer's request id (`x-oss-request-id` for OSS); default `x-request-id`. */
  requestIdHeader?: string | undefined;
  /**
   * Turns a non-2xx answer into the error to throw (OSS answers in XML, not DashScope's JSON).
   * Its `status` decides retrying, as for every call. Default: DashScope's JSON error format.
   */
  errorFromResponse?: ((response: FormErrorResponse) => DashScopeError) | undefined;
};

export type DashScopeFormResponse = {
  status: number;
  requestId: string | undefined;
};

export type DashScopeClient = {
  /**
   * POSTs JSON and reads one JSON answer. A paid call: sent again only when it never reached a
   * socket or DashScope answered 429/5xx with its error body; a 200 whose body is
   * `{code, message}` is that error.
   */
  postJson<T = unknown>(path: string, body: unknown, options: JsonCallOptions<T>): Promise<DashScopeJsonResponse<T>>;
  /**
   * POSTs JSON with `X-DashScope-SSE: enable` and yields the answer's events as they arrive.
   * The request starts when iteration starts; stopping iteration closes the connection.
   *
   * A paid call: retried only before its first event, and then only when it was never sent or
   * DashScope answered 429/5xx with its error body. A stream silent for `idleTimeoutMs` is given up.
   */
  postSse(path: string, body: unknown, options: CallOptions): AsyncIterable<DashScopeSseEvent>;
  /**
   * GETs a path under the base URL with Bearer auth and reads one JSON answer. A free call
   * (temporary storage's `GET /uploads?action=getPolicy&model=…`): network failures are retried
   * even after sending, since a second request bills nothing.
   */
  getJson<T = unknown>(path: string, options: GetJsonCallOptions<T>): Promise<DashScopeJsonResponse<T>>;
  /**
   * POSTs a multipart form to an absolute URL outside DashScope (the OSS `upload_host` of
   * temporary storage). It sends NO Authorization header: the form carries its own signed
   * policy, and the API key must never reach a third host. `form` is called once per try, so a
   * retry sends a fresh body. A free call: retried on 429, 5xx and network failures, even after
   * sending, since an upload bills nothing. The answer body is read and dropped.
   */
  postForm(url: string, form: () => FormData, options: FormCallOptions): Promise<DashScopeFormResponse>;
};

/** Biggest successful JSON answer we read; Fun-Music's non-streaming answer is a URL, not audio. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** Error bodies are quoted, never used whole; a proxy's HTML page need not be read to the end. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

const REDACTED = "[redacted]";

function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(body: Dispatcher.ResponseData["body"], maxBytes: number, truncate: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      if (truncate) {
        chunks.push(chunk.subarray(0, chunk.length - (size - maxBytes)));
        break;
      }
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

class BodyTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(`answer larger than ${maxBytes} bytes`);
  }
}

const requestIdPattern = /"request_id"\s*:\s*"([^"\\]*)"/;

/** Creates a DashScope transport, with sockets of its own unless `dispatcher` is given. */
export function createDashScopeClient(options: DashScopeClientOptions): DashScopeClient {
  const dispatcher = options.dispatcher ?? new Agent();
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const retry: RetryOptions = { ...defaultRetryOptions, ...options.retry };
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const { logger, apiKey } = options;

  /**
   * Our own scrub, though the logger scrubs too: an error message travels further than a log
   * line (into job records and, through a careless handler, to Discord).
   */
  const scrub = (text: string): string => (apiKey.length >= 4 ? text.split(apiKey).join(REDACTED) : text);

  function urlFor(path: string): URL {
    return new URL(`${baseUrl}/${path.replace(/^\/+/, "")}`);
  }

  function requestHeaders(extra: Record<string, string> | undefined, sse: boolean): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(extra ?? {})) headers[name.toLowerCase()] = value;
    headers["content-type"] = "application/json";
    headers.accept = sse ? "text/event-stream" : "application/json";
    if (sse) headers["x-dashscope-sse"] = "enable";
    else delete headers["x-dashscope-sse"];
    headers.authorization = `Bearer ${apiKey}`;
    return headers;
  }

  async function send(url: URL, body: string, call: CallOptions, budget: CallBudget, attempt: Attempt, sse: { signal: AbortSignal } | undefined) {
    const remaining = Math.max(1, Math.ceil(budget.remainingMs()));
    return request(url, {
      method: "POST",
      headers: requestHeaders(call.headers, sse !== undefined),
      body,
      signal: sse?.signal ?? budget.signal,
      headersTimeout: remaining,
      // A stream's silence is the idle guard's business (it counts events, not bytes).
      bodyTimeout: sse ? remaining : (call.idleTimeoutMs ?? remaining),
      dispatcher: attempt.dispatcher,
    });
  }

  async function errorFromResponse(response: Dispatcher.ResponseData, context: CallContext): Promise<DashScopeError> {
    const retryAfterMs = parseRetryAfterMs(response.headers["retry-after"], Date.now());
    const bodyText = await readBody(response.body, MAX_ERROR_BODY_BYTES, true).catch(() => "");
    return errorFromHttpResponse(
      {
        status: response.statusCode,
        contentType: headerValue(response.headers, "content-type") ?? "",
        bodyText,
        headerRequestId: headerValue(response.headers, "x-request-id"),
        retryAfterSeconds: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
      },
      context,
    );
  }

  /**
   * Maps whatever a try threw to a `DashScopeError`, except the caller's own abort, which is
   * re-thrown as the signal's reason (the caller asked for it; it is not a DashScope failure).
   */
  function toDashScopeError(caught: unknown, call: CallOptions, budget: CallBudget, context: CallContext, attempt: Attempt, paid: boolean): DashScopeError {
    if (call.signal?.aborted) throw call.signal.reason;
    if (caught instanceof DashScopeError) return caught;
    if (caught instanceof SseFrameTooLargeError || caught instanceof BodyTooLargeError) {
      return new DashScopeError({
        code: "MalformedResponse",
        message: caught.message,
        endpoint: context.endpoint,
        method: context.method,
        status: attempt.status,
        requestId: attempt.requestId,
        cause: caught,
      });
    }
    const error = errorFromTransportFailure(caught, { attempt, paid, budgetTimedOut: budget.timedOut, timeoutMs: call.timeoutMs, context });
    // A bug of ours (bad URL, bad argument): not something a retry or a user message can fix.
    if (!error) throw caught;
    return error;
  }

  /** Whether, and after how long, a failed try is tried again (see `decideRetry`; Retry-After honoured). */
  function retryDecisionFor(error: DashScopeError, attemptNumber: number, budget: CallBudget, paid: boolean): RetryDecision {
    return decideRetry({
      error,
      retryNumber: attemptNumber,
      retryAfterMs: error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1000,
      remainingMs: budget.remainingMs(),
      options: retry,
      random: random(),
      paid,
    });
  }

  /** Tells `onCallFinished` how a try ended; its own failure must not become the call's. */
  function reportTry(call: CallOptions, context: CallContext, attempt: Attempt, outcome: { error?: unknown }): void {
    if (!options.onCallFinished) return;
    let status: CallFinished["status"];
    const { error } = outcome;
    if (error === undefined) status = attempt.status ?? "network-error";
    else if (call.signal?.aborted) status = "aborted";
    else if (!(error instanceof DashScopeError)) status = attempt.status ?? "network-error";
    else if (error.code === OUTCOME_UNKNOWN) status = "outcome-unknown";
    else if (error.code === "RequestTimeout") status = "timeout";
    else if (error.code === "NetworkError") status = "network-error";
    else status = error.status ?? attempt.status ?? "network-error";
    const finished: CallFinished = { api: call.api ?? context.endpoint, status, durationMs: elapsed(attempt.started) };
    // An error body's request id is the documented one; the header only stands in.
    const requestId = (error instanceof DashScopeError ? error.requestId : undefined) ?? attempt.requestId;
    if (requestId !== undefined) finished.requestId = requestId;
    try {
      options.onCallFinished(finished);
    } catch (observerError) {
      (call.log ?? logger).warn({ err: observerError }, "onCallFinished threw");
    }
  }

  /** Errors and logs name the path as the caller gave it; host and base path are config. */
  function contextFor(path: string): CallContext {
    return { endpoint: `/${path.replace(/^\/+/, "")}`, method: "POST", scrub };
  }

  /** Reads a JSON answer: status, body, request id (header, then body), a 200 that names an error, schema. */
  async function readJsonAnswer<T>(
    response: Dispatcher.ResponseData,
    context: CallContext,
    attempt: Attempt,
    schema: JsonCallOptions<T>["schema"],
  ): Promise<DashScopeJsonResponse<T>> {
    try {
      attempt.status = response.statusCode;
      attempt.requestId = headerValue(response.headers, "x-request-id");
      if (response.statusCode < 200 || response.statusCode >= 300) throw await errorFromResponse(response, context);
      const text = await readBody(response.body, MAX_JSON_BYTES, false);
      const json = parseJsonAnswer(text, context, attempt);
      const bodyRequestId = (json as { request_id?: unknown } | null)?.request_id;
      if (typeof bodyRequestId === "string") attempt.requestId = bodyRequestId;
      const okBodyError = errorFromOkBody(json, { status: response.statusCode, headerRequestId: attempt.requestId }, context);
      if (okBodyError) throw okBodyError;
      const data = validate(json, schema, context, attempt);
      return { data, status: response.statusCode, requestId: attempt.requestId };
    } finally {
      if (!response.body.destroyed) response.body.destroy();
    }
  }

  async function postJson<T>(path: string, body: unknown, call: JsonCallOptions<T>): Promise<DashScopeJsonResponse<T>> {
    const url = urlFor(path);
    const context = contextFor(path);
    const payload = JSON.stringify(body);
    return callWithRetries(call, context, true, async (budget, attempt) =>
      readJsonAnswer(await send(url, payload, call, budget, attempt, undefined), context, attempt, call.schema),
    );
  }

  function postSse(path: string, body: unknown, call: CallOptions): AsyncIterable<DashScopeSseEvent> {
    return { [Symbol.asyncIterator]: () => streamSse(path, body, call) };
  }

  async function* streamSse(path: string, body: unknown, call: CallOptions): AsyncGenerator<DashScopeSseEvent> {
    const url = urlFor(path);
    const context = contextFor(path);
    const payload = JSON.stringify(body);
    const budget = startBudget(call.timeoutMs, call.signal);
    const idleMs = call.idleTimeoutMs ?? DEFAULT_STREAM_IDLE_MS;
    try {
      for (let attemptNumber = 1; ; attemptNumber++) {
        const attempt = startAttempt(dispatcher);
        const idle = createIdleGuard(idleMs);
        let events = 0;
        let logged = false;
        let bodyRequestIdSeen = false;
        let response: Dispatcher.ResponseData | undefined;
        const checked = (frame: SseFrame): DashScopeSseEvent => {
          const error = errorFromSseFrame(frame, attempt.requestId, context);
          if (error) throw error;
          // The body's `request_id` is the documented one; the header only stands in until then.
          if (!bodyRequestIdSeen) {
            const fromBody = requestIdPattern.exec(frame.data)?.[1];
            if (fromBody !== undefined) {
              attempt.requestId = fromBody;
              bodyRequestIdSeen = true;
            }
          }
          events++;
          return { ...frame, requestId: attempt.requestId };
        };
        try {
          response = await idle.race(send(url, payload, call, budget, attempt, { signal: AbortSignal.any([budget.signal, idle.signal]) }));
          attempt.status = response.statusCode;
          attempt.requestId = headerValue(response.headers, "x-request-id");
          if (response.statusCode < 200 || response.statusCode >= 300) throw await errorFromResponse(response, context);
          const contentType = headerValue(response.headers, "content-type") ?? "";
          if (contentType.includes("text/event-stream")) {
            const parser = createSseParser();
            const chunks = (response.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
            for (;;) {
              const next = await idle.race(chunks.next());
              if (next.done) break;
              for (const frame of parser.push(next.value)) {
                yield checked(frame);
                idle.touch();
              }
            }
            for (const frame of parser.end()) yield checked(frame);
          } else {
            // A JSON answer to an SSE call (a proxy that drops the header, or an error): the
            // Python SDK accepts it as a single result, and so do we.
            const text = await idle.race(readBody(response.body, MAX_JSON_BYTES, false));
            parseJsonAnswer(text, context, attempt);
            yield checked({ id: undefined, event: "result", httpStatus: response.statusCode, data: text });
          }
          logged = true;
          (call.log ?? logger).info(
            {
              endpoint: context.endpoint,
              status: attempt.status,
              requestId: attempt.requestId,
              attempt: attemptNumber,
              durationMs: elapsed(attempt.started),
              stream: true,
              events,
            },
            "dashscope call",
          );
          reportTry(call, context, attempt, {});
          return;
        } catch (caught) {
          logged = true;
          const error = failureOfTry(caught, call, budget, context, attempt, true);
          // Once an event is out, the service is generating: retrying would start (and bill) a
          // second song, so the error goes to the caller instead.
          const decision = events === 0 ? retryDecisionFor(error, attemptNumber, budget, true) : ({ retry: false } as const);
          logFailure(call.log ?? logger, error, attemptNumber, attempt.started, decision.retry ? decision.delayMs : undefined, true, events);
          if (!decision.retry) throw error;
          await sleep(decision.delayMs, budget.signal).catch(() => {
            if (call.signal?.aborted) throw call.signal.reason;
            // The budget ran out while we waited: the last failure is the one to report.
            throw error;
          });
        } finally {
          // Reached without a log line when the consumer stopped iterating (break, return).
          if (!logged) {
            (call.log ?? logger).info(
              {
                endpoint: context.endpoint,
                status: attempt.status,
                requestId: attempt.requestId,
                attempt: attemptNumber,
                durationMs: elapsed(attempt.started),
                stream: true,
                events,
                closedByCaller: true,
              },
              "dashscope call",
            );
            reportTry(call, context, attempt, {});
          }
          if (response && !response.body.destroyed) response.body.destroy();
        }
      }
    } finally {
      budget.dispose();
    }
  }

  /** `toDashScopeError`, with the try reported to `onCallFinished` whichever way it goes. */
  function failureOfTry(caught: unknown, call: CallOptions, budget: CallBudget, context: CallContext, attempt: Attempt, paid: boolean): DashScopeError {
    let error: DashScopeError;
    try {
      error = toDashScopeError(caught, call, budget, context, attempt, paid);
    } catch (rethrown) {
      reportTry(call, context, attempt, { error: rethrown });
      throw rethrown;
    }
    reportTry(call, context, attempt, { error });
    return error;
  }

  /**
   * One call with retries (`postJson`, `getJson`, `postForm`): one budget for all tries, one log line
   * per try, the caller's abort re-thrown as is, and `decideRetry` to choose whether and when to try
   * again. A paid call lost after sending is never retried (`OutcomeUnknown`); a timed-out call
   * neither: the budget that ran out was the whole call's, so a retry would have no time anyway.
   */
  async function callWithRetries<T>(
    call: CallOptions,
    context: CallContext,
    paid: boolean,
    tryOnce: (budget: CallBudget, attempt: Attempt) => Promise<T>,
  ): Promise<T> {
    const budget = startBudget(call.timeoutMs, call.signal);
    try {
      for (let attemptNumber = 1; ; attemptNumber++) {
        const attempt = startAttempt(dispatcher);
        try {
          const result = await tryOnce(budget, attempt);
          (call.log ?? logger).info(
            {
              endpoint: context.endpoint,
              method: context.method,
              status: attempt.status,
              requestId: attempt.requestId,
              attempt: attemptNumber,
              durationMs: elapsed(attempt.started),
            },
            "dashscope call",
          );
          reportTry(call, context, attempt, {});
          return result;
        } catch (caught) {
          const error = failureOfTry(caught, call, budget, context, attempt, paid);
          const decision = retryDecisionFor(error, attemptNumber, budget, paid);
          logFailure(call.log ?? logger, error, attemptNumber, attempt.started, decision.retry ? decision.delayMs : undefined, false);
          if (!decision.retry) throw error;
          await sleep(decision.delayMs, budget.signal).catch(() => {
            if (call.signal?.aborted) throw call.signal.reason;
            throw error;
          });
        }
      }
    } finally {
      budget.dispose();
    }
  }

  async function getJson<T>(path: string, call: GetJsonCallOptions<T>): Promise<DashScopeJsonResponse<T>> {
    const url = urlFor(path);
    for (const [name, value] of Object.entries(call.query ?? {})) url.searchParams.set(name, value);
    const context: CallContext = { ...contextFor(path), method: "GET" };
    // Free: a policy bills nothing, so a network failure after sending is still retried.
    return callWithRetries(call, context, false, async (budget, attempt) => {
      const remaining = Math.max(1, Math.ceil(budget.remainingMs()));
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(call.headers ?? {})) headers[name.toLowerCase()] = value;
      headers.accept = "application/json";
      headers.authorization = `Bearer ${apiKey}`;
      const response = await request(url, {
        method: "GET",
        headers,
        signal: budget.signal,
        headersTimeout: remaining,
        bodyTimeout: call.idleTimeoutMs ?? remaining,
        dispatcher: attempt.dispatcher,
      });
      return readJsonAnswer(response, context, attempt, call.schema);
    });
  }

  async function postForm(target: string, form: () => FormData, call: FormCallOptions): Promise<DashScopeFormResponse> {
    const url = new URL(target);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new TypeError(`postForm needs an http(s) URL, not ${url.protocol}`);
    const context: CallContext = { endpoint: call.endpoint ?? `${url.host}${url.pathname}`, method: "POST", scrub };
    const requestIdHeader = (call.requestIdHeader ?? "x-request-id").toLowerCase();
    // Free: an upload bills nothing, so a network failure after sending is still retried.
    return callWithRetries(call, context, false, async (budget, attempt) => {
      const remaining = Math.max(1, Math.ceil(budget.remainingMs()));
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(call.headers ?? {})) headers[name.toLowerCase()] = value;
      // Neither ours to send nor the form's to override: undici sets the multipart boundary.
      delete headers.authorization;
      delete headers["content-type"];
      const response = await request(url, {
        method: "POST",
        headers,
        body: form(),
        signal: budget.signal,
        headersTimeout: remaining,
        bodyTimeout: call.idleTimeoutMs ?? remaining,
        dispatcher: attempt.dispatcher,
      });
      try {
        attempt.status = response.statusCode;
        attempt.requestId = headerValue(response.headers, requestIdHeader);
        if (response.statusCode < 200 || response.statusCode >= 300) {
          const retryAfterMs = parseRetryAfterMs(response.headers["retry-after"], Date.now());
          const bodyText = await readBody(response.body, MAX_ERROR_BODY_BYTES, true).catch(() => "");
          const failure: FormErrorResponse = {
            status: response.statusCode,
            headers: response.headers,
            bodyText,
            headerRequestId: attempt.requestId,
            retryAfterSeconds: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000),
          };
          throw call.errorFromResponse
            ? call.errorFromResponse(failure)
            : errorFromHttpResponse(
                {
                  status: failure.status,
                  contentType: headerValue(response.headers, "content-type") ?? "",
                  bodyText,
                  headerRequestId: attempt.requestId,
                  retryAfterSeconds: failure.retryAfterSeconds,
                },
                context,
              );
        }
        // success_action_status 200 answers with an empty body; anything else is not needed.
        await readBody(response.body, MAX_ERROR_BODY_BYTES, true).catch(() => "");
        return { status: response.statusCode, requestId: attempt.requestId };
      } finally {
        if (!response.body.destroyed) response.body.destroy();
      }
    });
  }

  /** One line per failed try, so every try of a call has exactly one line. */
  function logFailure(
    log: Logger,
    error: DashScopeError,
    attempt: number,
    started: number,
    retryInMs: number | undefined,
    stream: boolean,
    events?: number,
  ): void {
    log.warn(
      {
        endpoint: error.endpoint,
        status: error.status,
        requestId: error.requestId,
        attempt,
        durationMs: elapsed(started),
        code: error.code,
        // error.message is already scrubbed; scrub again in case a cause slipped through.
        error: scrub(error.message),
        willRetry: retryInMs !== undefined,
        ...(retryInMs !== undefined ? { retryInMs } : {}),
        ...(stream ? { stream: true, events } : {}),
      },
      "dashscope call failed",
    );
  }

  function parseJsonAnswer(
    text: string,
    context: CallContext,
    known: { status: number | undefined; requestId: string | undefined },
  ): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new DashScopeError({
        code: "MalformedResponse",
        message: "answer is not JSON",
        status: known.status,
        requestId: known.requestId,
        endpoint: context.endpoint,
        method: context.method,
        cause,
      });
    }
  }

  function validate<T>(
    json: unknown,
    schema: z.ZodType<T> | undefined,
    context: CallContext,
    known: { status: number | undefined; requestId: string | undefined },
  ): T {
    if (!schema) return json as T;
    const parsed = schema.safeParse(json);
    if (parsed.success) return parsed.data;
    throw malformedResponse(parsed.error, context, known);
  }

  return { postJson, postSse, getJson, postForm };
}

/** A `MalformedResponse` naming the paths zod disliked (never the values: they may be huge). */
export function malformedResponse(
  error: z.ZodError,
  context: { endpoint: string; method?: string },
  known: { status?: number | undefined; requestId?: string | undefined },
): DashScopeError {
  const where = error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
  return new DashScopeError({
    code: "MalformedResponse",
    message: `answer does not match the documented shape (${where})`,
    status: known.status,
    requestId: known.requestId,
    endpoint: context.endpoint,
    method: context.method ?? "POST",
    cause: error,
  });
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
