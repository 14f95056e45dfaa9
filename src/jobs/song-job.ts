import { z } from "zod";
import { DashScopeError, DashScopeOutcomeUnknownError } from "../dashscope/errors.js";
import type { BilledSong, GenerateSongOptions } from "../dashscope/music.js";
import type { GeneratedSong, SongInput } from "../dashscope/music-types.js";
import type { Logger } from "../log.js";
import { createCallLedger, type CallLedger } from "../usage/call-ledger.js";
import type { Metering } from "../usage/metering.js";
import type { Job } from "./job-store.js";
import type { JobContext, JobKindWork } from "./runner.js";

/** What a song job was asked for, as stored in its row. */
export const songJobInputSchema = z.object({
  prompt: z.string().optional(),
  lyrics: z.string().optional(),
  gender: z.enum(["female", "male"]),
  format: z.enum(["mp3", "wav"]),
  watermark: z.boolean(),
  /** Both lyrics and a prompt were given: Fun-Music sings the lyrics, and the user is told. */
  promptIgnored: z.boolean().default(false),
});
export type SongJobInput = z.infer<typeof songJobInputSchema>;

/** What a billed song job keeps: enough to deliver the song after a restart (its URL lasts 24 h). */
const billedSongSchema = z.object({
  format: z.enum(["mp3", "wav"]),
  url: z.string().optional(),
  expiresAt: z.number().optional(),
  audioId: z.string().optional(),
  lyrics: z.string().optional(),
  channels: z.number().optional(),
  sampleRate: z.number().optional(),
  billedSeconds: z.number().optional(),
  requestId: z.string().optional(),
  mode: z.enum(["streaming", "non-streaming"]),
});

/** Why a job ended without its song, for the requester. */
export type SongJobEnding =
  | { kind: "failed"; error: unknown }
  /** The call's outcome is unknown (restart, shutdown, a broken answer): it may have been billed. */
  | { kind: "interrupted"; reason: "restart" | "shutdown" | "outcome-unknown"; error?: unknown };

/** What a song job needs of Discord: post the song, or say why there is none. */
export type SongReplies = {
  /**
   * Posts the song as the job's reply (or in the channel once the token is gone); bytes posted.
   * Calls `endProgress` once the file is ready, right before the edit that shows the song.
   */
  deliver(job: Job, input: SongJobInput, song: GeneratedSong, log: Logger, endProgress: () => Promise<void>): Promise<{ bytesDelivered: number }>;
  /** The final word for a job that produced no song. */
  ended(job: Job, ending: SongJobEnding, log: Logger): Promise<void>;
};

export type SongJobDeps = {
  generateSong: (input: SongInput, options: GenerateSongOptions & { timeoutMs: number }) => Promise<GeneratedSong>;
  /** Fetches a billed song's file from its URL (delivery after a restart). */
  downloadAudio: (url: string, options: { signal?: AbortSignal }) => Promise<Buffer>;
  metering: Metering;
  replies: SongReplies;
  model: string;
  concurrency: number;
  timeoutMs: number;
};

function ledgerFor(job: Job, deps: SongJobDeps): CallLedger {
  return createCallLedger(deps.metering, {
    reservationId: job.reservationId,
    where: { guildId: job.guildId, channelId: job.channelId, userId: job.userId, feature: "song", model: deps.model },
    singleCall: true,
  });
}

/**
 * A song request as a durable job: compose (the paid call), mark it billed the moment Fun-Music
 * answers (with what is needed to deliver it later), deliver, mark it delivered. Every ending
 * tells the requester and settles the ledger; nothing paid is lost.
 */
export function createSongJobWork(deps: SongJobDeps): JobKindWork {
  /** The job's last word: its progress stops first, so that no late progress edit overwrites it. */
  const tellEnded = async (job: Job, ending: SongJobEnding, context: JobContext) => {
    await context.endProgress();
    await deps.replies.ended(job, ending, context.log);
  };

  const deliver = async (job: Job, input: SongJobInput, song: GeneratedSong, context: JobContext) => {
    context.progress({ phase: "finishing" });
    let bytesDelivered: number;
    try {
      ({ bytesDelivered } = await deps.replies.deliver(job, input, song, context.log, context.endProgress));
    } catch (error) {
      // Delivery falls back to the link, the channel and a DM on its own; past all of them the job
      // still ends, with a word to the requester, rather than stay billed for ever.
      context.log.error({ err: error, requestId: song.requestId, url: song.url }, "the billed song could not be delivered");
      await context.update({ state: "failed", errorCode: "DeliveryFailed" });
      await tellEnded(job, { kind: "failed", error }, context);
      return;
    }
    await context.update({ state: "delivered" });
    if (song.requestId) await deps.metering.delivered(song.requestId, bytesDelivered);
  };

  const interrupt = async (job: Job, context: JobContext, reason: "restart" | "shutdown" | "outcome-unknown", call?: { occurredAt: Date; error: DashScopeOutcomeUnknownError }) => {
    const ledger = ledgerFor(job, deps);
    await ledger.interrupted({ occurredAt: call?.occurredAt ?? job.updatedAt, requestId: call?.error.requestId ?? job.requestId ?? undefined, latencyMs: 0 });
    await ledger.close();
    await context.update({ state: "interrupted", errorCode: "Interrupted" });
    await tellEnded(job, { kind: "interrupted", reason, ...(call ? { error: call.error } : {}) }, context);
  };

  return {
    concurrency: deps.concurrency,
    async run(job, context) {
      const input = songJobInputSchema.parse(job.input);
      const ledger = ledgerFor(job, deps);
      const { promptIgnored: _promptIgnored, ...songInput } = input;
      context.progress({ phase: "composing", audioSeconds: undefined });
      const callStarted = new Date();
      let billed = false;
      let song: GeneratedSong;
      try {
        song = await deps.generateSong(songInput, {
          timeoutMs: deps.timeoutMs,
          signal: context.signal,
          log: context.log,
          onProgress: (update) => context.progress({ phase: "composing", audioSeconds: update.audioSeconds }),
          // Recorded the moment the song is billed, before its file is fetched or posted: from here
          // on a crash delivers it from the stored URL instead of losing it.
          onBilled: async (billing: BilledSong) => {
            billed = true;
            await ledger.answered({ occurredAt: callStarted, requestId: billing.requestId, musicSeconds: billing.billedSeconds ?? 0, latencyMs: Date.now() - callStarted.getTime() });
            await context.update({ state: "billed", requestId: billing.requestId ?? null, result: billing });
          },
        });
      } catch (error) {
        if (billed) throw error;
        if (error instanceof DashScopeOutcomeUnknownError) {
          context.log.warn({ err: error }, "the song call's outcome is unknown; it may have been billed");
          await interrupt(job, context, "outcome-unknown", { occurredAt: callStarted, error });
          return;
        }
        if (error instanceof DashScopeError) {
          await ledger.failed({ occurredAt: callStarted, requestId: error.requestId, code: error.code, latencyMs: Date.now() - callStarted.getTime() });
        }
        await ledger.close();
        await context.update({ state: "failed", errorCode: error instanceof DashScopeError ? error.code : "Unexpected" });
        await tellEnded(job, { kind: "failed", error }, context);
        return;
      }
      if (song.audioError !== undefined) context.log.warn({ err: song.audioError, requestId: song.requestId }, "the song's file could not be fetched; delivering its link");
      context.log.info({ requestId: song.requestId, billedSeconds: song.billedSeconds, bytes: song.audio.length, mode: song.mode }, "song generated");
      await deliver(job, input, song, context);
    },
    async deliverBilled(job, context) {
      const input = songJobInputSchema.parse(job.input);
      const billedSong = billedSongSchema.parse(job.result);
      let audio: Buffer = Buffer.alloc(0);
      let audioError: unknown;
      if (billedSong.url) {
        try {
          audio = await deps.downloadAudio(billedSong.url, { signal: context.signal });
        } catch (error) {
          audioError = error;
        }
      }
      const song: GeneratedSong = {
        format: billedSong.format,
        mode: billedSong.mode,
        url: billedSong.url,
        expiresAt: billedSong.expiresAt,
        audioId: billedSong.audioId,
        lyrics: billedSong.lyrics,
        channels: billedSong.channels,
        sampleRate: billedSong.sampleRate,
        billedSeconds: billedSong.billedSeconds,
        requestId: billedSong.requestId,
        audio,
        ...(audioError === undefined ? {} : { audioError }),
      };
      context.log.info({ requestId: song.requestId, bytes: audio.length }, "delivering a song billed before a restart");
      await deliver(job, input, song, context);
    },
    interrupt: (job, context, reason) => interrupt(job, context, reason),
  };
}
