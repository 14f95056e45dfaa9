import { MessageFlags, type ButtonInteraction, type Client, type RepliableInteraction } from "discord.js";
import { createSemaphore, type Semaphore } from "../../audio/run.js";
import type { SongInput, SongInputCheck } from "../../dashscope/music-types.js";
import { UserError } from "../../errors.js";
import type { Job, JobStore } from "../../jobs/job-store.js";
import type { JobRunner } from "../../jobs/runner.js";
import { songJobInputSchema, type SongJobInput, type SongReplies } from "../../jobs/song-job.js";
import type { Metering } from "../../usage/metering.js";
import { newSongId, type SongRecord, type SongRecordStore } from "../../songs/song-records.js";
import { ledgerGuildIdOf } from "../install-context.js";
import { jobReplyFor, type JobReply } from "../job-reply.js";
import { endJobWithoutResult, newJobFor, type AcknowledgementGate } from "../job-requests.js";
import type { HandlerContext } from "../router.js";
import { chooseSongFile, deliverSong, type FitUnderBytes } from "./delivery.js";
import { songFileName, songTitle } from "./layout.js";

/** What accepting a song request needs; wired in main.ts. */
export type SongServices = {
  checkSongInput: (input: SongInput) => SongInputCheck;
  songRecords: SongRecordStore;
  jobs: JobStore;
  runner: JobRunner;
  metering: Metering;
  /** Requests being accepted in this process right now (see `newJobFor`). */
  admissions: Set<string>;
  acknowledgements: AcknowledgementGate;
  /** The Fun-Music model songs are made with, for the quota's cost hold. */
  musicModel: string;
};

/**
 * Music seconds held against the quotas while a song is made; settled to `usage.duration`
 * afterwards. The seed's example song bills 200 s.
 */
const SONG_SECONDS_HELD = 200;

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
 * Accepts one song request, shared by /song, its form and the result buttons: checks the input and
 * the quotas (before any paid call, privately), acknowledges, and writes the durable job that the
 * runner composes and delivers. The job owns the reply from then on.
 */
export async function requestSong(interaction: RepliableInteraction, input: SongInput, services: SongServices, context: HandlerContext): Promise<void> {
  const { log } = context;
  const check = services.checkSongInput(input);
  if (!check.ok) throw songInputError(check);
  const reserve = () =>
    services.metering.reserve({ guildId: ledgerGuildIdOf(interaction), userId: interaction.user.id, feature: "song", estimatedSeconds: SONG_SECONDS_HELD, model: services.musicModel });
  const jobInput: SongJobInput = { ...input, promptIgnored: check.promptIgnored };
  const job = await newJobFor(interaction, { kind: "song", input: jobInput, ephemeral: false, reserve }, services, context);
  log.info({ jobId: job.id, mode: check.mode, uses: check.uses, gender: input.gender, format: input.format, watermark: input.watermark }, "song requested");
}

/**
 * Songs whose file is being posted at once, per process; the others wait their turn (in memory,
 * as they would anyway). Posting 200 songs of 5 MB at once shares the same bandwidth as posting
 * a few at a time, but each upload then takes 200 times longer, past @discordjs/rest's 15-s
 * request timeout on a slow link (it then sends the song again), and every upload's socket
 * buffers and copies are alive together (BENCHMARKS.md, "Memory of songs in flight").
 */
export const SONG_UPLOADS_AT_ONCE = 4;

/**
 * Posts a song in its turn: while its file waits for a slot of `uploads` its progress message keeps
 * moving ("Preparing the file… 0:41"); progress ends, so that nothing overwrites the song, only when
 * the post starts. The whole post (the file, the channel fallback, further lyrics pages) holds the
 * slot. A post without a file (the link only) does not wait.
 */
export function postInTurn<T>(uploads: Semaphore, carriesFile: boolean, endProgress: () => Promise<void>, post: () => Promise<T>): Promise<T> {
  const start = async () => {
    await endProgress();
    return post();
  };
  return carriesFile ? uploads.run(start) : start();
}

/** How a song job reaches Discord: the result message, or why there is none. */
export function createSongReplies(client: Client, deps: { songRecords: SongRecordStore; fitUnderBytes: FitUnderBytes }): SongReplies {
  const replyOf = (job: Job) => jobReplyFor(client as Client<true>, job);
  const uploads = createSemaphore(SONG_UPLOADS_AT_ONCE);
  return {
    async deliver(job, input, song, log, endProgress) {
      const reply = replyOf(job);
      const { promptIgnored, ...songInput } = input;
      const title = songTitle(songInput, song.lyrics, reply.tPublic("song.untitled"));
      const record: SongRecord = {
        id: newSongId(),
        requesterId: job.userId,
        guildId: job.guildId,
        channelId: job.channelId,
        input: songInput,
        title,
        resultLyrics: song.lyrics,
        requestId: song.requestId,
        audioUrl: song.url,
        fileName: songFileName(title, song.format),
        createdAt: new Date(),
      };
      await deps.songRecords.save(record);
      // Still under the progress message: re-encoding a long wav takes seconds.
      const file = await chooseSongFile(song, title, job.attachmentLimitBytes, deps.fitUnderBytes, log);
      const { viaChannel } = await postInTurn(uploads, file.kind !== "link-only", endProgress, () =>
        deliverSong(reply, song, record, file, { log, limitBytes: job.attachmentLimitBytes, requesterName: job.userName }),
      );
      // Sent after delivery: Discord turns the first follow-up after a defer into the reply itself.
      if (promptIgnored && !viaChannel) {
        await reply
          .followUp({ content: reply.t("song.promptIgnored"), flags: MessageFlags.Ephemeral })
          .catch((error: unknown) => log.warn({ err: error }, "could not send the prompt-ignored notice"));
      }
      return { bytesDelivered: file.kind === "link-only" ? 0 : file.data.length };
    },
    ended: (job, ending, log) => endJobWithoutResult(replyOf(job), job, ending, log),
  };
}

/** Asks for an interrupted song again, as a new request (a new hold, a new job). */
export async function retrySong(interaction: ButtonInteraction, job: Job, services: SongServices, context: HandlerContext): Promise<void> {
  const { promptIgnored: _promptIgnored, ...input } = songJobInputSchema.parse(job.input);
  await requestSong(interaction, input, services, context);
}
