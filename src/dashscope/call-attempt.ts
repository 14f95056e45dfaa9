import { performance } from "node:perf_hooks";
import type { Dispatcher } from "undici";
import { DashScopeError, DashScopeOutcomeUnknownError } from "./errors.js";
import type { CallContext } from "./response-errors.js";

/**
 * One HTTP try of a DashScope call, and the billing rule that follows from how it failed.
 *
 * DashScope bills a generation once it has the request, whatever happens to the answer. So a
 * paid call may be sent again only when it provably never left this process (connection refused,
 * DNS, TLS or connect timeout: undici had no connected socket for it), or when DashScope answered
 * with an error of its own. Everything else after the request was handed to a socket (no headers
 * before a timeout, a reset, a body cut off, a stream gone silent) is "outcome unknown": possibly
 * billed, never re-sent. The official Python SDK does not re-send either
 * (dashscope-sdk-python `api_entities/http_request.py`: one `session.post`, errors re-raised).
 */

/** What one try knows about itself; the client fills it in as the answer arrives. */
export type Attempt = {
  readonly started: number;
  /**
   * True once undici handed the request to a connected (TLS-established) socket. From then on
   * DashScope may have it. Before that, any failure means it was never sent.
   */
  written: boolean;
  /** HTTP status, once response headers arrived. */
  status: number | undefined;
  /** The request id as far as known: the `x-request-id` header, then the body's `request_id`. */
  requestId: string | undefined;
  /** The dispatcher to send this try through; it sets `written`. */
  readonly dispatcher: Dispatcher;
};

/**
 * Starts a try whose dispatcher notices when the request is written. undici calls a handler's
 * `onRequestStart` only once a connection is established (api-request.js: "onRequestStart only
 * runs once a connection is established"; client-h1.js `writeH1` calls it just before the first
 * write), so it is the earliest moment the request can reach DashScope.
 */
export function startAttempt(base: Dispatcher): Attempt {
  const attempt: Attempt = {
    started: performance.now(),
    written: false,
    status: undefined,
    requestId: undefined,
    dispatcher: base.compose((dispatch) => (options, handler) => dispatch(options, watchWrite(handler, () => (attempt.written = true)))),
  };
  return attempt;
}

function watchWrite(handler: Dispatcher.DispatchHandler, onWrite: () => void): Dispatcher.DispatchHandler {
  return {
    onRequestStart(controller, context) {
      onWrite();
      handler.onRequestStart?.(controller, context);
    },
    onRequestUpgrade: (controller, statusCode, headers, socket) => handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) => handler.onResponseStart?.(controller, statusCode, headers, statusMessage),
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
    onResponseStarted: () => handler.onResponseStarted?.(),
    onBodySent: (chunk) => handler.onBodySent?.(chunk),
    onRequestSent: () => handler.onRequestSent?.(),
  };
}

/** A stream sent no event for `idleMs`. */
export class StreamIdleError extends Error {
  override readonly name = "StreamIdleError";
  constructor(readonly idleMs: number) {
    super(`no event for ${idleMs} ms`);
  }
}

/**
 * Gives up on a stream that sends no event for `idleMs`. Time spent by the consumer between
 * events does not count: the clock restarts at `touch()`, called when the consumer asks for more.
 * An event is what counts, not bytes: a stream that sent only comments or half a frame is silent.
 */
export type IdleGuard = {
  /** Aborted when the guard fires, to cancel the request or body read in flight. */
  readonly signal: AbortSignal;
  /** Restarts the clock. */
  touch(): void;
  /** `work`, or a `StreamIdleError` once `idleMs` pass since the last `touch()`. */
  race<T>(work: Promise<T>): Promise<T>;
};

export function createIdleGuard(idleMs: number): IdleGuard {
  const controller = new AbortController();
  let lastEventAt = performance.now();
  return {
    signal: controller.signal,
    touch() {
      lastEventAt = performance.now();
    },
    async race<T>(work: Promise<T>): Promise<T> {
      // The loser of the race rejects later (the abort below); nobody is left to hear it.
      work.catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          const error = new StreamIdleError(idleMs);
          controller.abort(error);
          reject(error);
        }, Math.max(0, lastEventAt + idleMs - performance.now()));
      });
      try {
        return await Promise.race([work, idle]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Failures of the socket or of undici's timers; anything else thrown by a try is a bug of ours. */
const socketErrorCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EPROTO",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_RES_CONTENT_LENGTH_MISMATCH",
]);
const timeoutErrorCodes = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);
/** TLS handshake failures (certificate checks, protocol errors) as Node names them. */
const tlsErrorPattern = /^(ERR_TLS_|ERR_SSL_)|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;

function isSocketFailure(code: string): boolean {
  return socketErrorCodes.has(code) || code.startsWith("UND_ERR_SOCKET") || tlsErrorPattern.test(code);
}

/**
 * The `DashScopeError` for whatever a try threw below HTTP (socket, TLS, timers, idle guard), or
 * undefined when it is none of those (a bug, which the caller re-throws as is).
 *
 * @param paid whether DashScope bills this call (Fun-Music, Qwen-Audio). Free calls (upload
 *   policy, OSS upload) bill nothing, so a reset after sending stays a retryable `NetworkError`.
 * @param budgetTimedOut whether the call's whole budget ran out.
 */
export function errorFromTransportFailure(
  caught: unknown,
  args: { attempt: Attempt; paid: boolean; budgetTimedOut: boolean; timeoutMs: number; context: CallContext },
): DashScopeError | undefined {
  const { attempt, paid, budgetTimedOut, timeoutMs, context } = args;
  const code = (caught as { code?: unknown } | null)?.code;
  const codeText = typeof code === "string" ? code : undefined;
  const idle = caught instanceof StreamIdleError;
  const timedOut = !idle && (budgetTimedOut || (codeText !== undefined && timeoutErrorCodes.has(codeText)));
  const socket = codeText !== undefined && isSocketFailure(codeText);
  if (!idle && !timedOut && !socket) return undefined;
  const detail = context.scrub(caught instanceof Error ? caught.message : String(caught));
  const base = { endpoint: context.endpoint, method: context.method, status: attempt.status, requestId: attempt.requestId, cause: caught };

  if (paid && attempt.written) {
    const reason = idle ? "stream-idle" : timedOut ? "timed-out" : attempt.status === undefined ? "no-answer" : "cut-off";
    const what = {
      "stream-idle": `the stream sent no event for ${idle ? caught.idleMs : 0} ms`,
      "timed-out": budgetTimedOut ? `no complete answer within ${timeoutMs} ms` : `no data for too long (${codeText ?? "timeout"})`,
      "no-answer": `the connection broke before an answer (${codeText ?? "?"}): ${detail}`,
      "cut-off": `the answer broke off (${codeText ?? "?"}): ${detail}`,
    }[reason];
    return new DashScopeOutcomeUnknownError({
      ...base,
      reason,
      idleMs: idle ? caught.idleMs : undefined,
      message: `${what}; the request was sent, so it may have been billed, and it is not sent again`,
    });
  }
  if (timedOut) {
    return new DashScopeError({
      ...base,
      code: "RequestTimeout",
      message: budgetTimedOut ? `no complete answer within ${timeoutMs} ms` : `no data for too long (${codeText ?? "timeout"})`,
    });
  }
  const why = idle ? `no connection within ${caught.idleMs} ms` : `connection failed (${codeText ?? "?"}): ${detail}`;
  return new DashScopeError({ ...base, code: "NetworkError", message: attempt.written ? why : `${why}; the request was never sent` });
}
