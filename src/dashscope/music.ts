import { readAudioByteRate, secondsFromByteRate, MAX_HEADER_BYTES, type AudioByteRate } from "./audio-seconds.js";
import { createBase64ChunkDecoder } from "./base64-chunks.js";
import type { z } from "zod";
import type { Logger } from "../log.js";
import { DashScopeError } from "./errors.js";
import { DEFAULT_STREAM_IDLE_MS, malformedResponse, type DashScopeClient } from "./client.js";
import { funMusicAnswerSchema, funMusicLenientAnswerSchema, isDeliverable, type FunMusicAnswer } from "./music-response.js";
import type { AudioFormat, GeneratedSong, GenerationMode, SongInput, SongInputCheck, SongProgress } from "./music-types.js";
import { checkSongInput, normalizeSongText } from "./song-input.js";

/**
 * Fun-Music: turns a checked `SongInput` into a song, streaming when the input allows it.
 * Reference: seed `fun-music-api-reference.en.txt` (endpoint, body, limits) and
 * `fun-music-response-object.en.txt` (answers).
 */

export {
  checkSongInput,
  countCharacters,
  countEnglishWords,
  countHanCharacters,
  detectLanguage,
  measureText,
  normalizeSongText,
  SONG_LIMITS,
  type TextMeasure,
} from "./song-input.js";

/** The Fun-Music endpoint, relative to the base URL (`…/api/v1`). */
export const FUN_MUSIC_PATH = "/services/audio/music/generation";

/** What `generateSong` needs from the composition root. */
export type FunMusicDeps = {
  client: DashScopeClient;
  /** `fun-music-v1` or `fun-music-preview`. */
  model: string;
  /**
   * Fetches the finished file from its OSS URL. The seed's URLs are plain `http://` on
   * `dashscope-result-bj.oss-cn-beijing.aliyuncs.com`, so an allowlist must admit that.
   */
  downloadAudio(url: string, options?: { signal?: AbortSignal | undefined }): Promise<Buffer>;
  /** Most bytes of streamed audio kept in memory; past it the song is delivered by its URL. */
  maxAudioBytes?: number | undefined;
  /**
   * Longest wait for the next event of a streamed song (`MUSIC_STREAM_IDLE_SECONDS`),
   * `DEFAULT_STREAM_IDLE_MS` (30 s) if absent. Past it the song fails as `OutcomeUnknown`.
   */
  streamIdleTimeoutMs?: number | undefined;
};

/** Why `GeneratedSong.audio` is empty when a stream outgrew `maxAudioBytes`. */
export class StreamedAudioTooLargeError extends Error {
  override readonly name = "StreamedAudioTooLargeError";
  constructor(readonly maxBytes: number) {
    super(`the streamed song passed the ${maxBytes}-byte cap; only its URL is kept`);
  }
}

export type GenerateSongOptions = {
  /**
   * Called after every audio chunk of a streamed song (not at all for non-streaming ones).
   * Throttling is the caller's job. It must not throw: an exception ends a song being billed.
   */
  onProgress?(progress: SongProgress): void;
  signal?: AbortSignal | undefined;
  /** Budget for the DashScope call, retries included. */
  timeoutMs: number;
  /** Logger for the call's lines (the interaction's child logger). */
  log?: Logger | undefined;
  /**
   * Awaited as soon as the service's final answer arrives, before the file is downloaded: the
   * song is billed from that moment, so this is where the caller records it.
   */
  onBilled?: ((billing: BilledSong) => Promise<void>) | undefined;
};

/** `generateSong` was given an input that `checkSongInput` rejects; nothing was sent. */
export class SongInputRejectedError extends Error {
  override readonly name = "SongInputRejectedError";
  readonly check: Extract<SongInputCheck, { ok: false }>;

  constructor(check: Extract<SongInputCheck, { ok: false }>) {
    super(`song input rejected: ${JSON.stringify(check.problem)}`);
    this.check = check;
  }
}

/** The request body Fun-Music receives. */
export type FunMusicRequestBody = {
  model: string;
  input: {
    lyrics?: string;
    prompt?: string;
    gender: SongInput["gender"];
    format: AudioFormat;
    enable_aigc_watermark: boolean;
  };
};

/**
 * The body for a checked input. Only the field that takes effect is sent: the API would ignore a
 * prompt next to lyrics anyway, and not sending it keeps the user's text out of a request that
 * doesn't need it. The text is sent normalized (`normalizeSongText`), exactly as it was counted.
 */
export function buildSongRequestBody(model: string, input: SongInput, uses: "lyrics" | "prompt"): FunMusicRequestBody {
  const text = normalizeSongText((uses === "lyrics" ? input.lyrics : input.prompt) ?? "").trim();
  return {
    model,
    input: {
      ...(uses === "lyrics" ? { lyrics: text } : { prompt: text }),
      gender: input.gender,
      format: input.format,
      enable_aigc_watermark: input.watermark,
    },
  };
}

/**
 * Generates a song. Checks the input first (throwing `SongInputRejectedError`), then calls
 * Fun-Music in the mode `checkSongInput` picked. Fails with `DashScopeError`; a stream that ends
 * before its `finish_reason: "stop"` event is a `MalformedResponse`, never a silently truncated
 * file. A call lost after it was sent (reset, cut-off body, silent stream, timeout) fails with
 * `DashScopeOutcomeUnknownError` and is never sent twice: it may have been billed.
 *
 * A paid answer that drifts from the documented shape in fields the bot does not need is still
 * delivered, as long as it has audio and `usage.duration` (the drift is logged as a warning).
 */
export async function generateSong(deps: FunMusicDeps, input: SongInput, options: GenerateSongOptions): Promise<GeneratedSong> {
  const check = checkSongInput(input);
  if (!check.ok) throw new SongInputRejectedError(check);
  const body = buildSongRequestBody(deps.model, input, check.uses);
  return check.mode === "streaming"
    ? generateStreaming(deps, body, input.format, options)
    : generateNonStreaming(deps, body, input.format, options);
}

async function generateNonStreaming(
  deps: FunMusicDeps,
  body: FunMusicRequestBody,
  format: AudioFormat,
  options: GenerateSongOptions,
): Promise<GeneratedSong> {
  const answer = await deps.client.postJson<unknown>(FUN_MUSIC_PATH, body, {
    api: "music",
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    log: options.log,
  });
  const data = readPaidAnswer(answer.data, answer.status, answer.requestId, options.log);
  const output = data.output;
  const requestId = data.request_id ?? answer.requestId;
  await options.onBilled?.(billedSongOf(songFrom(output, data, { audio: Buffer.alloc(0), format, requestId, mode: "non-streaming" })));
  // The seed's non-streaming answer has `data: ""` and a URL; should audio ever come inline we
  // take it rather than download it again.
  let audio: Buffer | undefined;
  if (output.audio.data) {
    const decoder = createBase64ChunkDecoder();
    const inline = decoder.push(output.audio.data);
    if (inline && decoder.end() && inline.length > 0) audio = inline;
  }
  let audioError: unknown;
  if (!audio) {
    const url = output.audio.url;
    if (!url) throw malformed("the answer has neither audio nor a URL", answer.status, requestId);
    ({ audio, audioError } = await downloadPaidAudio(deps, url, options.signal));
  }
  return songFrom(output, data, { audio, audioError, format, requestId, mode: "non-streaming" });
}

async function generateStreaming(
  deps: FunMusicDeps,
  body: FunMusicRequestBody,
  format: AudioFormat,
  options: GenerateSongOptions,
): Promise<GeneratedSong> {
  const decoder = createBase64ChunkDecoder();
  const chunks: Buffer[] = [];
  let audioBytes = 0;
  const header = createHeaderReader(format);
  // Why we might not trust the streamed bytes: an event we could not read, a gap in the SSE ids,
  // or base64 that did not decode. The final event's URL then gives us the whole file instead.
  let chunksMissing = false;
  let lastId: number | undefined;
  let requestId: string | undefined;
  let audioId: string | undefined;
  let final: FunMusicAnswer | undefined;
  const maxAudioBytes = deps.maxAudioBytes ?? Number.POSITIVE_INFINITY;
  let overCap = false;

  let drift: string[] | undefined;
  const call = {
    api: "music",
    timeoutMs: options.timeoutMs,
    idleTimeoutMs: deps.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_MS,
    signal: options.signal,
    log: options.log,
  };
  for await (const event of deps.client.postSse(FUN_MUSIC_PATH, body, call)) {
    requestId ??= event.requestId;
    const id = event.id === undefined ? Number.NaN : Number(event.id);
    if (Number.isInteger(id)) {
      if (lastId !== undefined && id !== lastId + 1) chunksMissing = true;
      lastId = id;
    }
    const parsed = parseEvent(event.data);
    if (!parsed) {
      chunksMissing = true;
      continue;
    }
    const answer = parsed.answer;
    if (parsed.drift) {
      // Bytes from an event we could only half read are not trusted; the final URL is.
      chunksMissing = true;
      drift ??= parsed.drift;
    }
    requestId = answer.request_id ?? requestId;
    audioId = answer.output.audio.id ?? audioId;
    const data = answer.output.audio.data;
    if (data && !overCap) {
      const bytes = decoder.push(data);
      if (bytes && audioBytes + bytes.length > maxAudioBytes) {
        // Keep reading: the final event still brings the URL of the song we are paying for.
        overCap = true;
        chunks.length = 0;
      } else if (bytes) {
        chunks.push(bytes);
        audioBytes += bytes.length;
        header.feed(bytes);
        options.onProgress?.({ audioBytes, audioSeconds: header.secondsFor(audioBytes) });
      } else {
        chunksMissing = true;
      }
    }
    const reason = answer.output.finish_reason;
    if (reason === "stop") {
      final = answer;
      // The song is complete; the service closes the stream after this event.
      break;
    }
    if (reason !== null) {
      throw malformed(`the stream finished with "${reason}" instead of "stop"`, undefined, requestId);
    }
  }

  if (!final) throw malformed('the stream ended before its finish_reason "stop" event', undefined, requestId);
  if (drift) {
    if (final.usage?.duration === undefined || final.usage.duration === null) {
      throw malformed(`the final event does not match the documented shape (${drift.join("; ")})`, undefined, requestId);
    }
    logDrift(options.log, requestId, drift);
  }
  await options.onBilled?.(billedSongOf(songFrom(final.output, final, { audio: Buffer.alloc(0), format, requestId, mode: "streaming", audioId })));
  if (!decoder.end()) chunksMissing = true;

  const url = final.output.audio.url ?? undefined;
  let audio: Buffer;
  let audioError: unknown;
  if (overCap) {
    if (!url) throw malformed("the streamed song outgrew the byte cap and the final event has no URL", undefined, requestId);
    audio = Buffer.alloc(0);
    audioError = new StreamedAudioTooLargeError(maxAudioBytes);
  } else if (chunksMissing || audioBytes === 0) {
    if (!url) throw malformed("streamed audio is incomplete and the final event has no URL", undefined, requestId);
    ({ audio, audioError } = await downloadPaidAudio(deps, url, options.signal));
  } else {
    audio = Buffer.concat(chunks, audioBytes);
  }
  return songFrom(final.output, final, { audio, audioError, format, requestId, mode: "streaming", audioId });
}

/**
 * The song is generated and billed by the time we download it, so a failed download must not
 * become an error that loses it: the caller still gets the URL (valid 24 h) and the reason.
 */
async function downloadPaidAudio(
  deps: FunMusicDeps,
  url: string,
  signal: AbortSignal | undefined,
): Promise<{ audio: Buffer; audioError: unknown }> {
  try {
    return { audio: await deps.downloadAudio(url, { signal }), audioError: undefined };
  } catch (error) {
    if (signal?.aborted) throw error;
    return { audio: Buffer.alloc(0), audioError: error };
  }
}

/**
 * One SSE event: read strictly, else leniently (`drift` then names what did not match), else
 * undefined (not JSON, or not even the lenient shape).
 */
function parseEvent(data: string): { answer: FunMusicAnswer; drift?: string[] } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  const strict = funMusicAnswerSchema.safeParse(json);
  if (strict.success) return { answer: strict.data };
  const lenient = funMusicLenientAnswerSchema.safeParse(json);
  return lenient.success ? { answer: lenient.data, drift: driftOf(strict.error) } : undefined;
}

/**
 * A non-streaming answer. The song is billed by now, so an answer that fails the documented shape
 * only in fields the bot can do without is kept (and the drift logged), as long as it has audio
 * (URL or data) and `usage.duration`. Anything less is a `MalformedResponse`.
 */
function readPaidAnswer(json: unknown, status: number, requestId: string | undefined, log: Logger | undefined): FunMusicAnswer {
  const strict = funMusicAnswerSchema.safeParse(json);
  if (strict.success) return strict.data;
  const lenient = funMusicLenientAnswerSchema.safeParse(json);
  if (!lenient.success || !isDeliverable(lenient.data)) throw malformedResponse(strict.error, { endpoint: FUN_MUSIC_PATH }, { status, requestId });
  logDrift(log, lenient.data.request_id ?? requestId, driftOf(strict.error));
  return lenient.data;
}

/** The paths zod disliked, never the values (they may be long, or the user's lyrics). */
function driftOf(error: z.ZodError): string[] {
  return error.issues.slice(0, 5).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`);
}

function logDrift(log: Logger | undefined, requestId: string | undefined, drift: string[]): void {
  log?.warn({ requestId, drift }, "Fun-Music answer drifted from the documented shape; the paid song is delivered anyway");
}

/** A billed song without its audio bytes: what a caller keeps to deliver it after a restart. */
export type BilledSong = Omit<GeneratedSong, "audio" | "audioError">;

function billedSongOf(song: GeneratedSong): BilledSong {
  const { audio: _audio, audioError: _audioError, ...billed } = song;
  return billed;
}

function songFrom(
  output: FunMusicAnswer["output"],
  answer: FunMusicAnswer,
  known: { audio: Buffer; audioError?: unknown; format: AudioFormat; requestId: string | undefined; mode: GenerationMode; audioId?: string | undefined },
): GeneratedSong {
  return {
    audio: known.audio,
    ...(known.audioError === undefined ? {} : { audioError: known.audioError }),
    format: known.format,
    url: output.audio.url ?? undefined,
    expiresAt: output.audio.expires_at ?? undefined,
    audioId: output.audio.id ?? known.audioId,
    lyrics: output.extra_info?.lyrics ?? undefined,
    channels: output.extra_info?.channels ?? undefined,
    sampleRate: output.extra_info?.sample_rate ?? undefined,
    billedSeconds: answer.usage?.duration ?? undefined,
    requestId: known.requestId,
    mode: known.mode,
  };
}

function malformed(message: string, status: number | undefined, requestId: string | undefined): DashScopeError {
  return new DashScopeError({ code: "MalformedResponse", message, status, requestId, endpoint: FUN_MUSIC_PATH });
}

/**
 * Collects the first bytes of the stream until the file header can be read, then reports
 * seconds of audio for any byte count.
 */
type HeaderReader = {
  feed(bytes: Buffer): void;
  secondsFor(totalBytes: number): number | undefined;
};

function createHeaderReader(format: AudioFormat): HeaderReader {
  let head = Buffer.alloc(0);
  let rate: AudioByteRate | undefined;
  let gaveUp = false;
  return {
    feed(bytes) {
      if (rate || gaveUp) return;
      head = Buffer.concat([head, bytes.subarray(0, Math.max(0, MAX_HEADER_BYTES - head.length))]);
      const reading = readAudioByteRate(format, head);
      if (reading.kind === "found") rate = reading;
      else if (reading.kind === "unreadable" || head.length >= MAX_HEADER_BYTES) gaveUp = true;
    },
    secondsFor(totalBytes) {
      return rate ? secondsFromByteRate(rate, totalBytes) : undefined;
    },
  };
}
