import { z } from "zod";
import type { AskPiecesResult, PieceCallOutcome } from "../analysis/ask-pieces.js";
import type { AnalysisConversation, AnalysisPiece, ConversationStore } from "../analysis/conversations.js";
import type { RecordingAnalysis } from "../analysis/prepare-and-ask.js";
import type { AnalysisQuestion } from "../analysis/prompts.js";
import type { AudioSource } from "../analysis/sources.js";
import { DashScopeError, DashScopeOutcomeUnknownError } from "../dashscope/errors.js";
import { UserError } from "../errors.js";
import type { Logger } from "../log.js";
import { createCallLedger, type CallLedger } from "../usage/call-ledger.js";
import { textInputTokens, type Metering } from "../usage/metering.js";
import type { Job } from "./job-store.js";
import type { JobContext, JobKindWork } from "./runner.js";

const questionSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("overview") }),
  z.object({ kind: z.literal("transcribe") }),
  z.object({ kind: z.literal("music") }),
  z.object({ kind: z.literal("emotion") }),
  z.object({ kind: z.literal("translate") }),
  z.object({ kind: z.literal("ask"), question: z.string() }),
]);

/** An analysis or follow-up question, as stored in its job row; the audio is in the conversation. */
export const analysisJobInputSchema = z.object({
  conversationId: z.string(),
  question: questionSchema,
  feature: z.enum(["analysis", "follow-up"]),
});
export type AnalysisJobInput = z.infer<typeof analysisJobInputSchema>;

const analysisResultSchema = z.object({ answerIndex: z.number().int().nonnegative() });

export type AnalysisJobEnding =
  | { kind: "failed"; error: unknown }
  | { kind: "interrupted"; reason: "restart" | "shutdown" | "outcome-unknown"; error?: unknown };

/** What an analysis job needs of Discord. */
export type AnalysisReplies = {
  /** Renders the answer into the conversation (saved) and returns its index. */
  saveAnswer(job: Job, conversation: AnalysisConversation, question: AnalysisQuestion, result: AskPiecesResult): Promise<number>;
  /** Shows the saved answer as the job's reply. */
  deliver(job: Job, conversation: AnalysisConversation, answerIndex: number, log: Logger): Promise<void>;
  ended(job: Job, ending: AnalysisJobEnding, log: Logger): Promise<void>;
};

type AskProgress = {
  onText?: (text: string) => void;
  onPieceDone?: (done: number, total: number) => void;
  onCallDone?: (outcome: PieceCallOutcome) => Promise<void>;
  log?: Logger;
};

export type AnalysisJobDeps = {
  /** The first question: prepares the recording and asks each part as soon as it is uploaded. */
  prepareAndAsk: (source: AudioSource, question: AnalysisQuestion, language: string, log: Logger, progress: AskProgress) => Promise<RecordingAnalysis>;
  /** A follow-up: asks the parts already prepared. */
  askPieces: (pieces: AnalysisPiece[], question: AnalysisQuestion, language: string, progress: AskProgress) => Promise<AskPiecesResult>;
  conversations: ConversationStore;
  metering: Metering;
  replies: AnalysisReplies;
  model: string;
  concurrency: number;
};

function ledgerFor(job: Job, input: AnalysisJobInput, deps: AnalysisJobDeps): CallLedger {
  return createCallLedger(deps.metering, {
    reservationId: job.reservationId,
    where: { guildId: job.guildId, channelId: job.channelId, userId: job.userId, feature: input.feature, model: deps.model },
    singleCall: false,
  });
}

/** Audio tokens of one ≤30 s part: Qwen-Audio counts 25 a second (the seed's "音频Token计算"). */
const AUDIO_TOKENS_PER_PART = 30 * 25;
/** Input tokens a part's call may use at most: the model's 6,000, history and audio included. */
const MAX_INPUT_TOKENS_PER_CALL = 6_000;
/** The answer's cap (`max_tokens`). */
const MAX_OUTPUT_TOKENS_PER_CALL = 1_500;

/**
 * The most an analysis or follow-up can use, held against the cost budget before its calls (and
 * settled to what they used): every part at the input budget and the answer cap. A first analysis
 * of audio whose length Discord does not report holds `maxParts` parts.
 */
export function analysisTokenHold(parts: number): { input: number; output: number; audio: number } {
  return {
    input: parts * (MAX_INPUT_TOKENS_PER_CALL - AUDIO_TOKENS_PER_PART),
    output: parts * MAX_OUTPUT_TOKENS_PER_CALL,
    audio: parts * AUDIO_TOKENS_PER_PART,
  };
}

/** How many ≤30 s parts a recording of `durationSeconds` makes, at most `maxParts`. */
export function partsOf(durationSeconds: number | null | undefined, maxParts: number): number {
  if (!durationSeconds || durationSeconds <= 0) return maxParts;
  return Math.min(maxParts, Math.max(1, Math.ceil(durationSeconds / 30)));
}

/** One ledger row (and one log line) per Qwen-Audio call: answered, refused, or of unknown outcome. */
async function recordCall(outcome: PieceCallOutcome, ledger: CallLedger, log: Logger): Promise<void> {
  if (outcome.kind === "answered") {
    const { call } = outcome;
    log.info(
      { requestId: call.requestId, model: call.model, startSeconds: call.startSeconds, inputTokens: call.usage.inputTokens, outputTokens: call.usage.outputTokens, audioTokens: call.usage.audioTokens, finishReason: call.finishReason, latencyMs: call.latencyMs },
      "qwen-audio call",
    );
    await ledger.answered({
      occurredAt: call.occurredAt,
      requestId: call.requestId,
      inputTokens: textInputTokens(call.usage.inputTokens, call.usage.audioTokens),
      outputTokens: call.usage.outputTokens ?? 0,
      audioTokens: call.usage.audioTokens ?? 0,
      latencyMs: call.latencyMs,
    });
    return;
  }
  const { failure } = outcome;
  const requestId = failure.error instanceof DashScopeError ? failure.error.requestId : undefined;
  if (failure.error instanceof DashScopeOutcomeUnknownError) {
    await ledger.interrupted({ occurredAt: failure.occurredAt, requestId, latencyMs: failure.latencyMs });
    return;
  }
  const code = failure.error instanceof DashScopeError ? failure.error.code : "Unexpected";
  await ledger.failed({ occurredAt: failure.occurredAt, requestId, code, latencyMs: failure.latencyMs });
}

/**
 * An analysis or follow-up as a durable job: prepare the audio (first question only), ask every
 * part (each call booked as it ends), render and save the answer (billed), show it (delivered).
 */
export function createAnalysisJobWork(deps: AnalysisJobDeps): JobKindWork {
  const conversationOf = async (input: AnalysisJobInput) => {
    const conversation = await deps.conversations.get(input.conversationId);
    if (!conversation) throw new UserError("analysis.gone");
    return conversation;
  };

  const deliver = async (job: Job, conversation: AnalysisConversation, answerIndex: number, context: JobContext) => {
    await context.endProgress();
    try {
      await deps.replies.deliver(job, conversation, answerIndex, context.log);
    } catch (error) {
      // The answer is kept in the conversation; the job still ends, with a word to the requester.
      context.log.error({ err: error }, "the analysis could not be shown");
      await context.update({ state: "failed", errorCode: "DeliveryFailed" });
      await deps.replies.ended(job, { kind: "failed", error }, context.log);
      return;
    }
    await context.update({ state: "delivered" });
  };

  const end = async (job: Job, ledger: CallLedger, ending: AnalysisJobEnding, context: JobContext) => {
    await ledger.close();
    const state = ending.kind === "failed" ? "failed" : "interrupted";
    const errorCode = ending.kind === "interrupted" ? "Interrupted" : ending.error instanceof DashScopeError ? ending.error.code : ending.error instanceof UserError ? ending.error.messageKey : "Unexpected";
    await context.update({ state, errorCode });
    await context.endProgress();
    await deps.replies.ended(job, ending, context.log);
  };

  return {
    concurrency: deps.concurrency,
    async run(job, context) {
      const input = analysisJobInputSchema.parse(job.input);
      const ledger = ledgerFor(job, input, deps);
      let conversation: AnalysisConversation;
      try {
        conversation = await conversationOf(input);
      } catch (error) {
        await end(job, ledger, { kind: "failed", error }, context);
        return;
      }
      const progress: AskProgress = {
        onText: (text) => context.progress({ phase: "listening", text }),
        onPieceDone: (done, total) => context.progress({ phase: "pieces", done, total }),
        // Each part's call is booked as it ends, not after the slowest part.
        onCallDone: (outcome) => recordCall(outcome, ledger, context.log),
        log: context.log,
      };
      let result: AskPiecesResult;
      if (conversation.pieces.length === 0) {
        context.progress({ phase: "preparing" });
        let analysis: RecordingAnalysis;
        try {
          analysis = await deps.prepareAndAsk(conversation.source, input.question, conversation.language, context.log, progress);
        } catch (error) {
          // Nothing reached the model (an undecodable file, a download refused): the hold goes back.
          await end(job, ledger, { kind: "failed", error }, context);
          return;
        }
        conversation.durationSeconds = analysis.durationSeconds;
        conversation.truncatedAtSeconds = analysis.truncatedAtSeconds;
        conversation.pieces = analysis.pieces;
        result = analysis.result;
      } else {
        const pieces = conversation.pieces;
        context.progress(pieces.length > 1 ? { phase: "pieces", done: 0, total: pieces.length } : { phase: "listening", text: "" });
        result = await deps.askPieces(pieces, input.question, conversation.language, progress);
      }
      const pieces = conversation.pieces;
      for (const failure of result.failed) context.log.warn({ err: failure.error, startSeconds: failure.startSeconds }, "a part of the audio could not be analysed");
      const first = result.failed[0];
      if (result.answers.length === 0 && first) {
        await end(job, ledger, first.error instanceof DashScopeOutcomeUnknownError ? { kind: "interrupted", reason: "outcome-unknown", error: first.error } : { kind: "failed", error: first.error }, context);
        return;
      }
      await ledger.close();
      context.log.info(
        { requestIds: result.requestIds, question: input.question.kind, pieces: pieces.length, failedPieces: result.failed.length, inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens, audioTokens: result.usage.audioTokens },
        "audio analysed",
      );
      // The turns the parts just had are what the next follow-up continues.
      const answerIndex = await deps.replies.saveAnswer(job, conversation, input.question, result);
      await context.update({ state: "billed", requestId: result.requestIds[0] ?? null, result: { answerIndex } });
      context.progress({ phase: "finishing" });
      await deliver(job, conversation, answerIndex, context);
    },
    async deliverBilled(job, context) {
      const input = analysisJobInputSchema.parse(job.input);
      const { answerIndex } = analysisResultSchema.parse(job.result);
      await deliver(job, await conversationOf(input), answerIndex, context);
    },
    async interrupt(job, context, reason) {
      const input = analysisJobInputSchema.parse(job.input);
      const ledger = ledgerFor(job, input, deps);
      await ledger.interrupted({ occurredAt: job.updatedAt, requestId: undefined, latencyMs: 0 });
      await end(job, ledger, { kind: "interrupted", reason }, context);
    },
  };
}
