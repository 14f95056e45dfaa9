import type { AskQwenAudioOptions, QwenAudioAnswer, QwenAudioMessage, QwenAudioUsage } from "./audio-types.js";
import { qwenAudioLimits } from "./audio-types.js";
import { createTextAccumulator, frameFinishReason, frameText, frameUsage, qwenAudioFrameSchema, type QwenAudioFrame } from "./audio-response.js";
import { malformedResponse, type DashScopeClient } from "./client.js";
import { DashScopeError } from "./errors.js";

/**
 * Qwen-Audio: asks a question about audio (and follow-ups) and streams the answer's text.
 * Reference: seed `qwen-audio-api.zh.txt` (endpoint, body, SSE, limits); the Python SDK's
 * `dashscope/aigc/multimodal_conversation.py` (the `X-DashScope-OssResourceResolve` header).
 * Prompt wording is not ours: the caller builds the messages.
 */

export {
  AUDIO_TOKENS_PER_SECOND,
  estimateInputTokens,
  estimateTextTokens,
  trimConversationToBudget,
  type ConversationBudgetOptions,
  type InputEstimateOptions,
} from "./audio-budget.js";
export { createTextAccumulator } from "./audio-response.js";
export { qwenAudioLimits } from "./audio-types.js";

/** The multimodal-generation endpoint, relative to the base URL (`…/api/v1`). */
export const QWEN_AUDIO_PATH = "/services/aigc/multimodal-generation/generation";

/** The header that lets the service read `oss://` URLs from temporary storage. */
export const OSS_RESOURCE_RESOLVE_HEADER = "X-DashScope-OssResourceResolve";

/** The request body Qwen-Audio receives. */
export type QwenAudioRequestBody = {
  model: string;
  input: { messages: QwenAudioMessage[] };
  parameters: { incremental_output: true; max_tokens: number };
};

/** `maxTokens` as sent: an integer in [1, 1500], 1500 when absent. */
export function clampMaxTokens(maxTokens: number | undefined): number {
  if (maxTokens === undefined || !Number.isFinite(maxTokens)) return qwenAudioLimits.maxOutputTokens;
  return Math.min(qwenAudioLimits.maxOutputTokens, Math.max(1, Math.floor(maxTokens)));
}

/** Whether any message holds an audio item in temporary storage (`oss://…`). */
export function usesTemporaryStorage(messages: readonly QwenAudioMessage[]): boolean {
  return messages.some((message) => message.content.some((item) => "audio" in item && item.audio.startsWith("oss://")));
}

export function buildQwenAudioRequestBody(options: Pick<AskQwenAudioOptions, "model" | "messages" | "maxTokens">): QwenAudioRequestBody {
  return {
    model: options.model,
    input: { messages: options.messages },
    parameters: { incremental_output: true, max_tokens: clampMaxTokens(options.maxTokens) },
  };
}

/**
 * Asks Qwen-Audio and returns the whole answer once the stream finishes.
 *
 * - Streams over SSE with `incremental_output: true`, calling `onText` with the text so far after
 *   each chunk that adds to it (a server that sends cumulative text anyway is recognised: see
 *   `createTextAccumulator`). `onText` must not throw: an exception ends a call being billed.
 * - Sends `X-DashScope-OssResourceResolve: enable` exactly when an audio item is an `oss://` URL
 *   (as the SDK does; the service would not resolve it otherwise).
 * - Sent again by the client only when it never left or DashScope refused it (429/5xx) before
 *   the first event. Once sent, a stream that breaks off or stays silent for `idleTimeoutMs`
 *   fails as `OutcomeUnknown` (`DashScopeOutcomeUnknownError`): it may have been billed.
 * - Fails with `DashScopeError`: the service's own errors (JSON or `event:error` frames), a frame
 *   that does not match the documented shape, or a stream that ends without a finish reason
 *   (`MalformedResponse`; a broken socket after sending is `OutcomeUnknown`). A `"length"` finish is a success
 *   with `finishReason: "length"`: the text is cut, not wrong.
 */
export async function askQwenAudio(client: DashScopeClient, options: AskQwenAudioOptions): Promise<QwenAudioAnswer> {
  if (options.messages.length === 0) throw new RangeError("askQwenAudio needs at least one message");
  const body = buildQwenAudioRequestBody(options);
  const headers = usesTemporaryStorage(options.messages) ? { [OSS_RESOURCE_RESOLVE_HEADER]: "enable" } : undefined;

  const accumulator = createTextAccumulator();
  let requestId: string | undefined;
  let usage: QwenAudioUsage | undefined;
  let finishReason: string | undefined;

  const call = { api: "qwen-audio", timeoutMs: options.timeoutMs, idleTimeoutMs: options.idleTimeoutMs, signal: options.signal, headers, log: options.log };
  for await (const event of client.postSse(QWEN_AUDIO_PATH, body, call)) {
    requestId ??= event.requestId;
    const frame = parseFrame(event.data, event.httpStatus, requestId);
    requestId = frame.request_id ?? requestId;
    usage = frameUsage(frame) ?? usage;
    if (accumulator.push(frameText(frame))) options.onText?.(accumulator.text);
    const reason = frameFinishReason(frame);
    if (reason !== null) {
      finishReason = reason;
      // The answer is complete; the service closes the stream after this event.
      break;
    }
  }

  if (finishReason === undefined) {
    throw new DashScopeError({
      code: "MalformedResponse",
      message: "the stream ended before a frame with a finish_reason",
      requestId,
      endpoint: QWEN_AUDIO_PATH,
    });
  }
  return {
    text: accumulator.text,
    finishReason,
    usage: usage ?? { inputTokens: undefined, outputTokens: undefined, audioTokens: undefined },
    requestId,
  };
}

function parseFrame(data: string, status: number | undefined, requestId: string | undefined): QwenAudioFrame {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch (cause) {
    throw new DashScopeError({
      code: "MalformedResponse",
      message: "an event's data is not JSON",
      status,
      requestId,
      endpoint: QWEN_AUDIO_PATH,
      cause,
    });
  }
  const parsed = qwenAudioFrameSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw malformedResponse(parsed.error, { endpoint: QWEN_AUDIO_PATH }, { status, requestId });
}
