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
export async function askPieces(
  pieces: AnalysisPiece[],
  question: AnalysisQuestion,
  language: string,
  deps: AskPiecesDeps,
  progress: { onText?: (text: string) => void; onPieceDone?: (done: number, total: number) => void; log?: Logger } = {},
): Promise<AskPiecesResult> {
  let done = 0;
  const timings: Array<{ occurredAt: Date; latencyMs: number }> = pieces.map(() => ({ occurredAt: new Date(), latencyMs: 0 }));
  const results = await mapWithConcurrency(pieces, deps.concurrency, async (piece, index) => {
    const started = Date.now();
    timings[index] = { occurredAt: new Date(started), latencyMs: 0 };
    const text = questionText(question, language);
    const turn: QwenAudioMessage =
      piece.history.length === 0
        ? { role: "user", content: [{ audio: piece.audioUrl }, { text }] }
        : { role: "user", content: [{ text }] };
    const base: QwenAudioMessage[] = piece.history.length === 0 ? [{ role: "system", content: [{ text: systemPrompt(language) }] }] : piece.history;
    const messages = deps.fitToBudget([...base, turn], piece);
    const answer = await deps
      .ask({
        model: deps.model,
        messages,
        timeoutMs: deps.timeoutMs,
        ...(progress.log ? { log: progress.log } : {}),
        ...(pieces.length === 1 && progress.onText ? { onText: progress.onText } : {}),
      })
      .finally(() => {
        timings[index] = { occurredAt: new Date(started), latencyMs: Date.now() - started };
      });
    // What was sent, not the untrimmed history: stored conversations stay within the budget too.
    piece.history = [...messages, { role: "assistant", content: [{ text: answer.text }] }];
    piece.lastUsage = answer.usage;
    progress.onPieceDone?.(++done, pieces.length);
    return answer;
  });

  const answers: PieceAnswer[] = [];
  const calls: AudioCallRecord[] = [];
  const failed: AskPiecesResult["failed"] = [];
  let usage: QwenAudioUsage = { inputTokens: undefined, outputTokens: undefined, audioTokens: undefined };
  const requestIds: string[] = [];
  let truncatedByLength = false;
  results.forEach((result, index) => {
    const piece = pieces[index] as AnalysisPiece;
    const timing = timings[index] as { occurredAt: Date; latencyMs: number };
    if (result.status === "fulfilled") {
      answers.push({ startSeconds: piece.startSeconds, endSeconds: piece.endSeconds, text: result.value.text });
      calls.push({ requestId: result.value.requestId, model: deps.model, startSeconds: piece.startSeconds, usage: result.value.usage, finishReason: result.value.finishReason, ...timing });
      usage = addUsage(usage, result.value.usage);
      if (result.value.requestId) requestIds.push(result.value.requestId);
      if (result.value.finishReason === "length") truncatedByLength = true;
    } else {
      failed.push({ startSeconds: piece.startSeconds, endSeconds: piece.endSeconds, error: result.reason, ...timing });
    }
  });
  return { answers, calls, failed, usage, requestIds, truncatedByLength };
}
