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
 * shares: key, JSON, SSE, errors, faults, pacing) → music-endpoint.ts (Fun-Music) with
 * music-request.ts (validation), text-limits.ts (counting), lyrics-writer.ts, audio-maker.ts,
 * results.ts (OSS-style result URLs).
 *
 * Adding an endpoint (Qwen-Audio: POST /services/aigc/multimodal-generation/generation): write
 * `qwen-audio-endpoint.ts` exporting a `DashScopeEndpoint` — `path`; `contentTypes` (that seed also
 * allows a `text/event-stream` request Content-Type, which by itself turns SSE on: teach
 * `wantsSse` in dashscope-call.ts that rule for that endpoint); `prepare`, which validates
 * `input.messages` / `parameters` and returns the error or `{ durationMs, answer }`, where
 * `answer` may fetch the audio URL and throw `EndpointFailure` for a DashScope error — then
 * `register(...)` it in server.ts. Key checks, request ids, headers, SSE framing, pacing, error
 * delivery and every fault come for free.
 */

export { startFakeDashScope, DEFAULT_API_KEY, type FakeDashScope, type FakeDashScopeOptions } from "./server.js";
export type { Fault, FaultKind, MalformedVariant } from "./faults.js";
export type { RecordedRequest } from "./request-record.js";
export { EndpointFailure, type DashScopeEndpoint, type EndpointAnswer, type PreparedCall } from "./dashscope-call.js";
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
