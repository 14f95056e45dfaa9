import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeStream, dashScopeError, errorBody, scriptedError, type ApiError } from "./errors.js";
import { ANSWER_FAULTS, type Fault, type FaultQueue, type MalformedVariant } from "./faults.js";
import { newRequestId } from "./ids.js";
import type { RecordedRequest } from "./request-record.js";
import { createSseSequence } from "./sse-writer.js";

/**
 * What every DashScope HTTP call has in common, whatever the model behind it: the API key, the
 * JSON body, SSE or not, the request id, the gateway's headers, the error shapes, pacing and the
 * scripted faults. An endpoint (Fun-Music, Qwen-Audio, the temporary-storage getPolicy) only
 * validates its input and says what to answer; see `DashScopeEndpoint`.
 *
 * Order of checks, gateway first: API key → path → body size → method → Content-Type → JSON →
 * the endpoint's own validation. GET endpoints (getPolicy) skip the Content-Type and JSON steps and
 * never stream. Unknown paths under /api/v1 get 404 NotFound "Request path not found." after the key
 * check (the Qwen Cloud error page lists exactly that message for a wrong Fun-Music path).
 *
 * Headers follow live captures of DashScope answers (dashscope4j and Spring AI logs): `x-request-id`
 * equal to the body's `request_id`, `x-dashscope-call-gateway: true`, `req-arrive-time`,
 * `resp-start-time`, `req-cost-time`, `server: istio-envoy`. There is no `x-dashscope-request-id`
 * header on the real service, so the fake does not invent one.
 */

export type EndpointAnswer = {
  /** SSE only: the payloads before the final one, in order. Ignored for plain calls. */
  partials: readonly unknown[];
  /** The whole body of a plain call, or the last SSE event's payload. */
  final: unknown;
};

export type PreparedCall =
  | { ok: false; error: ApiError }
  | {
      ok: true;
      /** How long the work takes end to end; SSE events are spread evenly over it. */
      durationMs: number;
      /** Produces the answer; called once, after the response headers of an SSE call went out. */
      answer(): Promise<EndpointAnswer>;
    };

/** What `prepare` gets to look at. */
export type EndpointCall = {
  /** The parsed JSON body; undefined for GET endpoints. */
  body: unknown;
  streaming: boolean;
  requestId: string;
  /** Request headers as Node received them (lower-case names), e.g. `x-dashscope-ossresourceresolve`. */
  headers: IncomingHttpHeaders;
  /** The query string. */
  query: URLSearchParams;
  /** Aborted when the client goes away or the fake closes; for work done in `answer`. */
  signal: AbortSignal;
};

export type DashScopeEndpoint = {
  /** Path under the base URL, e.g. `/services/audio/music/generation`. */
  path: string;
  /** The one method the endpoint answers; default "POST". GET endpoints read no body and never stream. */
  method?: "POST" | "GET";
  /**
   * Request media types the endpoint accepts; default `["application/json"]` (the Fun-Music seed).
   * The Qwen-Audio seed also allows `text/event-stream` as a request Content-Type.
   */
  contentTypes?: readonly string[];
  /**
   * Whether a `text/event-stream` request Content-Type by itself turns SSE on, besides
   * `X-DashScope-SSE: enable` and `Accept: text/event-stream` (the Qwen-Audio seed: "Content-Type …
   * application/json 或者text/event-stream(开启 SSE 响应)").
   */
  sseByContentType?: boolean;
  /** Validates the input synchronously; the slow part goes in `answer`. */
  prepare(call: EndpointCall): PreparedCall;
};

/**
 * Thrown by `answer()` when the work itself fails with a DashScope error (e.g. an input file that
 * cannot be downloaded). A plain call gets it as JSON; an SSE call, whose 200 headers are already
 * out, gets it as an error event. Any other exception becomes 500 InternalError.Algo.
 */
export class EndpointFailure extends Error {
  constructor(readonly error: ApiError) {
    super(`${error.code}: ${error.message}`);
  }
}

function failureOf(thrown: unknown): ApiError {
  return thrown instanceof EndpointFailure ? thrown.error : dashScopeError("InternalError.Algo");
}

export type CallContext = {
  req: IncomingMessage;
  res: ServerResponse;
  record: RecordedRequest;
  apiKey: string;
  faults: FaultQueue;
  /** Aborted when the client goes away or the fake closes. */
  signal: AbortSignal;
  /** The body went over the fake's limit (8 MiB) and was cut. */
  bodyTooLarge: boolean;
  /** Called once an endpoint's work is done (its `answer()` resolved): DashScope bills from here. */
  onAnswered(): void;
};

const JSON_TYPE = "application/json";
const SSE_TYPE = "text/event-stream;charset=UTF-8";

function requestMediaType(req: IncomingMessage): string {
  return String(req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

function wantsSse(req: IncomingMessage, endpoint: DashScopeEndpoint | undefined): boolean {
  if (endpoint?.method === "GET") return false;
  const flag = String(req.headers["x-dashscope-sse"] ?? "").toLowerCase();
  const accept = String(req.headers.accept ?? "").toLowerCase();
  const byContentType = endpoint?.sseByContentType === true && requestMediaType(req) === "text/event-stream";
  return flag === "enable" || accept.includes("text/event-stream") || byContentType;
}

function gatewayHeaders(requestId: string, receivedAt: number): Record<string, string> {
  const now = Date.now();
  return {
    "x-request-id": requestId,
    "x-dashscope-call-gateway": "true",
    "req-arrive-time": String(receivedAt),
    "resp-start-time": String(now),
    "req-cost-time": String(now - receivedAt),
    server: "istio-envoy",
    vary: "Origin,Access-Control-Request-Method,Access-Control-Request-Headers, Accept-Encoding",
  };
}

type ErrorDelivery = { retryAfterSeconds?: number | undefined; httpStatus?: number | undefined };

function sendError(ctx: CallContext, error: ApiError, sse: boolean, delivery: ErrorDelivery = {}): void {
  const { res, record } = ctx;
  const requestId = record.requestId ?? newRequestId();
  const headers = gatewayHeaders(requestId, record.receivedAt);
  if (delivery.retryAfterSeconds !== undefined) headers["retry-after"] = String(delivery.retryAfterSeconds);
  record.errorCode = error.code;
  const data = JSON.stringify(errorBody(requestId, error));
  if (sse) {
    // One error event; the HTTP status is the error's own for gateway errors and 200 for errors
    // the model service raises inside the stream (see ApiError.inStream).
    const httpStatus = delivery.httpStatus ?? (error.inStream ? 200 : error.status);
    const body = createSseSequence().next("error", error.status, data);
    record.events = 1;
    res.writeHead(httpStatus, { ...headers, "content-type": SSE_TYPE, "cache-control": "no-cache" });
    res.end(body);
    return;
  }
  res.writeHead(delivery.httpStatus ?? error.status, { ...headers, "content-type": JSON_TYPE, "content-length": Buffer.byteLength(data) });
  res.end(data);
}

function bearerKey(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === "") return undefined;
  const match = /^bearer\s+(.*)$/i.exec(header.trim());
  return match ? (match[1] ?? "").trim() : header.trim();
}

function checkGateway(ctx: CallContext, endpoint: DashScopeEndpoint | undefined): ApiError | undefined {
  const { req } = ctx;
  const key = bearerKey(req);
  if (key === undefined || key === "") return dashScopeError("InvalidApiKey", "No API-key provided.");
  if (key !== ctx.apiKey) return dashScopeError("InvalidApiKey");
  if (endpoint === undefined) return dashScopeError("NotFound");
  if (ctx.bodyTooLarge) return dashScopeError("BadRequest.TooLarge");
  const method = endpoint.method ?? "POST";
  if (req.method !== method) {
    return beforeStream(dashScopeError("InvalidParameter", `Request method '${req.method ?? ""}' is not supported.`));
  }
  if (method === "GET") return undefined;
  const mediaType = requestMediaType(req);
  const accepted = endpoint.contentTypes ?? [JSON_TYPE];
  if (!accepted.includes(mediaType)) {
    // The wording is not published; the seed requires application/json, so anything else is refused.
    return beforeStream(dashScopeError("InvalidParameter", `Content-Type must be ${accepted.join(" or ")}, got '${mediaType || "none"}'.`));
  }
  return undefined;
}

function parseBody(raw: string): { ok: true; body: unknown } | { ok: false } {
  try {
    return { ok: true, body: JSON.parse(raw) };
  } catch {
    return { ok: false };
  }
}

/** Handles one call to a DashScope path under /api/v1; `endpoint` is undefined for unknown paths. */
export async function handleDashScopeCall(ctx: CallContext, endpoint: DashScopeEndpoint | undefined): Promise<void> {
  const { req, record, faults, signal } = ctx;
  const sse = wantsSse(req, endpoint);
  record.sse = sse;
  record.requestId = newRequestId();

  let answerFault: Fault | undefined;
  const fault = faults.peek({ path: record.path, sse, download: false });
  if (fault && !ANSWER_FAULTS.has(fault.kind) && faults.take(fault)) {
    record.fault = fault.kind;
    switch (fault.kind) {
      case "error":
        sendError(ctx, scriptedError(fault.status, fault.code, fault.message), sse, fault);
        return;
      case "delay":
        await sleep(fault.ms, undefined, { signal });
        break;
      case "stall":
        return; // keep the socket open and say nothing; close() or the client ends it
      case "reset":
        req.socket.destroy();
        return;
    }
  } else if (fault) {
    answerFault = fault;
  }

  const refused = checkGateway(ctx, endpoint);
  if (refused || endpoint === undefined) {
    sendError(ctx, refused ?? dashScopeError("NotFound"), sse);
    return;
  }
  const parsed = endpoint.method === "GET" ? ({ ok: true, body: undefined } as const) : parseBody(record.rawBody);
  if (!parsed.ok) {
    sendError(ctx, beforeStream(dashScopeError("InvalidParameter", "Required body invalid, check the request body format.")), sse);
    return;
  }
  const prepared = endpoint.prepare({
    body: parsed.body,
    streaming: sse,
    requestId: record.requestId,
    headers: req.headers,
    query: new URLSearchParams(record.query),
    signal,
  });
  if (!prepared.ok) {
    sendError(ctx, prepared.error, sse);
    return;
  }
  if (answerFault && faults.take(answerFault)) {
    record.fault = answerFault.kind;
  } else {
    answerFault = undefined;
  }

  const startedAt = Date.now();
  const html = answerFault?.kind === "malformed" && answerFault.variant === "html";
  if (sse && !html) {
    await streamAnswer(ctx, prepared, startedAt, answerFault);
  } else {
    let answer: EndpointAnswer;
    try {
      answer = await prepared.answer();
    } catch (thrown) {
      sendError(ctx, failureOf(thrown), false);
      return;
    }
    ctx.onAnswered();
    await sleepUntil(startedAt + prepared.durationMs, signal);
    sendPlainAnswer(ctx, answer.final, answerFault);
  }
}

async function sleepUntil(time: number, signal: AbortSignal): Promise<void> {
  const wait = time - Date.now();
  if (wait > 0) await sleep(wait, undefined, { signal });
  signal.throwIfAborted();
}

/** A payload made not-the-documented-shape, for `malformed` faults. */
function malform(payload: unknown, variant: MalformedVariant): string {
  const text = JSON.stringify(payload);
  switch (variant) {
    case "truncated-json":
    case "html":
      return text.slice(0, Math.floor(text.length / 2));
    case "missing-output": {
      // `output` for model calls; getPolicy keeps its answer under `data`.
      const { output: _dropped, data: _droppedData, ...rest } = payload as Record<string, unknown>;
      return JSON.stringify(rest);
    }
    case "missing-content": {
      const copy = structuredClone(payload) as { output?: { choices?: Array<{ message?: { content?: unknown } }> } };
      for (const choice of copy.output?.choices ?? []) delete choice.message?.content;
      return JSON.stringify(copy);
    }
    case "missing-url": {
      const copy = structuredClone(payload) as { output?: { audio?: { url?: unknown } } };
      if (copy.output?.audio) delete copy.output.audio.url;
      return JSON.stringify(copy);
    }
    case "expires-at-date": {
      const copy = structuredClone(payload) as { output?: { audio?: { expires_at?: unknown } } };
      const audio = copy.output?.audio;
      if (audio && typeof audio.expires_at === "number") audio.expires_at = new Date(audio.expires_at * 1000).toISOString();
      return JSON.stringify(copy);
    }
  }
}

function sendPlainAnswer(ctx: CallContext, payload: unknown, fault: Fault | undefined): void {
  const { res, record } = ctx;
  const headers = { ...gatewayHeaders(record.requestId ?? "", record.receivedAt), "x-dashscope-finished": "true" };
  if (fault?.kind === "malformed" && (fault.variant ?? "truncated-json") === "html") {
    const html = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>";
    res.writeHead(200, { ...headers, "content-type": "text/html", "content-length": Buffer.byteLength(html) });
    res.end(html);
    return;
  }
  const body = fault?.kind === "malformed" ? malform(payload, fault.variant ?? "truncated-json") : JSON.stringify(payload);
  res.writeHead(200, { ...headers, "content-type": JSON_TYPE, "content-length": Buffer.byteLength(body) });
  if (fault?.kind === "reset-mid-stream") {
    const bytes = Buffer.from(body);
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.destroy());
    return;
  }
  res.end(body);
}

async function streamAnswer(ctx: CallContext, prepared: Extract<PreparedCall, { ok: true }>, startedAt: number, fault: Fault | undefined): Promise<void> {
  const { res, record, signal } = ctx;
  res.writeHead(200, { ...gatewayHeaders(record.requestId ?? "", record.receivedAt), "content-type": SSE_TYPE, "cache-control": "no-cache" });
  res.flushHeaders();
  const sequence = createSseSequence();
  let flushed: Promise<void> = Promise.resolve();
  const write = (event: "result" | "error", status: number, data: string): void => {
    flushed = new Promise((resolve) => res.write(sequence.next(event, status, data), () => resolve()));
    record.events = sequence.sent;
  };

  let answer: EndpointAnswer;
  try {
    answer = await prepared.answer();
  } catch (thrown) {
    const error = failureOf(thrown);
    record.errorCode = error.code;
    write("error", error.status, JSON.stringify(errorBody(record.requestId ?? "", error)));
    res.end();
    return;
  }
  ctx.onAnswered();

  const payloads = [...answer.partials, answer.final];
  const cutAt =
    fault?.kind === "reset-mid-stream" || fault?.kind === "sse-error-mid-stream" || fault?.kind === "stall-mid-stream"
      ? Math.min(fault.afterEvents, payloads.length - 1)
      : undefined;
  for (const [index, payload] of payloads.entries()) {
    await sleepUntil(startedAt + (prepared.durationMs * (index + 1)) / payloads.length, signal);
    if (index === cutAt && fault?.kind === "reset-mid-stream") {
      await flushed; // the events before the cut reach the client; then the connection drops
      res.destroy();
      return;
    }
    if (index === cutAt && fault?.kind === "stall-mid-stream") {
      await flushed; // the events before the stall reach the client; then silence on an open connection
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      return;
    }
    if (index === cutAt && fault?.kind === "sse-error-mid-stream") {
      const error = scriptedError(fault.status, fault.code, fault.message);
      record.errorCode = error.code;
      write("error", error.status, JSON.stringify(errorBody(record.requestId ?? "", error)));
      res.end();
      return;
    }
    const isFinal = index === payloads.length - 1;
    // A drifted field drifts in every event; the other variants only spoil the final one.
    const spoiled = fault?.kind === "malformed" && (isFinal || fault.variant === "expires-at-date");
    const data = spoiled ? malform(payload, fault.variant ?? "truncated-json") : JSON.stringify(payload);
    write("result", 200, data);
  }
  res.end();
}
