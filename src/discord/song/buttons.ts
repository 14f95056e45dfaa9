import { PermissionFlagsBits, type ButtonInteraction, type ModalSubmitInteraction } from "discord.js";
import type { AudioSource } from "../../analysis/sources.js";
import { UserError } from "../../errors.js";
import { startAnalysis, type AnalysisServices } from "../analysis/flow.js";
import { audioSourcesOfMessage } from "../analysis/command.js";
import type { SongRecord, SongRecordStore } from "../../songs/song-records.js";
import type { HandlerContext } from "../router.js";
import { requestSong, type SongServices } from "./flow.js";
import type { CustomId } from "../custom-id.js";
import { editLyricsModal } from "./views.js";

/** The requester, or anyone who can manage the server, may act on a song; nobody else. */
export async function songRecordForActor(
  interaction: ButtonInteraction | ModalSubmitInteraction,
  songId: string,
  songRecords: SongRecordStore,
): Promise<SongRecord> {
  const record = await songRecords.get(songId);
  if (!record) throw new UserError("song.record.gone");
  const isAdmin = interaction.memberPermissions?.any([PermissionFlagsBits.Administrator, PermissionFlagsBits.ManageGuild]) ?? false;
  if (record.requesterId !== interaction.user.id && !isAdmin) throw new UserError("song.notYours");
  return record;
}

/**
 * The song's audio as an analysis source: the posted file, or DashScope's link when the song
 * was too large to post.
 */
export function songAudioSources(interaction: ButtonInteraction, record: SongRecord | undefined): AudioSource[] {
  const posted = audioSourcesOfMessage(interaction.message);
  if (posted.length > 0) return posted;
  if (!record?.audioUrl) return [];
  return [{ name: record.fileName, url: record.audioUrl, contentType: null, sizeBytes: 0, durationSeconds: null, isVoiceMessage: false }];
}

export async function handleSongButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { kind: "song-action" }>,
  services: SongServices & { analysis: AnalysisServices },
  context: HandlerContext,
): Promise<void> {
  if (id.action === "analyze") {
    // Anyone can right-click Analyze audio on the posted song, so the button is open to all as well.
    const sources = songAudioSources(interaction, await services.songRecords.get(id.songId));
    if (sources.length === 0) throw new UserError("song.record.gone");
    return startAnalysis(interaction, sources, services.analysis, context);
  }
  const record = await songRecordForActor(interaction, id.songId, services.songRecords);
  switch (id.action) {
    case "regen":
      return requestSong(interaction, record.input, services, context);
    case "voice":
      return requestSong(interaction, { ...record.input, gender: record.input.gender === "female" ? "male" : "female" }, services, context);
    case "edit":
      return interaction.showModal(editLyricsModal(record, context.t));
  }
}
