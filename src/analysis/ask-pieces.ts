import type { AskQwenAudioOptions, QwenAudioAnswer, QwenAudioMessage, QwenAudioUsage } from "../dashscope/audio-types.js";
import { mapWithConcurrency } from "../jobs/map-with-concurrency.js";
import type { Logger } from "../log.js";
import type { PieceAnswer } from "./answer-sections.js";
import type { AnalysisPiece } from "./conversations.js";
import { questionText, systemPrompt, type AnalysisQuestion } from "./prompts.js";

export type AskPiecesDeps = {
  ask: (options: AskQwenAudioOptions) => Promise<QwenAudioAnswer>;
  /** Drops the oldest turns so a long conversation stays within the model's input budget. */
  fitToBudget: (messages: QwenAudioMessage[], piece: AnalysisPiece) => QwenAudioMessage[];
  model: string;
  concurrency: number;
  timeoutMs: number;
};

/** One Qwen-Audio call as the usage ledger records it. */
export type AudioCallRecord = {
  requestId: string | undefined;
  model: string;
  startSeconds: number;
  usage: QwenAudioUsage;
  finishReason: string | undefined;
  occurredAt: Date;
  latencyMs: number;
};

export type AskPiecesResult = {
  answers: PieceAnswer[];
  /** Every successful call, one per piece. */
  calls: AudioCallRecord[];
  /** Pieces whose call failed; with some answers, their ranges are named in the reply. */
  failed: Array<{ startSeconds: number; endSeconds: number; error: unknown; occurredAt: Date; latencyMs: number }>;
  usage: QwenAudioUsage;
  requestIds: string[];
  truncatedByLength: boolean;
};

function addUsage(total: QwenAudioUsage, usage: QwenAudioUsage): QwenAudioUsage {
  const add = (a: number | undefined, b: number | undefined) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));
  return {
    inputTokens: add(total.inputTokens, usage.inputTokens),
    outputTokens: add(total.outputTokens, usage.outputTokens),
    audioTokens: add(total.audioTokens, usage.audioTokens),
  };
}

/**
 * Asks the same question of every piece (bounded concurrency) and appends each exchange to that
 * piece's history, so follow-ups continue the conversation. Never throws for a failed call: every
 * call, answered or failed, comes back so the caller can record it; none answered is the caller's
 * failure to report. `onText` streams a single piece's
 * answer; with several pieces it reports how many are done.
 */
/** How one part's call ended, reported as soon as it does (for the ledger). */
export type PieceCallOutcome =
  | { kind: "answered"; call: AudioCallRecord }
  | { kind: "failed"; failure: AskPiecesResult["failed"][number] };

export async function askPieces(
  pieces: AnalysisPiece[],
  question: AnalysisQuestion,
  language: string,
  deps: AskPiecesDeps,
  progress: {
    onText?: (text: string) => void;
    onPieceDone?: (done: number, total: number) => void;
    /** Awaited as each call ends, so it is recorded before the other parts are done. */
    onCallDone?: (outcome: PieceCallOutcome) => Promise<void>;
    log?: Logger;
  } = {},
): Promise<AskPiecesResult> {
  let done = 0;
  const answers: PieceAnswer[] = [];
  const calls: AudioCallRecord[] = [];
  const failed: AskPiecesResult["failed"] = [];

  await mapWithConcurrency(pieces, deps.concurrency, async (piece) => {
    const started = Date.now();
    const text = questionText(question, language);
    const turn: QwenAudioMessage =
      piece.history.length === 0
        ? { role: "user", content: [{ audio: piece.audioUrl }, { text }] }
        : { role: "user", content: [{ text }] };
    const base: QwenAudioMessage[] = piece.history.length === 0 ? [{ role: "system", content: [{ text: systemPrompt(language) }] }] : piece.history;
    const messages = deps.fitToBudget([...base, turn], piece);
    let outcome: PieceCallOutcome;
    try {
      const answer = await deps.ask({
        model: deps.model,
        messages,
        timeoutMs: deps.timeoutMs,
        ...(progress.log ? { log: progress.log } : {}),
        ...(pieces.length === 1 && progress.onText ? { onText: progress.onText } : {}),
      });
      // What was sent, not the untrimmed history: stored conversations stay within the budget too.
      piece.history = [...messages, { role: "assistant", content: [{ text: answer.text }] }];
      piece.lastUsage = answer.usage;
      answers.push({ startSeconds: piece.startSeconds, endSeconds: piece.endSeconds, text: answer.text });
      const call: AudioCallRecord = {
        requestId: answer.requestId,
        model: deps.model,
        startSeconds: piece.startSeconds,
        usage: answer.usage,
        finishReason: answer.finishReason,
        occurredAt: new Date(started),
        latencyMs: Date.now() - started,
      };
      calls.push(call);
      outcome = { kind: "answered", call };
    } catch (error) {
      const failure = { startSeconds: piece.startSeconds, endSeconds: piece.endSeconds, error, occurredAt: new Date(started), latencyMs: Date.now() - started };
      failed.push(failure);
      outcome = { kind: "failed", failure };
    }
    await progress.onCallDone?.(outcome);
    progress.onPieceDone?.(++done, pieces.length);
  });

  // Parts finish in any order; the reply lists them in time order.
  const byStart = <T extends { startSeconds: number }>(list: T[]) => list.sort((x, y) => x.startSeconds - y.startSeconds);
  byStart(answers);
  byStart(calls);
  byStart(failed);
  const usage = calls.reduce((total, call) => addUsage(total, call.usage), { inputTokens: undefined, outputTokens: undefined, audioTokens: undefined } as QwenAudioUsage);
  const requestIds = calls.flatMap((call) => (call.requestId ? [call.requestId] : []));
  const truncatedByLength = calls.some((call) => call.finishReason === "length");
  return { answers, calls, failed, usage, requestIds, truncatedByLength };
}
