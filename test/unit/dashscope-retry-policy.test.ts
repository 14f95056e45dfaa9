import { describe, expect, it } from "vitest";
import { DashScopeError } from "../../src/dashscope/errors.js";
import {
  backoffDelayMs,
  decideRetry,
  defaultRetryOptions,
  isRetryable,
  parseRetryAfterMs,
  type RetryOptions,
} from "../../src/dashscope/retry-policy.js";

const options: RetryOptions = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 30_000 };

function error(code: string, status?: number): DashScopeError {
  return new DashScopeError({ code, message: code, status, endpoint: "/services/audio/music/generation" });
}

describe("retry policy", () => {
  it("retries throttling, server errors and network failures", () => {
    expect(isRetryable(error("Throttling.RateQuota", 429))).toBe(true);
    expect(isRetryable(error("Throttling.BurstRate", 429))).toBe(true);
    expect(isRetryable(error("InternalError.Algo", 500))).toBe(true);
    expect(isRetryable(error("ServiceUnavailable", 503))).toBe(true);
    expect(isRetryable(error("NetworkError"))).toBe(true);
  });

  it("never retries client errors, account states, timeouts or malformed answers", () => {
    for (const [code, status] of [
      ["InvalidParameter", 400],
      ["DataInspectionFailed", 400],
      ["Arrearage", 400],
      ["InvalidApiKey", 401],
      ["AccessDenied", 403],
      ["AccessDenied.Unpurchased", 403],
      ["Model.AccessDenied", 403],
      ["CommodityNotPurchased", 429],
      ["PrepaidBillOverdue", 429],
      ["PostpaidBillOverdue", 429],
    ] as const) {
      expect(isRetryable(error(code, status)), code).toBe(false);
    }
    expect(isRetryable(error("RequestTimeout"))).toBe(false);
    expect(isRetryable(error("MalformedResponse", 200))).toBe(false);
  });

  it("draws full-jitter backoff between zero and a doubling ceiling capped at maxDelayMs", () => {
    expect(backoffDelayMs(1, options, 0)).toBe(0);
    expect(backoffDelayMs(1, options, 0.999)).toBe(99);
    expect(backoffDelayMs(2, options, 0.5)).toBe(100);
    expect(backoffDelayMs(3, options, 0.5)).toBe(200);
    expect(backoffDelayMs(10, options, 0.999)).toBe(999);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-03-30T12:00:00Z");
    expect(parseRetryAfterMs("7", now)).toBe(7000);
    expect(parseRetryAfterMs(["3", "9"], now)).toBe(3000);
    expect(parseRetryAfterMs("Mon, 30 Mar 2026 12:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfterMs("Mon, 30 Mar 2026 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfterMs("soon", now)).toBeUndefined();
    expect(parseRetryAfterMs("-1", now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });

  it("waits exactly what Retry-After asks, unless that is longer than its cap", () => {
    const base = { error: error("Throttling.RateQuota", 429), retryNumber: 1, remainingMs: 60_000, options, random: 0.5 };
    expect(decideRetry({ ...base, retryAfterMs: 2000 })).toEqual({ retry: true, delayMs: 2000 });
    expect(decideRetry({ ...base, retryAfterMs: 31_000 })).toEqual({ retry: false });
  });

  it("does not retry when the wait would outlast the call's budget, or when tries are used up", () => {
    const base = { error: error("InternalError", 500), retryAfterMs: undefined, options, random: 0.5 };
    expect(decideRetry({ ...base, retryNumber: 1, remainingMs: 10 })).toEqual({ retry: false });
    expect(decideRetry({ ...base, retryNumber: 3, remainingMs: 60_000 })).toEqual({ retry: true, delayMs: 200 });
    expect(decideRetry({ ...base, retryNumber: 4, remainingMs: 60_000 })).toEqual({ retry: false });
  });

  it("defaults to three tries", () => {
    expect(defaultRetryOptions.attempts).toBe(3);
  });
});
