/** Sent with status 429 but meaning the account can't pay: waiting won't help (Model Studio error reference). */
export const billingStateCodes: ReadonlySet<string> = new Set(["CommodityNotPurchased", "PrepaidBillOverdue", "PostpaidBillOverdue"]);

/**
 * A failed DashScope call. `code` is DashScope's own error code (`InvalidApiKey`, `Throttling.RateQuota`, …)
 * or one of ours for failures that never reached a DashScope answer:
 * - `RequestTimeout`: no complete answer within the call's time limit;
 * - `NetworkError`: the connection failed or was reset;
 * - `MalformedResponse`: an answer that does not match the documented shape.
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
    if (billingStateCodes.has(this.code)) return false;
    if (this.status === undefined) return false;
    return this.status === 429 || this.status >= 500;
  }
}
