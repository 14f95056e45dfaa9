/** Sent with status 429 but meaning the account can't pay: waiting won't help (Model Studio error reference). */
export const billingStateCodes: ReadonlySet<string> = new Set(["CommodityNotPurchased", "PrepaidBillOverdue", "PostpaidBillOverdue"]);

/**
 * A failed DashScope call. `code` is DashScope's own error code (`InvalidApiKey`, `Throttling.RateQuota`, …)
 * or one of ours for failures that never reached a DashScope answer:
 * - `RequestTimeout`: no complete answer within the call's time limit;
 * - `NetworkError`: the connection failed before the request was sent (for the free temporary-storage
 *   calls, also a reset after it);
 * - `MalformedResponse`: an answer that does not match the documented shape;
 * - `OutcomeUnknown`: a paid request was sent and no answer came back whole (see
 *   `DashScopeOutcomeUnknownError`).
 */
export class DashScopeError extends Error {
  override readonly name = "DashScopeError";
  readonly code: string;
  /** HTTP status, when an HTTP answer arrived (for SSE errors, the `:HTTP_STATUS/` line). */
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  /** Path of the call, without host or query, so logs can say which endpoint failed. */
  readonly endpoint: string;
  readonly method: string;
  /** Seconds the service asked us to wait (Retry-After), if it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(details: {
    code: string;
    message: string;
    status?: number | undefined;
    requestId?: string | undefined;
    endpoint: string;
    method?: string;
    retryAfterSeconds?: number | undefined;
    cause?: unknown;
  }) {
    super(details.message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code;
    this.status = details.status;
    this.requestId = details.requestId;
    this.endpoint = details.endpoint;
    this.method = details.method ?? "POST";
    this.retryAfterSeconds = details.retryAfterSeconds;
  }

  /** 429, 5xx and failures below HTTP may succeed on a later try; other 4xx, and billing states sent as 429, will not. */
  get retryable(): boolean {
    if (this.code === "NetworkError") return true;
    if (this.code === OUTCOME_UNKNOWN) return false;
    if (billingStateCodes.has(this.code)) return false;
    if (this.status === undefined) return false;
    return this.status === 429 || this.status >= 500;
  }
}

/** The `code` of `DashScopeOutcomeUnknownError`. */
export const OUTCOME_UNKNOWN = "OutcomeUnknown";

/**
 * How a paid call was lost after it was sent:
 * - `no-answer`: the connection broke before any response headers;
 * - `cut-off`: a 200 began and its body or stream broke off before the end;
 * - `stream-idle`: a stream sent no event for the idle limit, so we gave up on it;
 * - `timed-out`: the call's whole time budget ran out while DashScope was still answering (or silent).
 */
export type OutcomeUnknownReason = "no-answer" | "cut-off" | "stream-idle" | "timed-out";

/**
 * A paid request (Fun-Music, Qwen-Audio) reached the wire and no error status came back, but no
 * whole answer either. DashScope may have done the work and billed it, so the call is never sent
 * again: a second request could bill a second song. The caller decides what to tell the user
 * (the outcome is unknown and may have been charged) and how to record it.
 */
export class DashScopeOutcomeUnknownError extends DashScopeError {
  readonly reason: OutcomeUnknownReason;
  /** For `stream-idle`: the silence we gave up after, in ms. */
  readonly idleMs: number | undefined;

  constructor(details: {
    reason: OutcomeUnknownReason;
    message: string;
    status?: number | undefined;
    requestId?: string | undefined;
    endpoint: string;
    method?: string;
    idleMs?: number | undefined;
    cause?: unknown;
  }) {
    super({ ...details, code: OUTCOME_UNKNOWN });
    this.reason = details.reason;
    this.idleMs = details.idleMs;
  }
}
