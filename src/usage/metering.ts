import type { Logger } from "../log.js";
import { recordCall, recordDelivery, type CallRecord } from "./ledger.js";
import { release, reserve, settle, type QuotaLimit, type ReserveInput, type SettleActual } from "./quotas.js";
import type { UsageStore } from "./store.js";

/** A quota said no: which limit, and when it frees up. */
export class QuotaRefusedError extends Error {
  override readonly name = "QuotaRefusedError";
  constructor(
    readonly limit: QuotaLimit,
    readonly resetsAt: Date,
    /** Only requests still in progress fill the limit: it frees up when they finish. */
    readonly pending = false,
  ) {
    super(`quota ${limit} reached until ${resetsAt.toISOString()}`);
  }
}

/**
 * What the song and analysis flows need from the ledger: hold quota before a paid call, write one
 * row per call right after it returns (before delivery, so a crash can't lose it), settle or
 * release the hold. Ledger writes after a paid call never fail the user's request: the song or
 * answer is already paid for, so a write error is logged and delivery goes on.
 */
export type Metering = {
  /** Holds quota for a call; throws QuotaRefusedError when a limit says no. */
  reserve(input: ReserveInput): Promise<string>;
  /** Records one call; returns the row's request id (DashScope's, or a local one). */
  record(call: CallRecord, options?: { reservationId?: string }): Promise<string | undefined>;
  settle(reservationId: string, actual: SettleActual): Promise<void>;
  release(reservationId: string): Promise<void>;
  delivered(requestId: string | undefined, bytes: number): Promise<void>;
};

export type MeteringOptions = {
  /**
   * Told of each call once, as it is recorded (metrics counters). A row already there (a retried
   * record of the same request id) is not told twice; a call whose row could not be written is told.
   */
  onCallRecorded?: ((call: CallRecord) => void) | undefined;
};

export function createMetering(store: UsageStore, logger: Logger, options: MeteringOptions = {}): Metering {
  const logged = async <T>(what: string, fields: Record<string, unknown>, work: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await work();
    } catch (error) {
      logger.error({ err: error, ...fields }, `usage ledger: ${what} failed`);
      return undefined;
    }
  };
  const tellRecorded = (call: CallRecord) => {
    try {
      options.onCallRecorded?.(call);
    } catch (error) {
      logger.error({ err: error, requestId: call.requestId }, "usage ledger: an observer of recorded calls failed");
    }
  };
  return {
    async reserve(input) {
      const result = await reserve(store, input);
      if (!result.ok) throw new QuotaRefusedError(result.limit, result.resetsAt, result.pending);
      return result.reservationId;
    },
    async record(call, recordOptions = {}) {
      const result = await logged("recording a call", { requestId: call.requestId, feature: call.feature }, () => recordCall(store, call, recordOptions));
      if (result === undefined || result.inserted) tellRecorded(call);
      return result?.requestId;
    },
    async settle(reservationId, actual) {
      await logged("settling a reservation", { reservationId }, () => settle(store, reservationId, actual));
    },
    async release(reservationId) {
      await logged("releasing a reservation", { reservationId }, () => release(store, reservationId));
    },
    async delivered(requestId, bytes) {
      if (!requestId) return;
      await logged("recording a delivery", { requestId }, () => recordDelivery(store, requestId, bytes));
    },
  };
}

/**
 * Qwen-Audio's `input_tokens` includes the audio's tokens (the seed's example: 1282 in, 768 of them
 * audio), and the ledger keeps text and audio apart so prices don't count audio twice.
 */
export function textInputTokens(inputTokens: number | undefined, audioTokens: number | undefined): number {
  return Math.max(0, (inputTokens ?? 0) - (audioTokens ?? 0));
}
