import {
  ButtonStyle,
  ComponentType,
  TextInputStyle,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIModalInteractionResponseCallbackData,
} from "discord.js";
import type { SongRecord } from "../../songs/song-records.js";
import { encodeCustomId, type CustomId } from "../custom-id.js";
import type { LocalTranslate } from "../failure-text.js";
import { discordLimits, ellipsize, truncateWithin } from "../limits.js";

/*
 * What a song looks like in Discord besides its embeds (layout.ts): the result's buttons and the
 * forms. Handlers and delivery import these; these import no handler.
 */

function button(customId: CustomId, label: string, emoji: string): APIButtonComponent {
  return {
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    custom_id: encodeCustomId(customId),
    label: ellipsize(label, discordLimits.buttonLabel),
    emoji: { name: emoji },
  };
}

export function songResultButtons(record: SongRecord, t: LocalTranslate): APIActionRowComponent<APIButtonComponent> {
  return {
    type: ComponentType.ActionRow,
    components: [
      button({ kind: "song-action", action: "regen", songId: record.id }, t("song.button.regenerate"), "🔁"),
      button({ kind: "song-action", action: "voice", songId: record.id }, t(record.input.gender === "female" ? "song.button.switchToMale" : "song.button.switchToFemale"), "🎙️"),
      button({ kind: "song-action", action: "edit", songId: record.id }, t("song.button.editLyrics"), "✏️"),
      button({ kind: "song-action", action: "analyze", songId: record.id }, t("song.button.analyze"), "🎧"),
    ],
  };
}

/** The text inputs' custom ids, read back by the modal handlers. */
export const LYRICS_FIELD = "lyrics";
export const STYLE_FIELD = "style";

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
