import type { ModalSubmitInteraction } from "discord.js";
import type { SongRecord } from "../../songs/song-records.js";
import type { HandlerContext } from "../router.js";
import { requestSong, type SongServices } from "./flow.js";
import { songRecordForActor } from "./buttons.js";
import type { CustomId } from "../custom-id.js";
import { LYRICS_FIELD, STYLE_FIELD } from "./views.js";

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
  return requestSong(interaction, input, services, context);
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
  return requestSong(interaction, input, services, context);
}
