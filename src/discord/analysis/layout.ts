import {
  ButtonStyle,
  ComponentType,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
} from "discord.js";
import type { AnswerSections } from "../../analysis/answer-sections.js";
import type { AnalysisConversation } from "../../analysis/conversations.js";
import { sectionLabels } from "../../analysis/prompts.js";
import { encodeCustomId, type CustomId } from "../custom-id.js";
import type { LocalTranslate } from "../failure-text.js";
import { discordLimits, ellipsize } from "../limits.js";
import { paginate } from "../text-pages.js";

const analysisColor = 0x4f7cff;
/** Room under the 4096-character description for page markers Discord may add. */
const PAGE_CHARACTERS = 3900;

/** Sections in a fixed order, each under its heading, notes first; split into pages. */
export function analysisPages(sections: AnswerSections, notes: string[], t: LocalTranslate): string[] {
  const blocks = notes.map((note) => `*${note}*`);
  for (const label of sectionLabels) {
    const value = sections[label];
    if (value) blocks.push(`**${t(`analysis.section.${label}`)}**\n${value}`);
  }
  const pages = paginate(blocks, PAGE_CHARACTERS);
  return pages.length > 0 ? pages : [""];
}

export function analysisEmbed(conversation: AnalysisConversation, answerIndex: number, page: number, t: LocalTranslate, model: string): APIEmbed {
  const answer = conversation.answers[answerIndex];
  const pages = answer?.pages ?? [""];
  const index = Math.min(Math.max(page, 0), pages.length - 1);
  return {
    title: ellipsize(answer?.title ?? "", discordLimits.embedTitle),
    color: analysisColor,
    description: pages[index] || "—",
    footer: { text: t("analysis.footer", { page: index + 1, pages: pages.length, model }) },
  };
}

function button(
  id: CustomId,
  label: string,
  emoji: string,
  options: { disabled?: boolean; style?: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Success } = {},
): APIButtonComponent {
  return {
    type: ComponentType.Button,
    style: options.style ?? ButtonStyle.Secondary,
    custom_id: encodeCustomId(id),
    label: ellipsize(label, discordLimits.buttonLabel),
    emoji: { name: emoji },
    ...(options.disabled ? { disabled: true } : {}),
  };
}

export function analysisComponents(
  conversation: AnalysisConversation,
  answerIndex: number,
  page: number,
  t: LocalTranslate,
): APIActionRowComponent<APIComponentInMessageActionRow>[] {
  const id = conversation.id;
  const rows: APIActionRowComponent<APIComponentInMessageActionRow>[] = [
    {
      type: ComponentType.ActionRow,
      components: [
        button({ kind: "analysis-action", action: "transcribe", conversationId: id }, t("analysis.button.transcribe"), "📝"),
        button({ kind: "analysis-action", action: "music", conversationId: id }, t("analysis.button.music"), "🎵"),
        button({ kind: "analysis-action", action: "emotion", conversationId: id }, t("analysis.button.emotion"), "🎭"),
        button({ kind: "analysis-action", action: "translate", conversationId: id }, t("analysis.button.translate", { language: conversation.language }), "🌐"),
        button({ kind: "analysis-action", action: "ask", conversationId: id }, t("analysis.button.ask"), "❓", { style: ButtonStyle.Primary }),
      ],
    },
  ];
  const pages = conversation.answers[answerIndex]?.pages.length ?? 1;
  const second: APIButtonComponent[] = [];
  if (pages > 1) {
    second.push(
      button({ kind: "analysis-page", conversationId: id, answer: answerIndex, page: page - 1 }, t("analysis.button.previous"), "◀️", { disabled: page <= 0 }),
      button({ kind: "analysis-page", conversationId: id, answer: answerIndex, page: page + 1 }, t("analysis.button.next"), "▶️", { disabled: page >= pages - 1 }),
    );
  }
  if (conversation.ephemeral) {
    second.push(button({ kind: "analysis-share", conversationId: id, answer: answerIndex }, t("analysis.button.share"), "📣", { style: ButtonStyle.Success }));
  }
  if (second.length > 0) rows.push({ type: ComponentType.ActionRow, components: second });
  if (conversation.otherSources.length > 0) {
    rows.push({
      type: ComponentType.ActionRow,
      components: [
        {
          type: ComponentType.StringSelect,
          custom_id: encodeCustomId({ kind: "analysis-pick", conversationId: id }),
          placeholder: ellipsize(t("analysis.select.placeholder"), 150),
          options: conversation.otherSources.slice(0, 25).map((source, index) => ({
            label: ellipsize(source.name, 100),
            value: String(index),
            description: ellipsize(`${Math.max(1, Math.round(source.sizeBytes / 1024))} KB`, 100),
          })),
        },
      ],
    });
  }
  return rows;
}

/** Every page of one answer as embeds, for sharing it whole in the channel. */
export function allAnswerEmbeds(conversation: AnalysisConversation, answerIndex: number, t: LocalTranslate, model: string, sharedBy: string): APIEmbed[] {
  const pages = conversation.answers[answerIndex]?.pages ?? [];
  return pages.map((_page, index) => {
    const embed = analysisEmbed(conversation, answerIndex, index, t, model);
    return index === 0 ? { ...embed, author: { name: ellipsize(t("analysis.sharedBy", { user: sharedBy }), discordLimits.embedAuthorName) } } : { ...embed, title: undefined };
  });
}
