import { CHANNELS, makeSongAudio, SAMPLE_RATE } from "./audio-maker.js";
import type { DashScopeEndpoint, EndpointAnswer } from "./dashscope-call.js";
import { lyricsForResponse } from "./lyrics-writer.js";
import { checkMusicRequest } from "./music-request.js";
import type { ResultStore } from "./results.js";

/**
 * POST {base}/services/audio/music/generation — Fun-Music, shaped exactly like the seed's examples.
 *
 * Plain call: one JSON body after `generationMs`:
 * `{output:{audio:{data:"",expires_at,id,url},extra_info:{channels,lyrics,sample_rate},finish_reason:"stop"},usage:{duration},request_id}`.
 *
 * SSE call: intermediate events `{output:{audio:{data:<base64 chunk>,expires_at,id},finish_reason:"null"},request_id}`
 * (the string "null", as the seed prints it; no url, no usage), then a final event
 * `{output:{audio:{expires_at,id,data:"",url},extra_info:{channels,sample_rate,lyrics},finish_reason:"stop"},usage:{duration},request_id}`.
 * Each chunk is base64 on its own; chunk sizes are deliberately not multiples of 3 (so most chunks
 * end in `=` padding) and the first chunk is tiny, splitting the file header: a client must decode
 * chunk by chunk and concatenate bytes. The decoded chunks equal the file at the URL exactly
 * (unless `streamedWavHeader: "placeholder"`, below).
 *
 * `audio.id` is `audio_<request_id>` and the file is `<request_id>.<format>`, as in the seed's
 * streaming example. `usage.duration` is the song's whole seconds, watermark tail included.
 *
 * `extra_info.sample_rate`: the field reference says string ("48000") but the response-object page
 * prints the number 48000 in its non-streaming example. `sampleRate: "alternate"` (the default)
 * answers string, number, string, … in call order so a client meets both; "string" or "number" pins it.
 */

export type SampleRateStyle = "string" | "number" | "alternate";

/**
 * The RIFF header of a streamed WAV. "exact" (default): the streamed bytes are the file at the URL.
 * "placeholder": the streamed copy's data-chunk size is 0x7FFFFFFF, as a live probe of DashScope's
 * streaming qwen-audio TTS found (the service writes the header before it knows the length); the
 * file at the URL keeps the exact sizes. Fun-Music itself was not probed, so this is opt-in.
 */
export type StreamedWavHeader = "exact" | "placeholder";

export type MusicSettings = {
  songSeconds(): number;
  generationMs: number;
  resultTtlSeconds: number;
  sampleRate: SampleRateStyle;
  streamedWavHeader: StreamedWavHeader;
  results: ResultStore;
};

export const MUSIC_PATH = "/services/audio/music/generation";

export function createMusicEndpoint(settings: MusicSettings): DashScopeEndpoint {
  let answers = 0;
  const nextSampleRate = (): string | number => {
    answers += 1;
    if (settings.sampleRate === "number") return SAMPLE_RATE;
    if (settings.sampleRate === "string") return String(SAMPLE_RATE);
    return answers % 2 === 1 ? String(SAMPLE_RATE) : SAMPLE_RATE;
  };

  return {
    path: MUSIC_PATH,
    prepare({ body, streaming, requestId }) {
      const check = checkMusicRequest(body, streaming ? "streaming" : "non-streaming");
      if (!check.ok) return check;
      const request = check.request;
      const seconds = settings.songSeconds();
      const startedAt = Date.now();
      return {
        ok: true,
        durationMs: settings.generationMs,
        async answer(): Promise<EndpointAnswer> {
          const audio = await makeSongAudio({ seconds, format: request.format, watermark: request.watermark, gender: request.gender });
          const expiresAt = Math.floor((startedAt + settings.generationMs) / 1000) + settings.resultTtlSeconds;
          const issued = settings.results.issue({
            bytes: audio.bytes,
            contentType: audio.contentType,
            fileName: `${requestId}.${request.format}`,
            expiresAt,
          });
          const id = `audio_${requestId}`;
          const lyrics = lyricsForResponse(request.uses, request.text, request.script);
          const usage = { duration: Math.round(audio.seconds) };
          const sampleRate = nextSampleRate();
          if (!streaming) {
            return {
              partials: [],
              final: {
                output: {
                  audio: { data: "", expires_at: expiresAt, id, url: issued.url },
                  extra_info: { channels: CHANNELS, lyrics, sample_rate: sampleRate },
                  finish_reason: "stop",
                },
                usage,
                request_id: requestId,
              },
            };
          }
          let streamed = audio.bytes;
          if (request.format === "wav" && settings.streamedWavHeader === "placeholder") {
            streamed = Buffer.from(audio.bytes);
            streamed.writeUInt32LE(0x7f_ff_ff_ff, 40);
          }
          return {
            partials: splitIntoChunks(streamed, requestId).map((chunk) => ({
              output: { audio: { data: chunk.toString("base64"), expires_at: expiresAt, id }, finish_reason: "null" },
              request_id: requestId,
            })),
            final: {
              output: {
                audio: { expires_at: expiresAt, id, data: "", url: issued.url },
                extra_info: { channels: CHANNELS, sample_rate: sampleRate, lyrics },
                finish_reason: "stop",
              },
              usage,
              request_id: requestId,
            },
          };
        },
      };
    },
  };
}

/**
 * Splits `bytes` into 6–10 chunks whose boundaries line up with nothing: the first is 17–59 bytes
 * (inside the WAV header or the ID3/first MP3 frame), none is a multiple of 3 bytes (so base64
 * padding shows up), and sizes vary. Deterministic per request id.
 */
export function splitIntoChunks(bytes: Buffer, seed: string): Buffer[] {
  let state = 0;
  for (const char of seed) state = (Math.imul(state, 31) + (char.codePointAt(0) ?? 0)) >>> 0;
  const random = (): number => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  const notMultipleOf3 = (n: number): number => (n % 3 === 0 ? n + 1 : n);

  const chunks: Buffer[] = [];
  let offset = 0;
  const first = Math.min(bytes.length, notMultipleOf3(17 + Math.floor(random() * 43)));
  chunks.push(bytes.subarray(0, first));
  offset = first;
  const count = 5 + Math.floor(random() * 5);
  const average = (bytes.length - offset) / count;
  for (let i = 0; i < count - 1 && offset < bytes.length; i += 1) {
    const size = notMultipleOf3(Math.max(1, Math.floor(average * (0.6 + random() * 0.8))));
    chunks.push(bytes.subarray(offset, Math.min(bytes.length, offset + size)));
    offset += size;
  }
  if (offset < bytes.length) chunks.push(bytes.subarray(offset));
  return chunks;
}
