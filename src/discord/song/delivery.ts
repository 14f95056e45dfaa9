import {
  DiscordAPIError,
  MessageFlags,
  TimestampStyles,
  time,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
} from "discord.js";
import type { GeneratedSong } from "../../dashscope/music-types.js";
import type { Logger } from "../../log.js";
import type { SongRecord } from "../../songs/song-records.js";
import { songResultButtons } from "./views.js";
import type { LocalTranslate } from "../failure-text.js";
import { isInteractionTokenGone } from "../channel-fallback.js";
import type { JobReply } from "../job-reply.js";
import { discordLimits } from "../limits.js";
import { layoutSongMessages, songFileName } from "./layout.js";

export type FitUnderBytes = (
  audio: Buffer,
  sourceFormat: "mp3" | "wav",
  maxBytes: number,
) => Promise<{ audio: Buffer; format: "mp3"; bitrateKbps: number } | undefined>;

/** What goes into the result message in place of, or as, the audio. */
export type SongFile =
  | { kind: "original"; name: string; data: Buffer }
  | { kind: "reencoded"; name: string; data: Buffer; bitrateKbps: number }
  | { kind: "link-only" };

const noMentions = { parse: [] as [] };

/**
 * Discord answers 413 to a file over the interaction's `attachment_size_limit`, so such a file is
 * never sent as is: a smaller MP3 when one can be made, otherwise only the DashScope link.
 */
export async function chooseSongFile(
  song: GeneratedSong,
  title: string,
  limitBytes: number,
  fitUnderBytes: FitUnderBytes,
  log: Logger,
): Promise<SongFile> {
  if (song.audio.length > 0 && song.audio.length <= limitBytes) {
    return { kind: "original", name: songFileName(title, song.format), data: song.audio };
  }
  if (song.audio.length === 0) return { kind: "link-only" };
  try {
    const smaller = await fitUnderBytes(song.audio, song.format, limitBytes);
    if (smaller && smaller.audio.length <= limitBytes) {
      log.info({ originalBytes: song.audio.length, bytes: smaller.audio.length, bitrateKbps: smaller.bitrateKbps, limitBytes }, "re-encoded song to fit the upload limit");
      return { kind: "reencoded", name: songFileName(title, "mp3"), data: smaller.audio, bitrateKbps: smaller.bitrateKbps };
    }
  } catch (error) {
    log.warn({ err: error }, "could not re-encode the song smaller; sending its link instead");
  }
  return { kind: "link-only" };
}

/** Two significant figures: "10", "25", "0.95", never a rounded-up "1.0" for a limit just under 1 MiB. */
function formatMegabytes(bytes: number): string {
  return String(Number.parseFloat((bytes / (1024 * 1024)).toPrecision(2)));
}

function deliveryNote(file: SongFile, song: GeneratedSong, limitBytes: number, t: LocalTranslate): string {
  if (file.kind === "original") return "";
  if (!song.url) return t("song.delivery.lost");
  const expires = song.expiresAt ? time(song.expiresAt, TimestampStyles.RelativeTime) : "—";
  const limitMb = formatMegabytes(limitBytes);
  if (file.kind === "reencoded") return t("song.delivery.reencoded", { bitrate: file.bitrateKbps, limitMb, url: song.url, expires });
  if (song.audio.length === 0) return t("song.delivery.fetchFailed", { url: song.url, expires });
  return t("song.delivery.linkOnly", { limitMb, url: song.url, expires });
}

export function songEmbeds(song: GeneratedSong, record: SongRecord, t: LocalTranslate, requesterName: string): APIEmbed[][] {
  return layoutSongMessages(song, record.input, record.title, {
    vocalLabel: t("song.embed.vocal"),
    vocalValue: record.input.gender === "male" ? t("song.vocal.male") : t("song.vocal.female"),
    formatLabel: t("song.embed.format"),
    formatValue: record.input.format.toUpperCase() + (record.input.watermark ? ` · ${t("song.watermark")}` : ""),
    durationLabel: t("song.embed.duration"),
    durationValue: song.billedSeconds === undefined ? undefined : t("duration.seconds", { seconds: Math.round(song.billedSeconds) }),
    promptLabel: t("song.embed.prompt"),
    lyricsContinued: (part) => t("song.embed.lyricsContinued", { part }),
    noLyrics: t("song.embed.noLyrics"),
    footer: song.requestId ? t("song.embed.footer", { requestId: song.requestId }) : undefined,
    author: t("song.embed.requestedBy", { user: requesterName }),
  });
}

function isPayloadTooLarge(error: unknown): boolean {
  return error instanceof DiscordAPIError ? error.status === 413 || error.code === 40005 : false;
}

/**
 * Posts the finished song as the job's reply: audio file, lyric embeds and buttons; lyrics that
 * don't fit one message continue in follow-ups. Once the song exists it is paid for, so every
 * failure here falls back to something that still gets the user their song, never to silence: the
 * link instead of the file, and the channel instead of the reply once the interaction token is gone.
 */
export async function deliverSong(
  reply: JobReply,
  song: GeneratedSong,
  record: SongRecord,
  file: SongFile,
  options: { log: Logger; limitBytes: number; requesterName: string },
): Promise<{ viaChannel: boolean }> {
  const { log, limitBytes } = options;
  // The song is public: it speaks the server's language.
  const t = reply.tPublic;
  const messages = songEmbeds(song, record, t, options.requesterName);
  const components: APIActionRowComponent<APIButtonComponent>[] = [songResultButtons(record, t)];
  const payload = (chosen: SongFile) => ({
    content: deliveryNote(chosen, song, limitBytes, t),
    embeds: messages[0] ?? [],
    files: chosen.kind === "link-only" ? [] : [{ attachment: chosen.data, name: chosen.name }],
    components,
  });

  let viaChannel = !reply.tokenValid();
  if (viaChannel) {
    log.warn({ requestId: song.requestId }, "the interaction token expired before the song was ready; posting it in the channel");
    await reply.toChannel(payload(file));
    await reply.removeExpiredPlaceholder(log);
  } else {
    try {
      // The file is streamed into the request (no copies of the song); link-only edits are plain.
      if (file.kind === "link-only") await reply.edit(payload(file));
      else await reply.editWithFile({ content: deliveryNote(file, song, limitBytes, t), embeds: messages[0] ?? [], components }, { name: file.name, data: file.data });
    } catch (error) {
      if (isInteractionTokenGone(error)) {
        log.warn({ requestId: song.requestId }, "the interaction token expired before the song was ready; posting it in the channel");
        await reply.toChannel(payload(file));
        await reply.removeExpiredPlaceholder(log);
        viaChannel = true;
      } else {
        if (!song.url) throw error;
        log.warn({ err: error, tooLarge: isPayloadTooLarge(error), requestId: song.requestId }, "posting the song failed; posting its link instead");
        try {
          if (file.kind === "link-only") throw error;
          await reply.edit(payload({ kind: "link-only" }));
        } catch (secondError) {
          log.error({ err: secondError, requestId: song.requestId }, "editing the reply failed; sending the song's link privately");
          await reply.followUp({ content: deliveryNote({ kind: "link-only" }, song, limitBytes, reply.t), flags: MessageFlags.Ephemeral });
          return { viaChannel };
        }
      }
    }
  }
  log.info({ requestId: song.requestId, delivered: file.kind, viaChannel, bytes: file.kind === "link-only" ? 0 : file.data.length, messages: messages.length }, "song delivered");

  for (const embeds of messages.slice(1)) {
    try {
      if (viaChannel) await reply.toChannel({ embeds });
      else await reply.followUp({ embeds });
    } catch (error) {
      // The song itself is already posted; a missing lyrics page must not turn into an apology for it.
      log.error({ err: error, requestId: song.requestId }, "posting a further lyrics page failed");
      break;
    }
  }
  return { viaChannel };
}
