import type { DashScopeError } from "./errors.js";

/**
 * When and how long to wait before trying a DashScope call again. Pure functions, so the
 * policy can be read and tested apart from the transport.
 */

export type RetryOptions = {
  /** Tries in all, the first included (1 = never retry). */
  attempts: number;
  /** Backoff ceiling for the first retry; it doubles for each later one. */
  baseDelayMs: number;
  /** No backoff wait is longer than this. */
  maxDelayMs: number;
  /**
   * The longest `Retry-After` we wait out. If the service asks for longer we stop and surface
   * the error (with `retryAfterSeconds`), so the user hears "try again in N s" instead of a
   * Discord interaction that hangs for minutes.
   */
  maxRetryAfterMs: number;
};

export const defaultRetryOptions: RetryOptions = {
  attempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/**
 * 429 codes that are account states, not load: waiting a second will not pay a bill. From the
 * Model Studio error-code reference ("Error messages", 429-CommodityNotPurchased,
 * 429-PrepaidBillOverdue, 429-PostpaidBillOverdue).
 */
const accountStateCodes = new Set(["CommodityNotPurchased", "PrepaidBillOverdue", "PostpaidBillOverdue"]);

/**
 * Whether another try could succeed: 429 (except account states), 5xx and connection failures.
 * Other 4xx (InvalidParameter, DataInspectionFailed, InvalidApiKey, AccessDenied, Arrearage, …)
 * will fail the same way every time. `RequestTimeout` and `OutcomeUnknown` are never retried: see
 * `client.ts`.
 *
 * A paid call (`paid: true`: Fun-Music, Qwen-Audio) is sent again only when DashScope itself said
 * no: a 429 or 5xx carrying its `{code, message}` error body. A 5xx without that body (code
 * `Unknown`: a proxy's 502/504 page) may come from a hop that already passed the request on, so
 * DashScope may be working on it, and billing it. The client only makes `NetworkError` for a paid
 * call when the request never left this process (see `client.ts`).
 */
export function isRetryable(error: DashScopeError, options: { paid?: boolean } = {}): boolean {
  if (error.code === "RequestTimeout" || error.code === "MalformedResponse" || error.code === "OutcomeUnknown") return false;
  if (accountStateCodes.has(error.code)) return false;
  if (options.paid && error.code === "Unknown" && (error.status ?? 0) >= 500) return false;
  return error.retryable;
}

/**
 * Exponential backoff with "full jitter": a uniform wait in [0, min(max, base·2^(n−1))].
 * Full jitter spreads a burst of clients that failed together (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"); Model Studio's rate-limiting guide asks for exactly this
 * against `Throttling.BurstRate` ("exponential backoff … avoid instantaneous peaks").
 *
 * @param retryNumber 1 for the first retry.
 * @param random a number in [0, 1).
 */
export function backoffDelayMs(retryNumber: number, options: RetryOptions, random: number): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retryNumber - 1));
  return Math.floor(random * ceiling);
}

/**
 * Reads a `Retry-After` header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Returns milliseconds from `nowMs`, never negative; `undefined` when absent or unreadable.
 */
export function parseRetryAfterMs(value: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (text === "") return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date always names its month; without letters `Date.parse` would read "-1" as a year.
  if (!/[A-Za-z]/.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

/**
 * Decides whether to try again after `error`, and after how long.
 *
 * @param retryNumber the retry this would be (1 for the first).
 * @param retryAfterMs the service's `Retry-After`, if it sent one.
 * @param remainingMs time left in the call's budget; we never sleep past it.
 */
export function decideRetry(args: {
  error: DashScopeError;
  retryNumber: number;
  retryAfterMs: number | undefined;
  remainingMs: number;
  options: RetryOptions;
  random: number;
  /** A call DashScope bills (see `isRetryable`). */
  paid?: boolean;
}): RetryDecision {
  const { error, retryNumber, retryAfterMs, remainingMs, options, random } = args;
  if (retryNumber >= options.attempts) return { retry: false };
  if (!isRetryable(error, { paid: args.paid ?? false })) return { retry: false };
  let delayMs: number;
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > options.maxRetryAfterMs) return { retry: false };
    delayMs = retryAfterMs;
  } else {
    delayMs = backoffDelayMs(retryNumber, options, random);
  }
  // A retry that cannot finish before the deadline only burns a request (and maybe quota).
  if (delayMs >= remainingMs) return { retry: false };
  return { retry: true, delayMs };
}
