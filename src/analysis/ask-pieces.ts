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

/** How one part's call ended, reported as soon as it does (for the ledger). */
export type PieceCallOutcome =
  | { kind: "answered"; call: AudioCallRecord }
  | { kind: "failed"; failure: AskPiecesResult["failed"][number] };

export type AskProgress = {
  /** A single part's answer as it streams in (not called when there are several parts). */
  onText?: (text: string) => void;
  onPieceDone?: (done: number, total: number) => void;
  /** Awaited as each call ends, so it is recorded before the other parts are done. */
  onCallDone?: (outcome: PieceCallOutcome) => Promise<void>;
  log?: Logger;
};

/**
 * One question asked of pieces handed over one by one (`ask`), possibly while later pieces are
 * still being prepared; `finish` gathers the outcome once every `ask` has settled. `total` is the
 * number of pieces expected, for progress and to stream a lone piece's answer; `expect` corrects it.
 */
export type PieceAsking = {
  ask(piece: AnalysisPiece): Promise<void>;
  expect(total: number): void;
  /** A part that could not be asked at all (its preparation failed); named in the reply. */
  addFailure(failure: AskPiecesResult["failed"][number]): void;
  finish(): AskPiecesResult;
};

/**
 * Starts asking one question. Each `ask` appends the exchange to that piece's history, so
 * follow-ups continue the conversation, and never throws for a failed call: every call, answered
 * or failed, comes back so the caller can record it; none answered is the caller's failure to report.
 */
export function startAsking(question: AnalysisQuestion, language: string, deps: AskPiecesDeps, progress: AskProgress, total: number): PieceAsking {
  let expected = total;
  let done = 0;
  const answers: PieceAnswer[] = [];
  const calls: AudioCallRecord[] = [];
  const failed: AskPiecesResult["failed"] = [];

  const ask = async (piece: AnalysisPiece): Promise<void> => {
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
        ...(expected === 1 && progress.onText ? { onText: progress.onText } : {}),
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
    progress.onPieceDone?.(++done, expected);
  };

  const finish = (): AskPiecesResult => {
    // Parts finish in any order; the reply lists them in time order.
    const byStart = <T extends { startSeconds: number }>(list: T[]) => list.sort((x, y) => x.startSeconds - y.startSeconds);
    byStart(answers);
    byStart(calls);
    byStart(failed);
    const usage = calls.reduce((sum, call) => addUsage(sum, call.usage), { inputTokens: undefined, outputTokens: undefined, audioTokens: undefined } as QwenAudioUsage);
    const requestIds = calls.flatMap((call) => (call.requestId ? [call.requestId] : []));
    const truncatedByLength = calls.some((call) => call.finishReason === "length");
    return { answers, calls, failed, usage, requestIds, truncatedByLength };
  };

  return {
    ask,
    expect: (count) => {
      expected = count;
    },
    addFailure: (failure) => failed.push(failure),
    finish,
  };
}

/** Asks the same question of every piece, at most `deps.concurrency` at once (see `startAsking`). */
export async function askPieces(
  pieces: AnalysisPiece[],
  question: AnalysisQuestion,
  language: string,
  deps: AskPiecesDeps,
  progress: AskProgress = {},
): Promise<AskPiecesResult> {
  const asking = startAsking(question, language, deps, progress, pieces.length);
  await mapWithConcurrency(pieces, deps.concurrency, (piece) => asking.ask(piece));
  return asking.finish();
}
