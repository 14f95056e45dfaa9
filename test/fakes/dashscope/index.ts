/**
 * A fake Alibaba Cloud DashScope for tests: a real HTTP server on 127.0.0.1 that follows the seed
 * API documents (/work/shared/seeds: Fun-Music API reference and response object) byte for byte.
 * Facts, sources and decisions: README.md beside this file.
 *
 * ```ts
 * const fake = await startFakeDashScope({ songSeconds: 8, generationMs: 100 });
 * // give the bot DASHSCOPE_HTTP_BASE_URL=fake.baseUrl and DASHSCOPE_API_KEY=fake.apiKey
 * fake.enqueue({ kind: "error", status: 429, code: "Throttling.RateQuota", retryAfterSeconds: 2 });
 * …
 * await fake.close();
 * ```
 *
 * Layout: server.ts (lifecycle, routing, record) → dashscope-call.ts (what every DashScope call
 * shares: key, JSON, SSE, errors, faults, pacing) → the endpoints:
 * - music-endpoint.ts (Fun-Music) with music-request.ts (validation), text-limits.ts (counting),
 *   lyrics-writer.ts, audio-maker.ts, results.ts (OSS-style result URLs);
 * - qwen-audio-endpoint.ts (Qwen-Audio) with qwen-audio-request.ts (validation, models),
 *   media-source.ts (fetching http(s)/oss:///data: audio), audio-probe.ts (ffprobe), audio-tokens.ts
 *   (counting), qwen-audio-answer.ts (the deterministic "model");
 * - temporary-storage.ts (getPolicy + the OSS PostObject upload host) with multipart.ts.
 *
 * Adding an endpoint: write a `DashScopeEndpoint` — `path`; `method` (GET endpoints read no body);
 * `contentTypes`; `sseByContentType`; `prepare`, which validates the input and returns the error or
 * `{ durationMs, answer }`, where `answer` may do slow work and throw `EndpointFailure` for a
 * DashScope error — then `register(...)` it in server.ts. Key checks, request ids, headers, SSE
 * framing, pacing, error delivery and every fault come for free.
 */

export { startFakeDashScope, DEFAULT_API_KEY, type FakeDashScope, type FakeDashScopeOptions } from "./server.js";
export { QWEN_AUDIO_PATH, AUDIO_SECONDS_HEARD, type OverlongAudio, type SseContentStyle } from "./qwen-audio-endpoint.js";
export { QWEN_AUDIO_MODELS, ALGO_INVALID_PARAMETER, type QwenAudioModel, type QwenAudioModelSpec } from "./qwen-audio-request.js";
export { MEDIA_MESSAGES, MAX_AUDIO_BYTES } from "./media-source.js";
export { AUDIO_TOKENS_PER_SECOND, audioTokens, countTextTokens, tokenizeText } from "./audio-tokens.js";
export { SECTION_HEADINGS, LONG_ANSWER_TOKENS, type SectionHeading } from "./qwen-audio-answer.js";
export { UPLOAD_PATH, UPLOAD_BUCKET, type UploadedObject } from "./temporary-storage.js";
export type { Fault, FaultKind, MalformedVariant } from "./faults.js";
export type { RecordedRequest } from "./request-record.js";
export { EndpointFailure, type DashScopeEndpoint, type EndpointAnswer, type EndpointCall, type PreparedCall } from "./dashscope-call.js";
export { DASHSCOPE_ERRORS, FUN_MUSIC_MESSAGES, type ApiError, type KnownErrorCode } from "./errors.js";
export {
  classifyScript,
  countUnits,
  describeLimitProblem,
  findLimitProblem,
  limitFor,
  type GenerationMode,
  type LimitProblem,
  type LimitUnit,
  type TextField,
  type TextLimit,
  type TextScript,
} from "./text-limits.js";
export { formatSseEvent, type SseEvent } from "./sse-writer.js";
export { WATERMARK_SECONDS, SAMPLE_RATE, CHANNELS } from "./audio-maker.js";
export { FUN_MUSIC_MODELS } from "./music-request.js";
export type { SampleRateStyle, StreamedWavHeader } from "./music-endpoint.js";
