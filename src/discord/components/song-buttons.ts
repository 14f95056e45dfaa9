import {
  ButtonStyle,
  ComponentType,
  PermissionFlagsBits,
  type APIActionRowComponent,
  type APIButtonComponent,
  type ButtonInteraction,
  type ModalSubmitInteraction,
} from "discord.js";
import { UserError } from "../../errors.js";
import type { SongRecord, SongRecordStore } from "../../songs/song-records.js";
import type { LocalTranslate } from "../failure-text.js";
import { ellipsize, discordLimits } from "../limits.js";
import type { HandlerContext } from "../router.js";
import { makeSong, type SongServices } from "../song-flow.js";
import { encodeCustomId, type CustomId } from "./custom-id.js";
import { editLyricsModal } from "./song-modals.js";

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
  const otherVoice = record.input.gender === "female" ? t("song.vocal.male") : t("song.vocal.female");
  return {
    type: ComponentType.ActionRow,
    components: [
      button({ kind: "song-action", action: "regen", songId: record.id }, t("song.button.regenerate"), "🔁"),
      button({ kind: "song-action", action: "voice", songId: record.id }, t("song.button.switchVoice", { to: otherVoice.toLowerCase() }), "🎙️"),
      button({ kind: "song-action", action: "edit", songId: record.id }, t("song.button.editLyrics"), "✏️"),
    ],
  };
}

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

export async function handleSongButton(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { kind: "song-action" }>,
  services: SongServices,
  context: HandlerContext,
): Promise<void> {
  const record = await songRecordForActor(interaction, id.songId, services.songRecords);
  switch (id.action) {
    case "regen":
      return makeSong(interaction, record.input, services, context);
    case "voice":
      return makeSong(interaction, { ...record.input, gender: record.input.gender === "female" ? "male" : "female" }, services, context);
    case "edit":
      return interaction.showModal(editLyricsModal(record, context.t));
    case "analyze":
      throw new UserError("error.unknownInteraction");
  }
}
