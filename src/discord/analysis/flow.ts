import {
  ComponentType,
  TextInputStyle,
  type APIModalInteractionResponseCallbackData,
  type ButtonInteraction,
  type Client,
  type ModalSubmitInteraction,
  type RepliableInteraction,
  type StringSelectMenuInteraction,
} from "discord.js";
import { formatTimestamp, mergePieceAnswers } from "../../analysis/answer-sections.js";
import { newConversationId, type AnalysisConversation, type ConversationStore } from "../../analysis/conversations.js";
import { languageOfLocale, type AnalysisQuestion } from "../../analysis/prompts.js";
import type { AudioSource } from "../../analysis/sources.js";
import { UserError } from "../../errors.js";
import { analysisJobInputSchema, analysisTokenHold, partsOf, type AnalysisJobInput, type AnalysisReplies } from "../../jobs/analysis-job.js";
import type { Job, JobStore } from "../../jobs/job-store.js";
import type { JobRunner } from "../../jobs/runner.js";
import type { Metering } from "../../usage/metering.js";
import type { GuildSettingsStore } from "../../settings/guild-settings.js";
import { allAnswerEmbeds, analysisComponents, analysisEmbed, analysisPages } from "./layout.js";
import { encodeCustomId, type CustomId } from "../custom-id.js";
import type { LocalTranslate } from "../failure-text.js";
import { ledgerGuildIdOf } from "../install-context.js";
import { isInteractionTokenGone } from "../channel-fallback.js";
import { jobReplyFor } from "../job-reply.js";
import { endJobWithoutResult, newJobFor, tellJobEnded, type AcknowledgementGate } from "../job-requests.js";
import { discordLimits, ellipsize } from "../limits.js";
import type { HandlerContext } from "../router.js";
import { groupEmbedsIntoMessages } from "../song/layout.js";

const noMentions = { parse: [] as [] };

/** What accepting an analysis needs from the rest of the bot; wired in main.ts. */
export type AnalysisServices = {
  conversations: ConversationStore;
  guildSettings: GuildSettingsStore;
  jobs: JobStore;
  runner: JobRunner;
  metering: Metering;
  /** Requests being accepted in this process right now (see `newJobFor`). */
  admissions: Set<string>;
  acknowledgements: AcknowledgementGate;
  model: string;
  /** `ANALYSIS_MAX_PARTS`: the most parts a recording is analysed in (for the quota hold). */
  maxParts: number;
};

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
 * Accepts one question about a conversation's audio: holds quota (privately refused), acknowledges
 * (privately unless the conversation is public), and writes the durable job that asks and answers.
 * One analysis per user at a time, follow-ups included.
 */
async function requestAnalysis(
  interaction: RepliableInteraction,
  conversation: AnalysisConversation,
  question: AnalysisQuestion,
  feature: "analysis" | "follow-up",
  services: AnalysisServices,
  context: HandlerContext,
  options: { saveConversation?: boolean } = {},
): Promise<void> {
  // Held before the calls against a cost budget, as songs hold their seconds; settled afterwards.
  const parts = conversation.pieces.length > 0 ? conversation.pieces.length : partsOf(conversation.source.durationSeconds, services.maxParts);
  const reserve = () =>
    services.metering.reserve({ guildId: ledgerGuildIdOf(interaction), userId: interaction.user.id, feature, model: services.model, estimatedTokens: analysisTokenHold(parts) });
  const input: AnalysisJobInput = { conversationId: conversation.id, question, feature };
  // A new conversation is kept before its job, so the job and its follow-ups find it.
  const prepare = options.saveConversation ? () => services.conversations.save(conversation) : undefined;
  const job = await newJobFor(interaction, { kind: "analysis", input, ephemeral: conversation.ephemeral, reserve, ...(prepare ? { prepare } : {}) }, services, context);
  context.log.info({ jobId: job.id, question: question.kind, conversationId: conversation.id }, "analysis queued");
}

/** How an analysis job reaches Discord: its answer, saved and shown, or why there is none. */
export function createAnalysisReplies(client: Client, deps: { conversations: ConversationStore; model: string }): AnalysisReplies {
  const replyOf = (job: Job) => jobReplyFor(client as Client<true>, job);
  /** A private answer speaks the member's language; a public one the server's. */
  const tOf = (job: Job) => (job.ephemeral ? replyOf(job).t : replyOf(job).tPublic);
  return {
    async saveAnswer(job, conversation, question, result) {
      const t = tOf(job);
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
      await deps.conversations.save(conversation);
      return answerIndex;
    },
    async deliver(job, conversation, answerIndex, log) {
      const reply = replyOf(job);
      const t = tOf(job);
      const message = {
        content: "",
        embeds: [analysisEmbed(conversation, answerIndex, 0, t, deps.model)],
        components: analysisComponents(conversation, answerIndex, 0, t),
      };
      if (reply.tokenValid()) {
        try {
          await reply.edit(message);
          return;
        } catch (error) {
          if (!isInteractionTokenGone(error)) throw error;
        }
      }
      // A private answer is never posted publicly: its requester is told by direct message, without it.
      if (job.ephemeral) {
        log.warn("a private analysis outlived its interaction token; telling the requester by direct message");
        await tellJobEnded(reply, job, { text: reply.t("job.privateExpired"), retry: false }, log);
        return;
      }
      await reply.toChannel(message);
      await reply.removeExpiredPlaceholder(log);
    },
    ended: (job, ending, log) => endJobWithoutResult(replyOf(job), job, ending, log),
  };
}

/** Asks an interrupted analysis's question again, as a new request. */
export async function retryAnalysis(interaction: ButtonInteraction, job: Job, services: AnalysisServices, context: HandlerContext): Promise<void> {
  const input = analysisJobInputSchema.parse(job.input);
  const conversation = await conversationFor(interaction, input.conversationId, services, { requesterOnly: false });
  await requestAnalysis(interaction, conversation, input.question, input.feature, services, context);
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
  // The job prepares the audio.
  await requestAnalysis(interaction, conversation, { kind: "overview" }, "analysis", services, context, { saveConversation: true });
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
  await requestAnalysis(interaction, conversation, questionsByAction[id.action], "follow-up", services, context);
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
  await requestAnalysis(interaction, conversation, { kind: "ask", question }, "follow-up", services, context);
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
