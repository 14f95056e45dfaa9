import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Logger } from "pino";
import { z } from "zod";
import { AudioToolError, type AudioToolErrorReason } from "./errors.js";
import { locateFfmpeg } from "./locate.js";
import { createSemaphore, lastLines, runTool, type ToolName, type ToolResult } from "./run.js";
import { readWavLayout, wavFromPcm } from "./wav.js";

/** What ffprobe says about the first audio stream of an input and its container. */
export type AudioProbe = {
  /** ffprobe's container name: "ogg", "mp3", "wav", "flac", "matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2", … */
  format: string;
  /** Codec of the first audio stream: "opus", "mp3", "pcm_s16le", "aac", "flac", "amr_nb", … */
  codec: string;
  /** From the container when it says; otherwise measured by decoding (streamed WebM has none). */
  durationSeconds: number;
  sampleRate: number;
  channels: number;
  /** Bits per second of the audio stream, else of the whole file; undefined when neither is known. */
  bitRate: number | undefined;
  sizeBytes: number;
  /** True when the input also has a real video stream (not just cover art), e.g. an mp4 clip. */
  hasVideo: boolean;
};

export type AudioTarget = {
  format: "mp3" | "wav";
  /** mp3 only; default 128. */
  bitrateKbps?: number;
  /** Default: the source's. */
  channels?: 1 | 2;
  /** Default: the source's (for mp3, the nearest rate mp3 allows). */
  sampleRate?: number;
  /**
   * Keep only the first this many seconds. Bounds the work on a long recording of which only the
   * start is wanted: a small Opus file can hold hours, which would decode to gigabytes of PCM.
   */
  maxSeconds?: number;
};

/**
 * `split` only: cut the input's own mp3 frames, without decoding or encoding them (ffmpeg's
 * `-c:a copy`). The input must be an mp3 stream (ffprobe's format and codec "mp3"); the caller
 * decides when that is worth it (src/analysis/prepare.ts).
 */
export type Mp3CopyTarget = {
  format: "mp3";
  copy: true;
  /** The input's sample rate, as probed: it sets the length of the frames the cuts fall between. */
  sampleRate: number;
  /** Keep only the first this many seconds (in whole pieces), as for `AudioTarget`. */
  maxSeconds?: number;
};

export type AudioCallOptions = {
  signal?: AbortSignal | undefined;
  /** Limit for the whole call, queueing included; default `createAudioTools`' `timeoutMs`. */
  timeoutMs?: number | undefined;
};

export type AudioPiece = { startSeconds: number; endSeconds: number; audio: Buffer };

export type SplitOptions = AudioCallOptions & {
  /**
   * Called with each piece, in order, as soon as it is ready (mp3 pieces come while later ones are
   * still being encoded), so that a caller can start using the first before the last exists.
   */
  onPiece?: ((piece: AudioPiece, index: number) => void) | undefined;
  /**
   * The input's duration, when the caller has probed it: mp3 pieces are then made by several
   * ffmpeg processes at once, each a range of whole pieces (pieces may then come out of order).
   */
  sourceSeconds?: number | undefined;
};

export type FittedAudio = { audio: Buffer; format: "mp3"; bitrateKbps: number };

/**
 * Local audio work, all through ffmpeg/ffprobe child processes. Every method rejects with
 * `AudioToolError` (see its `reason`), or with the signal's reason when aborted.
 */
export type AudioTools = {
  /** Describes the first audio stream. Throws `undecodable` for non-media, `no-audio` for media without sound. */
  probe(input: Buffer | string, options?: AudioCallOptions): Promise<AudioProbe>;
  /** Re-encodes the first audio stream of any input ffmpeg reads into mp3 or 16-bit PCM wav. */
  transcode(input: Buffer, target: AudioTarget, options?: AudioCallOptions): Promise<Buffer>;
  /**
   * The best mp3 from `MP3_BITRATES_KBPS` whose real size is ≤ `maxBytes`, or undefined when even
   * the lowest cannot fit. An mp3 source is only re-encoded at lower bitrates than its own, and is
   * returned unchanged when it already fits.
   */
  fitUnderBytes(input: Buffer, sourceFormat: "mp3" | "wav", maxBytes: number, options?: AudioCallOptions): Promise<FittedAudio | undefined>;
  /**
   * Consecutive pieces covering the input, each at most `pieceSeconds` long by any measure:
   * wav pieces are cut exactly; mp3 pieces are cut from one continuous encode at mp3 frame
   * boundaries (ffmpeg's segment muxer), a frame or two short of the limit, so that their
   * container duration stays within it. With an `Mp3CopyTarget` the input's own frames are cut
   * the same way, without an encode. A trailing remainder shorter than 0.25 s is dropped.
   */
  split(input: Buffer, pieceSeconds: number, target: AudioTarget | Mp3CopyTarget, options?: SplitOptions): Promise<AudioPiece[]>;
};

/** Bitrates tried by `fitUnderBytes`, best first. Below 64 kbps music is not worth posting. */
export const MP3_BITRATES_KBPS = [320, 256, 192, 160, 128, 96, 64] as const;

const DEFAULT_TIMEOUT_MS = 120_000;
/** Larger than any output we mean to make (a 200 s 48 kHz stereo wav is ~38 MB); stops decode bombs. */
const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024 * 1024;
const MIN_TRAILING_PIECE_SECONDS = 0.25;
/** Sample rates libmp3lame accepts (MPEG-1, 2 and 2.5). */
const MP3_SAMPLE_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
/** LAME's encoder delay (576) plus the decoder delay (529) that it pads for: samples before the first real one. */
const MP3_DELAY_SAMPLES = 1105;

export type AudioToolsOptions = {
  /** Both paths, or neither: without them the binaries are located on first use (`locateFfmpeg`, PATH from the environment). */
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
  logger: Logger;
  /** ffmpeg/ffprobe processes running at once; default 2, one per core of the target machine. */
  maxConcurrent?: number;
  /** Default limit for one call; default 120 s. */
  timeoutMs?: number;
  /** A child whose stdout grows past this is killed; default 256 MiB. */
  maxOutputBytes?: number;
  /** Where seekable inputs and probe copies are written; default `os.tmpdir()`. */
  tempDirectory?: string;
};

export function createAudioTools(options: AudioToolsOptions): AudioTools {
  const logger = options.logger.child({ component: "audio" });
  const maxConcurrent = options.maxConcurrent ?? 2;
  const semaphore = createSemaphore(maxConcurrent);
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const tempRoot = options.tempDirectory ?? os.tmpdir();

  let binaries: { ffmpeg: string; ffprobe: string } | undefined;
  const binaryFor = (tool: ToolName): string => {
    if (binaries === undefined) {
      if (options.ffmpegPath !== undefined && options.ffprobePath !== undefined) {
        binaries = { ffmpeg: options.ffmpegPath, ffprobe: options.ffprobePath };
      } else {
        const located = locateFfmpeg({ ffmpegPath: options.ffmpegPath, ffprobePath: options.ffprobePath, pathEnv: process.env.PATH });
        logger.info({ ...located }, "located ffmpeg");
        binaries = { ffmpeg: located.ffmpegPath, ffprobe: located.ffprobePath };
      }
    }
    return binaries[tool];
  };

  type Call = { signal: AbortSignal | undefined; deadline: number; timeoutMs: number };
  const callFrom = (callOptions: AudioCallOptions | undefined): Call => {
    const timeoutMs = callOptions?.timeoutMs ?? defaultTimeoutMs;
    return { signal: callOptions?.signal, deadline: Date.now() + timeoutMs, timeoutMs };
  };

  const exec = (
    tool: ToolName,
    args: string[],
    stdin: Buffer | undefined,
    call: Call,
    onStdout?: (chunk: Buffer) => void,
  ): Promise<ToolResult> =>
    semaphore.run(async () => {
      const binary = binaryFor(tool);
      const remainingMs = call.deadline - Date.now();
      if (remainingMs <= 0) {
        throw new AudioToolError({ reason: "timeout", message: `audio call ran out of its ${call.timeoutMs} ms before ${tool} could start`, tool });
      }
      return runTool({ tool, binary, args, stdin, signal: call.signal, timeoutMs: remainingMs, maxOutputBytes, logger, onStdout });
    }, call.signal);

  const withTempDirectory = async <T>(use: (directory: string) => Promise<T>): Promise<T> => {
    const directory = await mkdtemp(path.join(tempRoot, "dashtune-audio-"));
    try {
      return await use(directory);
    } finally {
      await rm(directory, { recursive: true, force: true }).catch((error: unknown) => {
        logger.warn({ err: error, directory }, "could not remove audio temp directory");
      });
    }
  };

  /**
   * Gives ffmpeg the input through stdin when its container can be read front to back, or as a temp
   * file when it needs seeking (MP4 family: the `moov` index is often at the end).
   */
  const withInput = <T>(input: Buffer, use: (url: string, stdin: Buffer | undefined) => Promise<T>): Promise<T> => {
    if (!needsSeekableInput(input)) return use("pipe:0", input);
    return withTempDirectory(async (directory) => {
      const file = path.join(directory, "input");
      await writeFile(file, input);
      return use(`file:${file}`, undefined);
    });
  };

  const ffmpegArgs = (inputUrl: string, stdin: Buffer | undefined, rest: string[]): string[] => [
    "-hide_banner",
    "-nostats",
    "-loglevel",
    "error",
    ...(stdin === undefined ? ["-nostdin"] : []),
    "-i",
    inputUrl,
    ...rest,
  ];

  const transcodeWithin = async (input: Buffer, target: AudioTarget, call: Call): Promise<Buffer> => {
    assertTarget(target);
    return withInput(input, async (inputUrl, stdin) => {
      const args = ffmpegArgs(inputUrl, stdin, ["-map", "0:a:0", ...encoderArgs(target), "pipe:1"]);
      const result = await exec("ffmpeg", args, stdin, call);
      if (result.exitCode !== 0) throw failure("ffmpeg", "transcode", result, inputUrl);
      return checkedOutput(result, target.format);
    });
  };

  const measureDurationSeconds = async (inputUrl: string, call: Call): Promise<number> => {
    // Decoding to the null muxer is the only honest duration for containers that do not store one.
    const args = ffmpegArgs(inputUrl, undefined, ["-map", "0:a:0", "-f", "null", "-progress", "pipe:1", "-"]);
    const result = await exec("ffmpeg", args, undefined, call);
    if (result.exitCode !== 0) throw failure("ffmpeg", "duration measurement", result, inputUrl);
    const times = [...result.stdout.toString("utf8").matchAll(/^out_time=(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/gm)];
    const last = times.at(-1);
    if (last === undefined) {
      throw new AudioToolError({ reason: "undecodable", message: "ffmpeg decoded no audio while measuring the duration", tool: "ffmpeg" });
    }
    return Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3]);
  };

  const probeFile = async (file: string, sizeBytes: number, call: Call): Promise<AudioProbe> => {
    const inputUrl = `file:${file}`;
    const args = ["-hide_banner", "-loglevel", "error", "-print_format", "json", "-show_format", "-show_streams", "-i", inputUrl];
    const result = await exec("ffprobe", args, undefined, call);
    if (result.exitCode !== 0) throw failure("ffprobe", "probe", result, inputUrl);
    const report = parseFfprobeReport(result.stdout);
    const audio = report.streams.find((stream) => stream.codec_type === "audio");
    const formatName = report.format?.format_name ?? "unknown";
    if (audio === undefined) {
      const kinds = report.streams.map((stream) => `${stream.codec_type ?? "?"}/${stream.codec_name ?? "?"}`).join(", ");
      throw new AudioToolError({ reason: "no-audio", message: `no audio stream in ${formatName} input (streams: ${kinds || "none"})`, tool: "ffprobe" });
    }
    let durationSeconds = positiveNumber(report.format?.duration) ?? positiveNumber(audio.duration);
    durationSeconds ??= await measureDurationSeconds(inputUrl, call);
    if (!(durationSeconds > 0)) {
      throw new AudioToolError({ reason: "undecodable", message: `the ${formatName} input has an audio stream but no decodable audio`, tool: "ffmpeg" });
    }
    return {
      format: formatName,
      codec: audio.codec_name ?? "unknown",
      durationSeconds,
      sampleRate: positiveNumber(audio.sample_rate) ?? 0,
      channels: audio.channels ?? 0,
      bitRate: positiveNumber(audio.bit_rate) ?? positiveNumber(report.format?.bit_rate),
      sizeBytes,
      hasVideo: report.streams.some((stream) => stream.codec_type === "video" && stream.disposition?.attached_pic !== 1),
    };
  };

  const probeWithin = async (input: Buffer | string, call: Call): Promise<AudioProbe> => {
    if (typeof input === "string") {
      const file = path.resolve(input);
      let size: number;
      try {
        ({ size } = await stat(file));
      } catch (error) {
        throw new AudioToolError({ reason: "failed", message: `cannot probe ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, cause: error });
      }
      return probeFile(file, size, call);
    }
    // Buffers are probed from a temp file, not stdin: ffprobe finds the duration of Ogg, MP4 and
    // header-less mp3 by seeking to the end, and a pipe cannot seek.
    return withTempDirectory(async (directory) => {
      const file = path.join(directory, "input");
      await writeFile(file, input);
      return probeFile(file, input.length, call);
    });
  };

  const fitWithin = async (input: Buffer, sourceFormat: "mp3" | "wav", maxBytes: number, call: Call): Promise<FittedAudio | undefined> => {
    if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
    const source = await probeWithin(input, call);
    const sourceIsMp3 = sourceFormat === "mp3" && source.codec === "mp3";
    const sourceKbps = source.bitRate === undefined ? undefined : source.bitRate / 1000;
    if (sourceIsMp3 && input.length <= maxBytes) {
      return { audio: input, format: "mp3", bitrateKbps: Math.round(sourceKbps ?? 0) };
    }
    const sampleRate = source.sampleRate > 0 ? mp3SampleRateFor(source.sampleRate) : undefined;
    // Re-encoding an mp3 at its own bitrate or above only loses quality.
    const bitrates = MP3_BITRATES_KBPS.filter((kbps) => !sourceIsMp3 || sourceKbps === undefined || kbps < sourceKbps);
    for (const bitrateKbps of bitrates) {
      const estimate = estimateMp3Bytes(source.durationSeconds, bitrateKbps, sampleRate ?? 44_100);
      if (estimate > maxBytes) continue;
      const audio = await transcodeWithin(input, { format: "mp3", bitrateKbps, ...(sampleRate === undefined ? {} : { sampleRate }) }, call);
      logger.debug({ bitrateKbps, estimate, actual: audio.length, maxBytes }, "encoded mp3 to fit a size limit");
      if (audio.length <= maxBytes) return { audio, format: "mp3", bitrateKbps };
    }
    return undefined;
  };

  /**
   * mp3 pieces made in ffmpeg: decoding, encoding and cutting (the segment muxer) all in the
   * child. With the source's duration known, the recording is cut into `maxConcurrent` ranges of
   * whole pieces, one process each, so a long recording is ready in a fraction of the time. Few
   * processes matter: each spawn blocks the event loop for a fork of the whole bot (tens of ms for
   * a few hundred MB of memory), and cutting PCM here blocked it too (BENCHMARKS.md).
   */
  const splitToMp3 = (input: Buffer, pieceSeconds: number, target: AudioTarget, call: Call, options: SplitOptions): Promise<AudioPiece[]> => {
    const rate = target.sampleRate;
    // Without a known rate, the longest mp3 frame (8 kHz).
    const frameSeconds = rate === undefined ? 576 / 8000 : mp3FrameSeconds(rate);
    const segmentSeconds = segmentSecondsFor(pieceSeconds, frameSeconds);
    const delaySeconds = MP3_DELAY_SAMPLES / (rate ?? 44_100);
    return cutMp3Segments(input, call, options, {
      segmentSeconds,
      delaySeconds,
      maxCount: maxPieceCount(target.maxSeconds, pieceSeconds),
      ranges: pieceRanges(options.sourceSeconds, target.maxSeconds, segmentSeconds, maxConcurrent, delaySeconds + 2 * frameSeconds),
      codecArgs: [
        ...encoderArgs({ ...target, maxSeconds: undefined }),
        // LAME's faster search (its quality 7): about a third less work than the default, at
        // the 64 kbps mono of a part for Qwen-Audio, and no audible difference there.
        "-compression_level",
        "7",
      ],
    });
  };

  /**
   * mp3 pieces cut from the input's own frames (`-c:a copy`): nothing is decoded or encoded, so
   * a 5-minute recording is cut in tens of milliseconds, where its encode takes about 0.8 s of
   * CPU (BENCHMARKS.md). One process for the whole input: there is no work to spread over two.
   * The segment list's times are the input's own (there is no encoder delay to subtract); a part's
   * first frame may lean on the previous part's bit reservoir, so a decoder may mute its first
   * ~26 ms, as when any mp3 is cut without re-encoding.
   */
  const splitCopyingMp3 = (input: Buffer, pieceSeconds: number, target: Mp3CopyTarget, call: Call, options: SplitOptions): Promise<AudioPiece[]> => {
    if (!(MP3_SAMPLE_RATES as readonly number[]).includes(target.sampleRate)) throw new RangeError(`sampleRate ${target.sampleRate} is not an mp3 rate`);
    const segmentSeconds = segmentSecondsFor(pieceSeconds, mp3FrameSeconds(target.sampleRate));
    return cutMp3Segments(input, call, options, {
      segmentSeconds,
      delaySeconds: 0,
      maxCount: maxPieceCount(target.maxSeconds, pieceSeconds),
      ranges: [{ firstIndex: 0, startSeconds: 0, endSeconds: undefined, seconds: target.maxSeconds }],
      codecArgs: ["-c:a", "copy"],
    });
  };

  /**
   * Runs ffmpeg's segment muxer over the input, one process per range, each naming a piece on
   * stdout (its segment list) once the piece is written, so the piece is read and handed on while
   * ffmpeg works on the next. Then keeps `maxCount` pieces and drops a trailing crumb.
   */
  const cutMp3Segments = (input: Buffer, call: Call, options: SplitOptions, plan: SegmentPlan): Promise<AudioPiece[]> =>
    withTempDirectory(async (directory) => {
      const inputFile = path.join(directory, "input");
      // Written by the thread pool, not piped from the event loop; ffmpeg can also seek in a file.
      await writeFile(inputFile, input);
      const { maxCount, delaySeconds } = plan;
      const stopOthers = new AbortController();
      const signal = call.signal === undefined ? stopOthers.signal : AbortSignal.any([call.signal, stopOthers.signal]);

      const splitRange = async (range: PieceRange, rangeIndex: number): Promise<AudioPiece[]> => {
        const pieces: AudioPiece[] = [];
        let pending = Promise.resolve();
        let listed = "";
        const onList = (chunk: Buffer): void => {
          listed += chunk.toString("utf8");
          const lines = listed.split("\n");
          listed = lines.pop() ?? "";
          for (const line of lines) {
            const [name, start, end] = line.trim().split(",");
            if (!name || start === undefined || end === undefined) continue;
            // An encode's segment list counts time from the encoder's first sample, which is the
            // delay before the range's first one.
            const startSeconds = range.startSeconds + Math.max(0, Number(start) - delaySeconds);
            // A range ends exactly where the next one starts (the encoder pads its last frame).
            const endSeconds = Math.max(startSeconds, Math.min(range.endSeconds ?? Infinity, range.startSeconds + Number(end) - delaySeconds));
            pending = pending.then(async () => {
              const audio = await readFile(path.join(directory, path.basename(name)));
              const piece = { startSeconds, endSeconds, audio };
              pieces.push(piece);
              // Only the very last piece can be this short; it is dropped unless it is all there is.
              const index = range.firstIndex + pieces.length - 1;
              if (endSeconds - startSeconds >= MIN_TRAILING_PIECE_SECONDS && index < maxCount) options.onPiece?.(piece, index);
            });
          }
        };
        const seek = range.startSeconds > 0 ? ["-ss", range.startSeconds.toFixed(3)] : [];
        const length = range.seconds === undefined ? [] : ["-t", range.seconds.toFixed(3)];
        const args = [
          "-hide_banner",
          "-nostats",
          "-loglevel",
          "error",
          "-nostdin",
          ...seek,
          "-i",
          `file:${inputFile}`,
          "-map",
          "0:a:0",
          // The source's tags (titles, lyrics, comments) are no part of what the model hears.
          "-map_metadata",
          "-1",
          ...plan.codecArgs,
          ...length,
          "-f",
          "segment",
          "-segment_time",
          plan.segmentSeconds.toFixed(3),
          "-segment_format",
          "mp3",
          "-reset_timestamps",
          "1",
          "-segment_list",
          "pipe:1",
          "-segment_list_type",
          "csv",
          path.join(directory, `range${rangeIndex}-%05d.mp3`),
        ];
        const result = await exec("ffmpeg", args, undefined, { ...call, signal }, onList);
        await pending;
        if (result.exitCode !== 0) throw failure("ffmpeg", "split", result, `file:${inputFile}`);
        return pieces;
      };

      let byRange: AudioPiece[][];
      try {
        byRange = await Promise.all(plan.ranges.map(splitRange));
      } catch (error) {
        stopOthers.abort();
        throw call.signal?.aborted ? call.signal.reason : error;
      }
      const pieces = byRange.flat().slice(0, maxCount);
      const last = pieces.at(-1);
      const lastIsShort = last !== undefined && last.endSeconds - last.startSeconds < MIN_TRAILING_PIECE_SECONDS;
      const onlyPieceIsShort = lastIsShort && pieces.length === 1;
      if (lastIsShort && !onlyPieceIsShort) pieces.pop();
      if (pieces.length === 0 || pieces.every((piece) => piece.audio.length <= id3v2Length(piece.audio))) {
        throw new AudioToolError({ reason: "undecodable", message: "ffmpeg decoded no audio from the input", tool: "ffmpeg" });
      }
      if (onlyPieceIsShort && last !== undefined) options.onPiece?.(last, 0);
      return pieces;
    });

  const splitWithin = async (
    input: Buffer,
    pieceSeconds: number,
    target: AudioTarget | Mp3CopyTarget,
    call: Call,
    options: SplitOptions,
  ): Promise<AudioPiece[]> => {
    if (!(pieceSeconds >= 1) || !Number.isFinite(pieceSeconds)) throw new RangeError(`pieceSeconds must be at least 1, got ${pieceSeconds}`);
    if ("copy" in target) return splitCopyingMp3(input, pieceSeconds, target, call, options);
    assertTarget(target);
    if (target.format === "mp3") return splitToMp3(input, pieceSeconds, target, call, options);
    // wav: decode once to PCM at the target's layout and cut by sample count (exact whatever the
    // container claimed its duration to be).
    const decoded = await transcodeWithin(input, { format: "wav", channels: target.channels, sampleRate: target.sampleRate, maxSeconds: target.maxSeconds }, call);
    const layout = readWavLayout(decoded);
    const frameBytes = layout.channels * 2;
    const pcm = decoded.subarray(layout.dataOffset, layout.dataOffset + layout.dataLength);
    const plan = planPieces({ totalFrames: pcm.length / frameBytes, sampleRate: layout.sampleRate, pieceSeconds, reserveFrames: 0 });
    const pieceWav = (piece: PlannedPiece): Buffer =>
      wavFromPcm(pcm.subarray(piece.startFrame * frameBytes, piece.endFrame * frameBytes), layout);
    const timing = (piece: PlannedPiece) => ({
      startSeconds: piece.startFrame / layout.sampleRate,
      endSeconds: piece.endFrame / layout.sampleRate,
    });
    const pieces = plan.map((piece) => ({ ...timing(piece), audio: pieceWav(piece) }));
    pieces.forEach((piece, index) => options.onPiece?.(piece, index));
    return pieces;
  };

  return {
    probe: (input, callOptions) => probeWithin(input, callFrom(callOptions)),
    transcode: (input, target, callOptions) => transcodeWithin(input, target, callFrom(callOptions)),
    fitUnderBytes: (input, sourceFormat, maxBytes, callOptions) => fitWithin(input, sourceFormat, maxBytes, callFrom(callOptions)),
    split: (input, pieceSeconds, target, callOptions) => splitWithin(input, pieceSeconds, target, callFrom(callOptions), callOptions ?? {}),
  };
}

/** How `cutMp3Segments` runs ffmpeg's segment muxer. */
type SegmentPlan = {
  /** The muxer cuts on the first frame at or after each multiple of this. */
  segmentSeconds: number;
  /** Seconds at the start of each range's segment list that are not the input's (an encoder's delay). */
  delaySeconds: number;
  /** Pieces kept at most ("the first maxSeconds" in whole pieces). */
  maxCount: number;
  ranges: PieceRange[];
  /** What is written: an encoder's arguments, or `-c:a copy`. */
  codecArgs: string[];
};

type PieceRange = {
  firstIndex: number;
  startSeconds: number;
  /** Where the next range starts; undefined for the last range. */
  endSeconds: number | undefined;
  /** How much to encode; undefined: to the end of the input. */
  seconds: number | undefined;
};

/**
 * Ranges of whole pieces for `workers` ffmpeg processes, from the source's duration (or the
 * `maxSeconds` bound when shorter). One open-ended range when the duration is unknown.
 */
export function pieceRanges(
  sourceSeconds: number | undefined,
  maxSeconds: number | undefined,
  pieceSeconds: number,
  workers: number,
  trimSeconds: number,
): PieceRange[] {
  const total = Math.min(sourceSeconds ?? Number.POSITIVE_INFINITY, maxSeconds ?? Number.POSITIVE_INFINITY);
  if (!Number.isFinite(total)) return [{ firstIndex: 0, startSeconds: 0, endSeconds: undefined, seconds: undefined }];
  // A crumb under the shortest piece kept does not make a piece (nor a range) of its own.
  const count = Math.max(1, Math.ceil((total - MIN_TRAILING_PIECE_SECONDS) / pieceSeconds));
  const rangeCount = Math.max(1, Math.min(workers, count));
  // Ranges of equal length in seconds (the last one takes the rest, and a short last piece is
  // little work): each process then finishes at about the same time.
  const perRange = Math.max(1, Math.round(total / rangeCount / pieceSeconds));
  // Each range but the last is `trimSeconds` shorter than its pieces could hold, so that its
  // encode (the encoder's delay, the last frame's padding) still fits them with no crumb left over.
  const rangeSeconds = perRange * pieceSeconds - trimSeconds;
  const ranges: PieceRange[] = [];
  for (let index = 0; index < rangeCount; index++) {
    const first = index * perRange;
    const startSeconds = index * rangeSeconds;
    // The last range runs to the end of the input (or maxSeconds): a duration from a container
    // header can be a little short.
    const endSeconds = index === rangeCount - 1 ? undefined : (index + 1) * rangeSeconds;
    const seconds = endSeconds !== undefined ? endSeconds - startSeconds : maxSeconds === undefined ? undefined : maxSeconds - startSeconds;
    ranges.push({ firstIndex: first, startSeconds, endSeconds, seconds });
  }
  return ranges;
}

export type PlannedPiece = { startFrame: number; endFrame: number };

/**
 * Cuts `totalFrames` into consecutive pieces of at most `pieceSeconds`, minus `reserveFrames` that
 * the output format adds on its own (mp3 delay and padding). Drops a trailing remainder shorter
 * than 0.25 s, unless it is all there is.
 */
export function planPieces(options: { totalFrames: number; sampleRate: number; pieceSeconds: number; reserveFrames: number }): PlannedPiece[] {
  const { totalFrames, sampleRate, pieceSeconds, reserveFrames } = options;
  const framesPerPiece = Math.floor(pieceSeconds * sampleRate) - reserveFrames;
  if (framesPerPiece < 1) throw new RangeError(`pieceSeconds ${pieceSeconds} leaves no room for audio at ${sampleRate} Hz`);
  const minimumTrailing = Math.round(MIN_TRAILING_PIECE_SECONDS * sampleRate);
  const pieces: PlannedPiece[] = [];
  for (let startFrame = 0; startFrame < totalFrames; startFrame += framesPerPiece) {
    const endFrame = Math.min(totalFrames, startFrame + framesPerPiece);
    if (pieces.length > 0 && endFrame - startFrame < minimumTrailing) break;
    pieces.push({ startFrame, endFrame });
  }
  return pieces;
}

/**
 * Size of a CBR mp3 of `durationSeconds`: the audio plus LAME's delay and up to one frame of padding,
 * plus room for a small ID3 tag. Used to skip bitrates that cannot fit; real sizes are still checked.
 */
export function estimateMp3Bytes(durationSeconds: number, bitrateKbps: number, sampleRate: number): number {
  return Math.ceil((durationSeconds + mp3OverheadSeconds(sampleRate)) * bitrateKbps * 125) + 1024;
}

/** The rate an mp3 encode of audio at `sampleRate` will use: the same if mp3 allows it, else the nearest allowed above (max 48 kHz). */
export function mp3SampleRateFor(sampleRate: number): number {
  return MP3_SAMPLE_RATES.find((allowed) => allowed >= sampleRate) ?? 48_000;
}

/** Seconds of audio in one mp3 frame: 1152 samples in MPEG-1 (32–48 kHz), 576 in MPEG-2 and 2.5. */
function mp3FrameSeconds(sampleRate: number): number {
  return (sampleRate >= 32_000 ? 1152 : 576) / sampleRate;
}

/**
 * The segment muxer's cut time for pieces of at most `pieceSeconds`: a cut lands on the first
 * frame at or after each multiple of it, so a piece is up to one frame longer; and each piece
 * starts with the Xing/Info frame the mp3 muxer writes, which holds the piece's frame count so
 * that ffprobe and decoders read its exact duration (without it, a VBR piece's duration is guessed
 * from its bitrate: 28.3 s for a 29.96 s piece in a test). A reader that ignores that frame plays
 * it as one more frame of silence, so it is counted as audio: two frames of room, and a
 * millisecond for the list's rounding.
 */
function segmentSecondsFor(pieceSeconds: number, frameSeconds: number): number {
  return Math.floor((pieceSeconds - 2 * frameSeconds - 0.001) * 1000) / 1000;
}

/** "The first maxSeconds" in pieces: no more than maxSeconds' worth of whole pieces, even when pieces a frame or two short of the limit would leave a crumb over. */
function maxPieceCount(maxSeconds: number | undefined, pieceSeconds: number): number {
  return maxSeconds === undefined ? Infinity : Math.max(1, Math.ceil((maxSeconds - MIN_TRAILING_PIECE_SECONDS) / pieceSeconds));
}

/** Delay plus worst-case final-frame padding that an mp3 encode adds to the audio, in seconds. */
function mp3OverheadSeconds(sampleRate: number): number {
  return MP3_DELAY_SAMPLES / sampleRate + mp3FrameSeconds(sampleRate);
}

function encoderArgs(target: AudioTarget): string[] {
  const layout = [
    ...(target.channels === undefined ? [] : ["-ac", String(target.channels)]),
    ...(target.sampleRate === undefined ? [] : ["-ar", String(target.sampleRate)]),
    ...(target.maxSeconds === undefined ? [] : ["-t", String(target.maxSeconds)]),
  ];
  if (target.format === "mp3") {
    return [...layout, "-c:a", "libmp3lame", "-b:a", `${target.bitrateKbps ?? 128}k`, "-f", "mp3"];
  }
  // Metadata is dropped for wav: the header is rebuilt below anyway, without a LIST chunk.
  return [...layout, "-map_metadata", "-1", "-c:a", "pcm_s16le", "-f", "wav"];
}

function assertTarget(target: AudioTarget): void {
  const { format, bitrateKbps, channels, sampleRate } = target;
  if (format !== "mp3" && format !== "wav") throw new RangeError(`unsupported target format ${String(format)}`);
  if (bitrateKbps !== undefined && (!Number.isInteger(bitrateKbps) || bitrateKbps < 8 || bitrateKbps > 320)) {
    throw new RangeError(`bitrateKbps must be an integer within 8–320, got ${bitrateKbps}`);
  }
  if (channels !== undefined && channels !== 1 && channels !== 2) throw new RangeError(`channels must be 1 or 2, got ${String(channels)}`);
  if (sampleRate !== undefined) {
    const allowed = format === "mp3" ? (MP3_SAMPLE_RATES as readonly number[]).includes(sampleRate) : Number.isInteger(sampleRate) && sampleRate >= 8000 && sampleRate <= 192_000;
    if (!allowed) throw new RangeError(`sampleRate ${sampleRate} is not valid for ${format}`);
  }
}

/**
 * WAV from a pipe carries "unknown" sizes (ffmpeg cannot seek back to fill them in), so it is given a
 * fresh canonical header. An exit code of 0 with no audio written means nothing could be decoded.
 */
function checkedOutput(result: ToolResult, format: "mp3" | "wav"): Buffer {
  const empty = (): AudioToolError =>
    new AudioToolError({ reason: "undecodable", message: `ffmpeg decoded no audio from the input`, tool: "ffmpeg", stderrTail: lastLines(result.stderr) });
  if (format === "mp3") {
    if (result.stdout.length <= id3v2Length(result.stdout)) throw empty();
    return result.stdout;
  }
  let layout;
  try {
    layout = readWavLayout(result.stdout);
  } catch (error) {
    throw new AudioToolError({ reason: "failed", message: "ffmpeg wrote an unreadable wav", tool: "ffmpeg", cause: error });
  }
  if (layout.dataLength === 0) throw empty();
  if (layout.audioFormat !== 1 || layout.bitsPerSample !== 16) {
    throw new AudioToolError({ reason: "failed", message: `ffmpeg wrote wav format ${layout.audioFormat}/${layout.bitsPerSample} bit, expected 16-bit PCM`, tool: "ffmpeg" });
  }
  return wavFromPcm(result.stdout.subarray(layout.dataOffset, layout.dataOffset + layout.dataLength), layout);
}

/** Size of a leading ID3v2 tag, 0 when there is none. */
function id3v2Length(data: Buffer): number {
  if (data.length < 10 || data.toString("latin1", 0, 3) !== "ID3") return 0;
  const size = ((data[6]! & 0x7f) << 21) | ((data[7]! & 0x7f) << 14) | ((data[8]! & 0x7f) << 7) | (data[9]! & 0x7f);
  const hasFooter = (data[5]! & 0x10) !== 0;
  return 10 + size + (hasFooter ? 10 : 0);
}

/** ISO base media (mp4, m4a, 3gp, mov) may keep its index at the end: ffmpeg needs to seek. */
function needsSeekableInput(input: Buffer): boolean {
  return ["ftyp", "moov", "mdat", "wide", "free", "skip"].includes(input.toString("latin1", 4, 8));
}

/**
 * ffmpeg's failures with our fixed arguments are nearly always about the input; they show up as a
 * line `<input url>: <error>` (open failed) or a demuxer/decoder complaint.
 */
function failure(tool: ToolName, what: string, result: ToolResult, inputUrl: string): AudioToolError {
  return new AudioToolError({
    reason: classifyFailure(result.stderr, inputUrl),
    message: `${tool} ${what} failed with exit code ${result.exitCode}`,
    tool,
    exitCode: result.exitCode,
    stderrTail: lastLines(result.stderr),
  });
}

const noAudioPatterns = /matches no streams|does not contain any stream/;
const undecodablePatterns =
  /Invalid data found when processing input|moov atom not found|could not find codec parameters|Failed to read frame size|Error while decoding stream|Header missing|no 'data' tag found|Format .* detected only with low score/;

export function classifyFailure(stderr: string, inputUrl: string): AudioToolErrorReason {
  if (noAudioPatterns.test(stderr)) return "no-audio";
  if (undecodablePatterns.test(stderr)) return "undecodable";
  for (const line of stderr.split(/\r?\n/)) {
    if (line.startsWith(`${inputUrl}: `) && !/No such file or directory|Permission denied|No space left/.test(line)) return "undecodable";
  }
  return "failed";
}

const numeric = z.union([z.string(), z.number()]).optional();
const ffprobeReportSchema = z.object({
  streams: z
    .array(
      z.object({
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        sample_rate: numeric,
        channels: z.number().optional(),
        duration: numeric,
        bit_rate: numeric,
        disposition: z.object({ attached_pic: z.number().optional() }).optional(),
      }),
    )
    .default([]),
  format: z
    .object({
      format_name: z.string().optional(),
      duration: numeric,
      bit_rate: numeric,
    })
    .optional(),
});
type FfprobeReport = z.infer<typeof ffprobeReportSchema>;

function parseFfprobeReport(stdout: Buffer): FfprobeReport {
  let json: unknown;
  try {
    json = JSON.parse(stdout.toString("utf8"));
  } catch (error) {
    throw new AudioToolError({ reason: "failed", message: "ffprobe printed something other than JSON", tool: "ffprobe", cause: error });
  }
  const parsed = ffprobeReportSchema.safeParse(json);
  if (!parsed.success) {
    throw new AudioToolError({ reason: "failed", message: `ffprobe's report has an unexpected shape: ${parsed.error.message}`, tool: "ffprobe" });
  }
  return parsed.data;
}

/** ffprobe writes numbers as strings and "N/A" for unknowns. */
function positiveNumber(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === "number" ? value : Number(value);
  return Number.isFinite(number) && number > 0 ? number : undefined;
}
