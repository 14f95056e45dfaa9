import {
  ComponentType,
  MessageFlags,
  TextInputStyle,
  type APIModalInteractionResponseCallbackData,
  type ButtonInteraction,
  type ModalSubmitInteraction,
  type RepliableInteraction,
  type StringSelectMenuInteraction,
} from "discord.js";
import { formatTimestamp, mergePieceAnswers } from "../../analysis/answer-sections.js";
import type { AskPiecesResult, AskProgress, PieceCallOutcome } from "../../analysis/ask-pieces.js";
import { newConversationId, type AnalysisConversation, type AnalysisPiece, type ConversationStore } from "../../analysis/conversations.js";
import type { RecordingAnalysis } from "../../analysis/prepare-and-ask.js";
import { languageOfLocale, type AnalysisQuestion } from "../../analysis/prompts.js";
import type { AudioSource } from "../../analysis/sources.js";
import { UserError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { DashScopeError } from "../../dashscope/errors.js";
import type { JobQueue } from "../../jobs/job-queue.js";
import { textInputTokens, type Metering } from "../../usage/metering.js";
import type { GuildSettingsStore } from "../../settings/guild-settings.js";
import { allAnswerEmbeds, analysisComponents, analysisEmbed, analysisPages } from "./layout.js";
import { encodeCustomId, type CustomId } from "../custom-id.js";
import type { LocalTranslate } from "../failure-text.js";
import { discordLimits, ellipsize } from "../limits.js";
import { formatElapsed, startProgressReporter } from "../progress.js";
import type { HandlerContext } from "../router.js";
import { groupEmbedsIntoMessages } from "../song/layout.js";

/** What analysing audio needs from the rest of the bot; wired in main.ts. */
export type AnalysisServices = {
  /** Prepares a recording and asks its first question, each part as soon as it is uploaded. */
  prepareAndAsk: (source: AudioSource, question: AnalysisQuestion, language: string, log: Logger, progress: AskProgress) => Promise<RecordingAnalysis>;
  askPieces: (
    pieces: AnalysisPiece[],
    question: AnalysisQuestion,
    language: string,
    progress: AskProgress,
  ) => Promise<AskPiecesResult>;
  conversations: ConversationStore;
  guildSettings: GuildSettingsStore;
  /** Bounds analyses across the bot and allows one per user at a time (follow-ups included). */
  queue: JobQueue;
  metering: Metering;
  model: string;
  progressIntervalMs: number;
};

const noMentions = { parse: [] as [] };

type Phase =
  | { name: "queued"; position: number }
  | { name: "preparing" }
  | { name: "listening"; text: string }
  | { name: "pieces"; done: number; total: number };

function answerTitle(question: AnalysisQuestion, conversation: Pick<AnalysisConversation, "sourceName" | "language">, t: LocalTranslate): string {
  switch (question.kind) {
    case "overview":
      return t("analysis.title.overview", { name: conversation.sourceName });
    case "transcribe":
      return t("analysis.title.transcribe");
    case "music":
      return t("analysis.title.music");
    case "emotion":
      return t("analysis.title.emotion");
    case "translate":
      return t("analysis.title.translate", { language: conversation.language });
    case "ask":
      return t("analysis.title.ask", { question: question.question });
  }
}

/**
 * Asks one question of the conversation's audio: holds quota, acknowledges (privately unless the
 * conversation is public), streams progress, records every call in the ledger, posts the answer.
 */
async function askAndReply(
  interaction: RepliableInteraction,
  conversation: AnalysisConversation,
  question: AnalysisQuestion,
  services: AnalysisServices,
  context: HandlerContext,
  prepare?: (progress: AskProgress) => Promise<AskPiecesResult>,
): Promise<void> {
  const { t, log } = context;
  if (services.queue.hasJob(interaction.user.id)) throw new UserError("busy");
  const reservationId = await services.metering.reserve({
    guildId: interaction.guildId,
    userId: interaction.user.id,
    feature: prepare ? "analysis" : "follow-up",
    model: services.model,
  });
  try {
    await interaction.deferReply(conversation.ephemeral ? { flags: MessageFlags.Ephemeral } : {});
  } catch (error) {
    await services.metering.release(reservationId);
    throw error;
  }
  const started = Date.now();
  let phase: Phase = prepare ? { name: "preparing" } : { name: "listening", text: "" };
  const render = () => {
    const elapsed = formatElapsed(Date.now() - started);
    if (phase.name === "queued") return t("song.progress.queued", { position: phase.position });
    if (phase.name === "preparing") return t("analysis.progress.preparing", { elapsed });
    if (phase.name === "pieces") return t("analysis.progress.pieces", { done: phase.done, total: phase.total, elapsed });
    const head = t("analysis.progress.listening", { elapsed });
    return phase.text ? ellipsize(`${head}\n\n${phase.text}`, discordLimits.contentLength) : head;
  };
  const progress = startProgressReporter({
    render,
    edit: (text) => interaction.editReply({ content: text, allowedMentions: noMentions }),
    intervalMs: services.progressIntervalMs,
    onEditError: (error) => log.warn({ err: error }, "progress edit failed"),
  });

  let result: AskPiecesResult;
  try {
    result = await services.queue.run(
      interaction.user.id,
      async () => {
        phase = prepare ? { name: "preparing" } : { name: "listening", text: "" };
        const progress: AskProgress = {
          onText: (text) => (phase = { name: "listening", text }),
          onPieceDone: (done, total) => (phase = { name: "pieces", done, total }),
          // Each part's call is recorded as it ends, not after the slowest part.
          onCallDone: (outcome) => recordAnalysisCall(outcome, conversation, interaction, prepare ? "analysis" : "follow-up", services.metering, log),
          log,
        };
        if (prepare) return prepare(progress);
        phase = conversation.pieces.length > 1 ? { name: "pieces", done: 0, total: conversation.pieces.length } : { name: "listening", text: "" };
        return services.askPieces(conversation.pieces, question, conversation.language, progress);
      },
      { onQueued: (position) => (phase = { name: "queued", position }) },
    );
  } catch (error) {
    // Nothing reached the model (a queue refusal, an undecodable file): the hold goes back.
    await services.metering.release(reservationId);
    throw error;
  } finally {
    await progress.stop();
  }

  const first = result.failed[0];
  if (result.answers.length === 0 && first) {
    await services.metering.release(reservationId);
    throw first.error;
  }
  await services.metering.settle(reservationId, {
    inputTokens: result.calls.reduce((sum, call) => sum + textInputTokens(call.usage.inputTokens, call.usage.audioTokens), 0),
    outputTokens: result.usage.outputTokens,
    audioTokens: result.usage.audioTokens,
  });

  log.info(
    {
      requestIds: result.requestIds,
      question: question.kind,
      pieces: conversation.pieces.length,
      failedPieces: result.failed.length,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      audioTokens: result.usage.audioTokens,
      durationMs: Date.now() - started,
    },
    "audio analysed",
  );
  for (const failure of result.failed) log.warn({ err: failure.error, startSeconds: failure.startSeconds }, "a part of the audio could not be analysed");

  const notes: string[] = [];
  if (question.kind === "overview" && conversation.pieces.length > 1) {
    notes.push(t("analysis.note.split", { pieces: conversation.pieces.length, duration: formatTimestamp(conversation.durationSeconds) }));
  }
  if (conversation.truncatedAtSeconds !== undefined) {
    notes.push(t("analysis.note.truncated", { analysed: formatTimestamp(conversation.truncatedAtSeconds), duration: formatTimestamp(conversation.durationSeconds) }));
  }
  if (result.failed.length > 0) {
    notes.push(t("analysis.note.failedParts", { ranges: result.failed.map((f) => `${formatTimestamp(f.startSeconds)}–${formatTimestamp(f.endSeconds)}`).join(", ") }));
  }
  if (result.truncatedByLength) notes.push(t("analysis.note.cutShort"));
  if (question.kind === "overview" && conversation.otherSources.length > 0) notes.push(t("analysis.note.otherFiles", { count: conversation.otherSources.length }));

  const sections = mergePieceAnswers(result.answers, { split: conversation.pieces.length > 1 });
  const answerIndex = conversation.answers.push({ title: answerTitle(question, conversation, t), pages: analysisPages(sections, notes, t) }) - 1;
  await services.conversations.save(conversation);
  await interaction.editReply({
    content: "",
    embeds: [analysisEmbed(conversation, answerIndex, 0, t, services.model)],
    components: analysisComponents(conversation, answerIndex, 0, t),
    allowedMentions: noMentions,
  });
  context.markReplyFinal();
}

/** One ledger row (and one log line) per Qwen-Audio call, answered or failed. */
async function recordAnalysisCall(
  outcome: PieceCallOutcome,
  conversation: AnalysisConversation,
  interaction: RepliableInteraction,
  feature: "analysis" | "follow-up",
  metering: Metering,
  log: Logger,
): Promise<void> {
  const where = { guildId: interaction.guildId, channelId: interaction.channelId, userId: interaction.user.id, feature, model: conversation.model };
  if (outcome.kind === "answered") {
    const { call } = outcome;
    log.info(
      { requestId: call.requestId, model: call.model, startSeconds: call.startSeconds, inputTokens: call.usage.inputTokens, outputTokens: call.usage.outputTokens, audioTokens: call.usage.audioTokens, finishReason: call.finishReason, latencyMs: call.latencyMs },
      "qwen-audio call",
    );
    await metering.record({
      ...where,
      occurredAt: call.occurredAt,
      requestId: call.requestId,
      outcome: "ok",
      inputTokens: textInputTokens(call.usage.inputTokens, call.usage.audioTokens),
      outputTokens: call.usage.outputTokens ?? 0,
      audioTokens: call.usage.audioTokens ?? 0,
      latencyMs: call.latencyMs,
    });
    return;
  }
  const { failure } = outcome;
  const error = failure.error instanceof DashScopeError ? failure.error : undefined;
  await metering.record({ ...where, occurredAt: failure.occurredAt, requestId: error?.requestId, outcome: error?.code ?? "Unexpected", latencyMs: failure.latencyMs });
}

/**
 * Analyse the first audio of a message (or of the song result); the others are offered in a
 * select menu. The reply is private unless the server made analysis replies public, because the
 * voice message may be someone else's.
 */
export async function startAnalysis(
  interaction: RepliableInteraction,
  sources: AudioSource[],
  services: AnalysisServices,
  context: HandlerContext,
): Promise<void> {
  const [source, ...otherSources] = sources;
  if (!source) throw new UserError("analysis.noAudio");
  const ephemeral = !(await services.guildSettings.get(interaction.guildId)).analysisRepliesPublic;

  const conversation: AnalysisConversation = {
    id: newConversationId(),
    requesterId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    source,
    sourceName: source.name,
    durationSeconds: source.durationSeconds ?? 0,
    truncatedAtSeconds: undefined,
    language: languageOfLocale(interaction.locale),
    model: services.model,
    pieces: [],
    answers: [],
    otherSources,
    ephemeral,
    sharedAnswers: [],
    createdAt: new Date(),
  };
  context.log.info({ source: source.name, sizeBytes: source.sizeBytes, voiceMessage: source.isVoiceMessage, ephemeral }, "analysis requested");
  await askAndReply(interaction, conversation, { kind: "overview" }, services, context, async (progress) => {
    const analysed = await services.prepareAndAsk(source, { kind: "overview" }, conversation.language, context.log, progress);
    conversation.durationSeconds = analysed.durationSeconds;
    conversation.truncatedAtSeconds = analysed.truncatedAtSeconds;
    conversation.pieces = analysed.pieces;
    return analysed.result;
  });
}

async function conversationFor(interaction: RepliableInteraction, conversationId: string, services: AnalysisServices, options: { requesterOnly: boolean }) {
  const conversation = await services.conversations.get(conversationId);
  if (!conversation) throw new UserError("analysis.gone");
  if (options.requesterOnly && conversation.requesterId !== interaction.user.id) throw new UserError("analysis.notYours");
  return conversation;
}

const questionsByAction = {
  transcribe: { kind: "transcribe" },
  music: { kind: "music" },
  emotion: { kind: "emotion" },
  translate: { kind: "translate" },
} as const satisfies Record<string, AnalysisQuestion>;

export async function handleAnalysisAction(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { kind: "analysis-action" }>,
  services: AnalysisServices,
  context: HandlerContext,
): Promise<void> {
  const conversation = await conversationFor(interaction, id.conversationId, services, { requesterOnly: true });
  if (id.action === "ask") {
    await interaction.showModal(askQuestionModal(conversation.id, context.t));
    return;
  }
  await askAndReply(interaction, conversation, questionsByAction[id.action], services, context);
}

const QUESTION_FIELD = "question";

function askQuestionModal(conversationId: string, t: LocalTranslate): APIModalInteractionResponseCallbackData {
  return {
    custom_id: encodeCustomId({ kind: "analysis-ask-modal", conversationId }),
    title: ellipsize(t("analysis.modal.title"), discordLimits.modalTitle),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: QUESTION_FIELD,
            label: ellipsize(t("analysis.modal.questionLabel"), discordLimits.textInputLabel),
            style: TextInputStyle.Paragraph,
            required: true,
            max_length: 1000,
            placeholder: ellipsize(t("analysis.modal.questionPlaceholder"), discordLimits.textInputPlaceholder),
          },
        ],
      },
    ],
  };
}

export async function handleAskQuestionModal(
  interaction: ModalSubmitInteraction,
  id: Extract<CustomId, { kind: "analysis-ask-modal" }>,
  services: AnalysisServices,
  context: HandlerContext,
): Promise<void> {
  const conversation = await conversationFor(interaction, id.conversationId, services, { requesterOnly: true });
  const question = interaction.fields.getTextInputValue(QUESTION_FIELD).trim();
  if (question === "") throw new UserError("analysis.emptyQuestion");
  await askAndReply(interaction, conversation, { kind: "ask", question }, services, context);
}

/** Paging edits the message in place; anyone who can see it may turn its pages. */
export async function handleAnalysisPage(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { kind: "analysis-page" }>,
  services: AnalysisServices,
  context: HandlerContext,
): Promise<void> {
  const conversation = await conversationFor(interaction, id.conversationId, services, { requesterOnly: false });
  if (!conversation.answers[id.answer]) throw new UserError("analysis.gone");
  await interaction.update({
    embeds: [analysisEmbed(conversation, id.answer, id.page, context.t, services.model)],
    components: analysisComponents(conversation, id.answer, id.page, context.t),
    allowedMentions: noMentions,
  });
}

/** Posts a private answer, every page of it, publicly in the channel. */
export async function handleAnalysisShare(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { kind: "analysis-share" }>,
  services: AnalysisServices,
  context: HandlerContext,
): Promise<void> {
  const conversation = await conversationFor(interaction, id.conversationId, services, { requesterOnly: true });
  if (!conversation.answers[id.answer]) throw new UserError("analysis.gone");
  if (conversation.sharedAnswers.includes(id.answer)) throw new UserError("analysis.alreadyShared");
  conversation.sharedAnswers.push(id.answer);
  await services.conversations.save(conversation);
  const [first, ...rest] = groupEmbedsIntoMessages(allAnswerEmbeds(conversation, id.answer, context.t, services.model, interaction.user.displayName));
  await interaction.reply({ embeds: first ?? [], allowedMentions: noMentions });
  context.markReplyFinal();
  for (const embeds of rest) await interaction.followUp({ embeds, allowedMentions: noMentions });
  context.log.info({ conversationId: conversation.id, answer: id.answer }, "analysis shared in the channel");
}

export async function handleAnalysisPick(
  interaction: StringSelectMenuInteraction,
  id: Extract<CustomId, { kind: "analysis-pick" }>,
  services: AnalysisServices,
  context: HandlerContext,
): Promise<void> {
  const conversation = await conversationFor(interaction, id.conversationId, services, { requesterOnly: true });
  const index = Number(interaction.values[0]);
  const picked = Number.isInteger(index) ? conversation.otherSources[index] : undefined;
  if (!picked) throw new UserError("analysis.gone");
  // The file analysed first stays on offer in the new reply's menu.
  const others = [conversation.source, ...conversation.otherSources.filter((_source, i) => i !== index)];
  await startAnalysis(interaction, [picked, ...others], services, context);
}
