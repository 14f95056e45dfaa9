import type { Feature } from "./schema.js";
import type { Metering } from "./metering.js";

/** Where a job's calls are booked: the same for every call of one job. */
export type CallLedgerWhere = {
  guildId: string | null;
  channelId: string | null;
  userId: string;
  feature: Feature;
  model: string;
};

export type AnsweredCall = {
  occurredAt: Date;
  requestId: string | undefined;
  musicSeconds?: number;
  /** Text input tokens (audio tokens already taken out). */
  inputTokens?: number;
  outputTokens?: number;
  audioTokens?: number;
  latencyMs: number;
};

export type UnansweredCall = { occurredAt: Date; requestId: string | undefined; latencyMs: number };

/**
 * The ledger steps of one job, in one place for songs and analyses: the quota hold taken when the
 * request was accepted, one row per DashScope call as soon as it ends (answered, failed, or
 * `interrupted` when its outcome is unknown and it may have been billed), then the hold settled to
 * what was answered or released when nothing was.
 */
export type CallLedger = {
  /** Records an answered (billed) call; returns the row's request id. */
  answered(call: AnsweredCall): Promise<string | undefined>;
  /** Records a call DashScope refused with an error code (nothing billed). */
  failed(call: UnansweredCall & { code: string }): Promise<void>;
  /** Records a call whose outcome is unknown: it may have been billed. */
  interrupted(call: UnansweredCall): Promise<void>;
  /** Settles the hold to the answered calls, or releases it when none was answered. Idempotent. */
  close(): Promise<void>;
};

/** Outcome of a ledger row whose call may or may not have been billed. */
export const INTERRUPTED_OUTCOME = "interrupted";

export function createCallLedger(
  metering: Metering,
  options: {
    reservationId: string | null;
    where: CallLedgerWhere;
    /**
     * One paid call per job (a song): its row settles the hold in the same transaction, so the
     * ledger and the quotas cannot disagree after a crash. Otherwise (an analysis's parts) the hold
     * is settled once, to the sum, by `close`.
     */
    singleCall: boolean;
  },
): CallLedger {
  const { reservationId, where, singleCall } = options;
  const sums = { musicSeconds: 0, inputTokens: 0, outputTokens: 0, audioTokens: 0 };
  let answeredCalls = 0;
  let holdFinished = false;

  return {
    async answered(call) {
      answeredCalls += 1;
      sums.musicSeconds += call.musicSeconds ?? 0;
      sums.inputTokens += call.inputTokens ?? 0;
      sums.outputTokens += call.outputTokens ?? 0;
      sums.audioTokens += call.audioTokens ?? 0;
      const settleHere = singleCall && reservationId !== null && !holdFinished;
      const requestId = await metering.record(
        {
          ...where,
          occurredAt: call.occurredAt,
          requestId: call.requestId,
          outcome: "ok",
          musicSeconds: call.musicSeconds ?? 0,
          inputTokens: call.inputTokens ?? 0,
          outputTokens: call.outputTokens ?? 0,
          audioTokens: call.audioTokens ?? 0,
          latencyMs: call.latencyMs,
        },
        settleHere ? { reservationId } : {},
      );
      // A failed ledger write (logged by metering) leaves the hold to `close`.
      if (settleHere && requestId !== undefined) holdFinished = true;
      return requestId;
    },
    async failed(call) {
      await metering.record({ ...where, occurredAt: call.occurredAt, requestId: call.requestId, outcome: call.code, latencyMs: call.latencyMs });
    },
    async interrupted(call) {
      await metering.record({ ...where, occurredAt: call.occurredAt, requestId: call.requestId, outcome: INTERRUPTED_OUTCOME, latencyMs: call.latencyMs });
    },
    async close() {
      if (holdFinished || reservationId === null) return;
      holdFinished = true;
      if (answeredCalls === 0) await metering.release(reservationId);
      else await metering.settle(reservationId, sums);
    },
  };
}
