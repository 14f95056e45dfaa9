import { AudioToolError, type AudioPiece, type AudioProbe, type AudioTarget, type AudioTools, type Mp3CopyTarget } from "../audio/index.js";
import { createSemaphore } from "../audio/run.js";
import { qwenAudioLimits, type UploadedFile } from "../dashscope/audio-types.js";
import { UserError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Downloader } from "../net/download.js";
import type { AudioSource } from "./sources.js";

export type PreparedPiece = { startSeconds: number; endSeconds: number; audioUrl: string };

export type PreparedAudio = {
  durationSeconds: number;
  converted: boolean;
  pieces: PreparedPiece[];
  /** Seconds analysed, when the recording was longer than `maxPieces` pieces. */
  truncatedAtSeconds: number | undefined;
};

export type PrepareDeps = {
  download: Downloader;
  audioTools: Pick<AudioTools, "probe" | "split">;
  upload: (file: { fileName: string; bytes: Buffer; contentType: string }) => Promise<UploadedFile>;
  log: Logger;
};

export type PrepareLimits = {
  /** Largest file the bot downloads for analysis. */
  maxDownloadBytes: number;
  /** Most ≤30 s pieces analysed per recording (bounds the cost of a long one). */
  maxPieces: number;
  /** Pieces uploaded to DashScope's temporary storage at once. */
  uploadConcurrency: number;
  /**
   * Let the model fetch files it can read by their Discord link instead of uploading them.
   * Off by default: DashScope's Beijing region may not reach Discord's CDN, and the signed link
   * expires, which would break later follow-ups.
   */
  sendDiscordLinks: boolean;
};

/**
 * The formats the seed says Qwen-Audio reads (amr, wav PCM / GSM_MS, 3gp, 3gpp, aac, mp3). 3gp
 * is left out: ffprobe names every MP4-family container alike, so it can't be told from mp4 here.
 */
export function modelReadsAsIs(probe: AudioProbe): boolean {
  if (probe.hasVideo) return false;
  if (probe.format === "mp3" && probe.codec === "mp3") return true;
  if (probe.format === "wav") return probe.codec.startsWith("pcm_") || probe.codec === "gsm_ms";
  return probe.format === "amr" || probe.format === "aac";
}

const PIECE_SECONDS = qwenAudioLimits.maxSeconds;
/** Small mono mp3: speech and music both survive it, and a 30 s piece is about 240 KB. */
const pieceTarget = { format: "mp3", bitrateKbps: 64, channels: 1, sampleRate: 16_000 } as const;

/**
 * Highest bitrate of an mp3 that is cut into parts as it is rather than re-encoded to
 * `pieceTarget`. Copying saves the encode (about 0.8 s of CPU for 5 minutes on two cores, and the
 * last part is then ready at ~0.1 s instead of ~1 s: BENCHMARKS.md) but uploads the source's
 * bytes: at 128 kbps a part is twice the 64 kbps encode, 2.4 MB more for 5 minutes, which an
 * uplink of about 20 Mbit/s sends in the second the encode took. Above it (160–320 kbps, common
 * for music) the extra 3.6–9.6 MB would make the uploads on a home uplink slower than the encode
 * they save, and the parts would cost the model no fewer tokens (it hears seconds, not bits).
 */
export const COPY_MAX_KBPS = 128;
/**
 * Sample rates of MPEG-1 and MPEG-2 Layer III. The 8–12 kHz ones are MPEG-2.5, an unofficial
 * extension not every decoder reads: those are re-encoded to 16 kHz.
 */
const COPY_SAMPLE_RATES = [16_000, 22_050, 24_000, 32_000, 44_100, 48_000];

/**
 * Whether the parts of this recording are cut from its own mp3 frames without re-encoding: an mp3
 * (no video) that Qwen-Audio reads as it is (`modelReadsAsIs`), mono or stereo at a standard mp3
 * rate, of a known bitrate of at most `COPY_MAX_KBPS` (a 30 s part is then about 480 KB, more for a VBR stretch above its average, far
 * under the model's 10 MB).
 */
export function partsCopiedFrom(probe: AudioProbe): boolean {
  if (!modelReadsAsIs(probe) || probe.format !== "mp3") return false;
  if (probe.channels !== 1 && probe.channels !== 2) return false;
  if (!COPY_SAMPLE_RATES.includes(probe.sampleRate)) return false;
  return probe.bitRate !== undefined && probe.bitRate <= COPY_MAX_KBPS * 1000;
}

function splitTarget(probe: AudioProbe, maxSeconds: number): AudioTarget | Mp3CopyTarget {
  if (partsCopiedFrom(probe)) return { format: "mp3", copy: true, sampleRate: probe.sampleRate, maxSeconds };
  return { ...pieceTarget, maxSeconds };
}

/** What is known once the recording is probed, before its first piece is ready. */
export type PreparationPlan = {
  /** Pieces expected (the split may make one more or fewer: containers round durations). */
  pieces: number;
  durationSeconds: number;
  /** Seconds that will be analysed: the duration, or less when it is longer than `maxPieces` pieces. */
  analysedSeconds: number;
};

export type PreparationEvents = {
  onPlanned?: (plan: PreparationPlan) => void;
  /** Each piece as soon as the model can reach it (uploaded), in any order. */
  onPiece?: (piece: PreparedPiece) => void;
};

/**
 * Gets a Discord audio file ready for Qwen-Audio: files the model can read within its limits go
 * by their own URL; anything else is split into ≤30 s pieces (converted to a small mp3, or, for
 * an mp3 of at most `COPY_MAX_KBPS`, cut from its own frames) and put in DashScope's temporary
 * storage, as the official SDK does for local files. Each piece is uploaded as soon as
 * ffmpeg has written it and handed to `events.onPiece` once uploaded, so a caller can ask the
 * first piece while later ones are still being converted and uploaded.
 * Throws if any piece fails (after the uploads already started have settled).
 */
export async function prepareAudio(
  source: AudioSource,
  deps: PrepareDeps,
  limits: PrepareLimits,
  events: PreparationEvents = {},
): Promise<PreparedAudio> {
  if (source.sizeBytes > limits.maxDownloadBytes) {
    throw new UserError("analysis.tooLarge", { sizeMb: megabytes(source.sizeBytes), maxMb: megabytes(limits.maxDownloadBytes) });
  }
  const bytes = await deps.download(source.url, { maxBytes: limits.maxDownloadBytes });

  let probe: AudioProbe;
  try {
    probe = await deps.audioTools.probe(bytes);
  } catch (error) {
    if (error instanceof AudioToolError && error.reason === "no-audio") throw new UserError("analysis.noSoundTrack", { name: source.name }, { cause: error });
    if (error instanceof AudioToolError && error.reason === "undecodable") {
      throw new UserError("analysis.undecodable", { name: source.name }, { cause: error });
    }
    throw error;
  }
  deps.log.info(
    { format: probe.format, codec: probe.codec, durationSeconds: probe.durationSeconds, bitRate: probe.bitRate, bytes: bytes.length, partsCopied: partsCopiedFrom(probe) },
    "audio probed",
  );

  if (limits.sendDiscordLinks && modelReadsAsIs(probe) && probe.durationSeconds <= PIECE_SECONDS && bytes.length <= qwenAudioLimits.maxBytes) {
    const piece = { startSeconds: 0, endSeconds: probe.durationSeconds, audioUrl: source.url };
    events.onPlanned?.({ pieces: 1, durationSeconds: probe.durationSeconds, analysedSeconds: probe.durationSeconds });
    events.onPiece?.(piece);
    return { durationSeconds: probe.durationSeconds, converted: false, pieces: [piece], truncatedAtSeconds: undefined };
  }

  // Only what will be analysed is decoded.
  const analysedSeconds = limits.maxPieces * PIECE_SECONDS;
  const plannedSeconds = Math.min(probe.durationSeconds, analysedSeconds);
  events.onPlanned?.({
    // Pieces fall a frame or two short of 30 s (src/audio/tools.ts).
    pieces: Math.min(limits.maxPieces, Math.max(1, Math.ceil(plannedSeconds / (PIECE_SECONDS - 0.1)))),
    durationSeconds: probe.durationSeconds,
    analysedSeconds: plannedSeconds,
  });
  const base = source.name.replace(/\.[^.]*$/, "") || "audio";
  const uploadSlots = createSemaphore(limits.uploadConcurrency);
  const uploads: Promise<PreparedPiece>[] = [];
  const upload = (piece: AudioPiece, index: number): Promise<PreparedPiece> =>
    uploadSlots.run(async () => {
      const uploaded = await deps.upload({ fileName: `${base}-part${index + 1}.mp3`, bytes: piece.audio, contentType: "audio/mpeg" });
      const prepared = { startSeconds: piece.startSeconds, endSeconds: piece.endSeconds, audioUrl: uploaded.url };
      events.onPiece?.(prepared);
      return prepared;
    });
  let pieces: AudioPiece[];
  try {
    pieces = await deps.audioTools.split(bytes, PIECE_SECONDS, splitTarget(probe, analysedSeconds), {
      onPiece: (piece, index) => uploads.push(upload(piece, index)),
      sourceSeconds: probe.durationSeconds,
    });
  } finally {
    // Never leave uploads running behind a failure.
    await Promise.allSettled(uploads);
  }
  if (pieces.length === 0) throw new UserError("analysis.undecodable", { name: source.name });
  const settled = await Promise.allSettled(uploads);
  const failed = settled.find((result) => result.status === "rejected");
  if (failed?.status === "rejected") throw failed.reason;
  const uploaded = settled.map((result) => (result as PromiseFulfilledResult<PreparedPiece>).value).sort((a, b) => a.startSeconds - b.startSeconds);
  // Half a second of slack: containers round their durations.
  const truncatedAtSeconds = probe.durationSeconds > analysedSeconds + 0.5 ? pieces.at(-1)?.endSeconds : undefined;

  return {
    durationSeconds: probe.durationSeconds,
    converted: true,
    truncatedAtSeconds,
    pieces: uploaded,
  };
}

function megabytes(bytes: number): string {
  return String(Number.parseFloat((bytes / (1024 * 1024)).toPrecision(3)));
}
