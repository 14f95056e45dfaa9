import { createSemaphore } from "../audio/run.js";
import { startAsking, type AskPiecesDeps, type AskPiecesResult, type AskProgress } from "./ask-pieces.js";
import type { AnalysisPiece } from "./conversations.js";
import { prepareAudio, type PrepareDeps, type PreparationPlan, type PrepareLimits } from "./prepare.js";
import type { AnalysisQuestion } from "./prompts.js";
import type { AudioSource } from "./sources.js";

export type RecordingAnalysis = {
  durationSeconds: number;
  /** Seconds analysed, when the recording was longer than `maxPieces` pieces. */
  truncatedAtSeconds: number | undefined;
  /** The parts the model can reach, in time order: what follow-up questions are asked of. */
  pieces: AnalysisPiece[];
  result: AskPiecesResult;
};

/**
 * Prepares a recording and asks the first question of it, pipelined: each part is asked as soon
 * as it is uploaded, while later parts are still being converted and uploaded, at most
 * `ask.concurrency` parts at once. A 5-minute recording then takes little longer than a 30 s one
 * (BENCHMARKS.md) instead of preparing every part before asking the first.
 *
 * Throws what preparation throws when no part could be asked. When preparation fails after some
 * parts were asked, those answers stand and the parts that never reached the model are listed in
 * `result.failed` with that error (they made no call, so `onCallDone` does not see them).
 */
export async function prepareAndAsk(
  source: AudioSource,
  question: AnalysisQuestion,
  language: string,
  deps: { prepare: PrepareDeps; ask: AskPiecesDeps },
  limits: PrepareLimits,
  progress: AskProgress = {},
): Promise<RecordingAnalysis> {
  const asking = startAsking(question, language, deps.ask, progress, 1);
  const askSlots = createSemaphore(deps.ask.concurrency);
  const pieces: AnalysisPiece[] = [];
  const asked: Promise<void>[] = [];
  let plan: PreparationPlan | undefined;
  const onPiece = (prepared: { startSeconds: number; endSeconds: number; audioUrl: string }) => {
    const piece: AnalysisPiece = { ...prepared, history: [], lastUsage: undefined };
    pieces.push(piece);
    asked.push(askSlots.run(() => asking.ask(piece)));
  };

  let durationSeconds: number;
  let truncatedAtSeconds: number | undefined;
  try {
    const prepared = await prepareAudio(source, deps.prepare, limits, {
      onPlanned: (planned) => {
        plan = planned;
        asking.expect(planned.pieces);
      },
      onPiece,
    });
    asking.expect(prepared.pieces.length);
    ({ durationSeconds, truncatedAtSeconds } = prepared);
  } catch (error) {
    if (pieces.length === 0 || plan === undefined) {
      await Promise.all(asked);
      throw error;
    }
    durationSeconds = plan.durationSeconds;
    truncatedAtSeconds = undefined;
    for (const gap of gapsBetween(pieces, plan.analysedSeconds)) {
      asking.addFailure({ ...gap, error, occurredAt: new Date(), latencyMs: 0 });
    }
  }
  await Promise.all(asked);
  pieces.sort((a, b) => a.startSeconds - b.startSeconds);
  return { durationSeconds, truncatedAtSeconds, pieces, result: asking.finish() };
}

/** The stretches of `[0, endSeconds]` no piece covers (a tenth of a second of slack at each seam). */
export function gapsBetween(pieces: readonly { startSeconds: number; endSeconds: number }[], endSeconds: number) {
  const gaps: { startSeconds: number; endSeconds: number }[] = [];
  let covered = 0;
  for (const piece of [...pieces].sort((a, b) => a.startSeconds - b.startSeconds)) {
    if (piece.startSeconds > covered + 0.1) gaps.push({ startSeconds: covered, endSeconds: piece.startSeconds });
    covered = Math.max(covered, piece.endSeconds);
  }
  if (endSeconds > covered + 0.1) gaps.push({ startSeconds: covered, endSeconds });
  return gaps;
}
