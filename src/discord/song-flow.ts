import { MessageFlags, type RepliableInteraction } from "discord.js";
import type { GeneratedSong, SongInput, SongInputCheck, SongProgress } from "../dashscope/music-types.js";
import { UserError } from "../errors.js";
import { DashScopeError } from "../dashscope/errors.js";
import type { JobQueue } from "../jobs/job-queue.js";
import type { Metering } from "../usage/metering.js";
import type { Logger } from "../log.js";
import { newSongId, type SongRecord, type SongRecordStore } from "../songs/song-records.js";
import { isInteractionTokenGone } from "./channel-fallback.js";
import { attachmentLimitOf, chooseSongFile, deliverSong, type FitUnderBytes, type SongFile } from "./deliver-song.js";
import { formatElapsed, startProgressReporter } from "./progress.js";
import type { HandlerContext } from "./router.js";
import { songFileName, songTitle } from "./song-layout.js";

/** What making a song needs from the rest of the bot; wired in main.ts. */
export type SongServices = {
  checkSongInput: (input: SongInput) => SongInputCheck;
  generateSong: (
    input: SongInput,
    options: {
      onProgress?: (progress: SongProgress) => void;
      onBilled?: (billing: { requestId: string | undefined; billedSeconds: number | undefined }) => Promise<void>;
      signal?: AbortSignal;
      timeoutMs: number;
      log?: Logger;
    },
  ) => Promise<GeneratedSong>;
  fitUnderBytes: FitUnderBytes;
  songRecords: SongRecordStore;
  queue: JobQueue;
  metering: Metering;
  /** The Fun-Music model songs are made with, for the ledger. */
  musicModel: string;
  progressIntervalMs: number;
  musicTimeoutMs: number;
};

/**
 * Music seconds held against the quotas while a song is made; settled to `usage.duration`
 * afterwards. The seed's example song bills 200 s.
 */
const SONG_SECONDS_HELD = 200;

type Phase = { name: "starting" } | { name: "queued"; position: number } | { name: "generating"; audioSeconds: number | undefined } | { name: "finishing" };

const noMentions = { parse: [] as [] };

/** Turns a failed limit check into the message that says which limit and by how much. */
export function songInputError(check: Extract<SongInputCheck, { ok: false }>): UserError {
  const problem = check.problem;
  if (problem.field === "input") return new UserError("song.input.missing");
  if ("reason" in problem) return new UserError("song.input.invisible", { field: problem.field });
  if (problem.actual < problem.min) {
    return new UserError("song.input.tooShort", { field: problem.field, unit: problem.unit, min: problem.min, actual: problem.actual });
  }
  return new UserError("song.input.tooLong", { field: problem.field, unit: problem.unit, max: problem.max, actual: problem.actual });
}

/**
 * The whole life of one song request, shared by /song, its modal and the result buttons:
 * check the input (before any paid call), acknowledge, show progress, generate, deliver.
 */
export async function makeSong(interaction: RepliableInteraction, input: SongInput, services: SongServices, context: HandlerContext): Promise<void> {
  const { log, t } = context;
  const check = services.checkSongInput(input);
  if (!check.ok) throw songInputError(check);
  if (services.queue.hasJob(interaction.user.id)) throw new UserError("busy");
  const reservationId = await services.metering.reserve({
    guildId: interaction.guildId,
    userId: interaction.user.id,
    feature: "song",
    estimatedSeconds: SONG_SECONDS_HELD,
    model: services.musicModel,
  });
  const ledgerRow = { guildId: interaction.guildId, channelId: interaction.channelId, userId: interaction.user.id, feature: "song" as const, model: services.musicModel };
  let callStarted: number | undefined;
  let recorded = false;

  try {
    await interaction.deferReply();
  } catch (error) {
    await services.metering.release(reservationId);
    throw error;
  }

  const started = Date.now();
  let phase: Phase = { name: "starting" };
  const render = () => {
    const elapsed = formatElapsed(Date.now() - started);
    switch (phase.name) {
      case "queued":
        return t("song.progress.queued", { position: phase.position });
      case "generating":
        return phase.audioSeconds === undefined
          ? t("song.progress.generating", { elapsed })
          : t("song.progress.streaming", { elapsed, audioSeconds: Math.floor(phase.audioSeconds) });
      case "finishing":
        return t("song.progress.finishing", { elapsed });
      case "starting":
        return t("song.progress.generating", { elapsed });
    }
  };
  let tokenGone = false;
  const progress = startProgressReporter({
    render,
    edit: (text) => (tokenGone ? Promise.resolve() : interaction.editReply({ content: text, allowedMentions: noMentions })),
    intervalMs: services.progressIntervalMs,
    onEditError: (error) => {
      if (isInteractionTokenGone(error)) tokenGone = true;
      log.warn({ err: error }, "progress edit failed");
    },
  });

  let song: GeneratedSong;
  let record: SongRecord;
  let file: SongFile;
  let ledgerRequestId: string | undefined;
  try {
    log.info({ mode: check.mode, uses: check.uses, gender: input.gender, format: input.format, watermark: input.watermark }, "song requested");
    song = await services.queue.run(
      interaction.user.id,
      () => {
        phase = { name: "generating", audioSeconds: undefined };
        callStarted = Date.now();
        return services.generateSong(input, {
          timeoutMs: services.musicTimeoutMs,
          log,
          // Recorded the moment the song is billed, before its file is fetched or posted, so a
          // crash from here on can't lose the row.
          onBilled: async (billing) => {
            const latencyMs = Date.now() - (callStarted ?? started);
            const row = { ...ledgerRow, occurredAt: new Date(callStarted ?? started), requestId: billing.requestId, outcome: "ok", musicSeconds: billing.billedSeconds ?? 0, latencyMs };
            ledgerRequestId = await services.metering.record(row, { reservationId });
            recorded = true;
            // A failed ledger write must not leave the hold standing until it expires.
            if (ledgerRequestId === undefined) await services.metering.settle(reservationId, { musicSeconds: billing.billedSeconds ?? 0 });
          },
          onProgress: (update) => {
            phase = { name: "generating", audioSeconds: update.audioSeconds };
          },
        });
      },
      { onQueued: (position) => (phase = { name: "queued", position }) },
    );
    phase = { name: "finishing" };
    if (song.audioError !== undefined) {
      log.warn({ err: song.audioError, requestId: song.requestId }, "the song's file could not be fetched; delivering its link");
    }
    log.info(
      {
        requestId: song.requestId,
        billedSeconds: song.billedSeconds,
        bytes: song.audio.length,
        mode: song.mode,
        generationMs: Date.now() - started,
      },
      "song generated",
    );
    const title = songTitle(input, song.lyrics, t("song.untitled"));
    record = {
      id: newSongId(),
      requesterId: interaction.user.id,
      guildId: interaction.guildId,
      channelId: interaction.channelId,
      input,
      title,
      resultLyrics: song.lyrics,
      requestId: song.requestId,
      audioUrl: song.url,
      fileName: songFileName(title, song.format),
      createdAt: new Date(),
    };
    await services.songRecords.save(record);
    // Still under the progress message: re-encoding a long wav takes seconds.
    file = await chooseSongFile(song, title, attachmentLimitOf(interaction), services.fitUnderBytes, log);
  } catch (error) {
    if (!recorded) {
      if (error instanceof DashScopeError && callStarted !== undefined) {
        // A failed call is a row too (its outcome the error code); recording it releases the hold.
        await services.metering.record(
          { ...ledgerRow, occurredAt: new Date(callStarted), requestId: error.requestId, outcome: error.code, latencyMs: Date.now() - callStarted },
          { reservationId },
        );
      } else {
        await services.metering.release(reservationId);
      }
    }
    throw error;
  } finally {
    await progress.stop();
  }
  await deliverSong(interaction, song, record, file, context);
  await services.metering.delivered(ledgerRequestId, file.kind === "link-only" ? 0 : file.data.length);
  // Sent after delivery: Discord turns the first follow-up after a defer into the public reply itself.
  if (check.promptIgnored) {
    await interaction
      .followUp({ content: t("song.promptIgnored"), flags: MessageFlags.Ephemeral, allowedMentions: noMentions })
      .catch((error: unknown) => log.warn({ err: error }, "could not send the prompt-ignored notice"));
  }
}
