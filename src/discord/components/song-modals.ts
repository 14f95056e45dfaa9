import {
  ComponentType,
  TextInputStyle,
  type APIModalInteractionResponseCallbackData,
  type ModalSubmitInteraction,
} from "discord.js";
import type { SongRecord } from "../../songs/song-records.js";
import type { LocalTranslate } from "../failure-text.js";
import { discordLimits, ellipsize, truncateWithin } from "../limits.js";
import type { HandlerContext } from "../router.js";
import { makeSong, type SongServices } from "../song-flow.js";
import { songRecordForActor } from "./song-buttons.js";
import { encodeCustomId, type CustomId } from "./custom-id.js";

const LYRICS_FIELD = "lyrics";
const STYLE_FIELD = "style";

type TextInputSpec = { customId: string; label: string; style: TextInputStyle; required: boolean; maxLength: number; placeholder?: string; value?: string };

function textInputRow(spec: TextInputSpec): APIModalInteractionResponseCallbackData["components"][number] {
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.TextInput,
        custom_id: spec.customId,
        label: ellipsize(spec.label, discordLimits.textInputLabel),
        style: spec.style,
        required: spec.required,
        max_length: spec.maxLength,
        ...(spec.placeholder ? { placeholder: ellipsize(spec.placeholder, discordLimits.textInputPlaceholder) } : {}),
        ...(spec.value ? { value: spec.value } : {}),
      },
    ],
  };
}

/** Slash options can't hold line breaks and verses need them, so /song without text asks here. */
export function newSongModal(id: Extract<CustomId, { kind: "song-new-modal" }>, t: LocalTranslate): APIModalInteractionResponseCallbackData {
  return {
    custom_id: encodeCustomId(id),
    title: ellipsize(t("song.modal.title"), discordLimits.modalTitle),
    components: [
      textInputRow({ customId: LYRICS_FIELD, label: t("song.modal.lyricsLabel"), style: TextInputStyle.Paragraph, required: false, maxLength: discordLimits.textInputValue, placeholder: t("song.modal.lyricsPlaceholder") }),
      textInputRow({ customId: STYLE_FIELD, label: t("song.modal.styleLabel"), style: TextInputStyle.Short, required: false, maxLength: 2000, placeholder: t("song.modal.stylePlaceholder") }),
    ],
  };
}

export function editLyricsModal(record: SongRecord, t: LocalTranslate): APIModalInteractionResponseCallbackData {
  const lyrics = record.resultLyrics ?? record.input.lyrics ?? "";
  return {
    custom_id: encodeCustomId({ kind: "song-edit-modal", songId: record.id }),
    title: ellipsize(t("song.modal.editTitle"), discordLimits.modalTitle),
    components: [
      textInputRow({
        customId: LYRICS_FIELD,
        label: t("song.modal.lyricsLabel"),
        style: TextInputStyle.Paragraph,
        required: true,
        maxLength: discordLimits.textInputValue,
        // A pre-filled value over the field's maximum is refused by Discord; such lyrics can't come from Fun-Music's limits.
        value: truncateWithin(lyrics, discordLimits.textInputValue),
      }),
    ],
  };
}

function fieldValue(interaction: ModalSubmitInteraction, customId: string): string | undefined {
  try {
    const value = interaction.fields.getTextInputValue(customId);
    return value.trim() === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

export async function handleNewSongModal(
  interaction: ModalSubmitInteraction,
  id: Extract<CustomId, { kind: "song-new-modal" }>,
  services: SongServices,
  context: HandlerContext,
): Promise<void> {
  const input = { lyrics: fieldValue(interaction, LYRICS_FIELD), prompt: fieldValue(interaction, STYLE_FIELD), gender: id.gender, format: id.format, watermark: id.watermark };
  return makeSong(interaction, input, services, context);
}

export async function handleEditLyricsModal(
  interaction: ModalSubmitInteraction,
  id: Extract<CustomId, { kind: "song-edit-modal" }>,
  services: SongServices,
  context: HandlerContext,
): Promise<void> {
  const record = await songRecordForActor(interaction, id.songId, services.songRecords);
  // The edited lyrics replace the prompt: keeping it would only earn a "prompt ignored" notice.
  const input = { ...record.input, lyrics: fieldValue(interaction, LYRICS_FIELD), prompt: undefined };
  return makeSong(interaction, input, services, context);
}
