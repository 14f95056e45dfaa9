import { performance } from "node:perf_hooks";

/**
 * The time limit of one DashScope call, shared by all its tries and waits, joined with the
 * caller's own AbortSignal. Kept apart from the transport so the rule "one budget per call, not
 * per try" is in one place.
 */

/** A wait that ends early (rejecting) when the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The deadline of one call, shared by all its tries, joined with the caller's signal. */
export type CallBudget = {
  signal: AbortSignal;
  remainingMs(): number;
  readonly timedOut: boolean;
  dispose(): void;
};

/**
 * Starts a call's clock. The returned signal aborts when `timeoutMs` passes (then `timedOut` is
 * true) or when the caller's signal aborts (with the caller's reason). Call `dispose` when done.
 */
export function startBudget(timeoutMs: number, callerSignal: AbortSignal | undefined): CallBudget {
  const controller = new AbortController();
  const deadline = performance.now() + timeoutMs;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error("DashScope call budget exhausted"));
  }, timeoutMs);
  const onCallerAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) controller.abort(callerSignal.reason);
  else callerSignal?.addEventListener("abort", onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    remainingMs: () => Math.max(0, deadline - performance.now()),
    get timedOut() {
      return timedOut;
    },
    dispose() {
      clearTimeout(timer);
      callerSignal?.removeEventListener("abort", onCallerAbort);
    },
  };
}
