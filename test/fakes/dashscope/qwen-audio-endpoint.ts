import { probeAudio } from "./audio-probe.js";
import { audioTokens, countTextTokens, MESSAGE_OVERHEAD_TOKENS, REPLY_PRIMER_TOKENS, tokenizeText } from "./audio-tokens.js";
import { EndpointFailure, type DashScopeEndpoint, type EndpointAnswer } from "./dashscope-call.js";
import { dashScopeError } from "./errors.js";
import { fetchAudio, MEDIA_MESSAGES } from "./media-source.js";
import { writeAnswer, type HeardAudio } from "./qwen-audio-answer.js";
import { algoInvalid, checkAudioRequest, QWEN_AUDIO_MODELS, type AudioRequest } from "./qwen-audio-request.js";
import type { TemporaryStorage } from "./temporary-storage.js";

/**
 * POST {base}/services/aigc/multimodal-generation/generation — Qwen-Audio, shaped like the seed
 * (/work/shared/seeds/qwen-audio-api.zh.txt).
 *
 * Plain call: `{output:{choices:[{finish_reason, message:{role:"assistant", content:[{text}]}}]},
 * usage:{output_tokens, input_tokens, audio_tokens}, request_id}` — key order as the seed's curl example.
 *
 * SSE call: one `event:result` frame per few tokens, each with the whole `output`/`usage`/`request_id`;
 * `finish_reason` is the string "null" until the last frame, which says "stop" or "length". Text is
 * cumulative by default (each frame holds everything so far, the seed's "每个输出为当前生成的整个序列")
 * and only the new part with `parameters.incremental_output: true`. `usage.output_tokens` counts the
 * tokens so far in every frame; input and audio tokens stay the same (the seed's SSE example).
 *
 * `message.content` in SSE frames: the seed's SSE example prints a bare string (`"content":"这段"`),
 * but its own field table documents `content` as a list and shows a partial frame
 * (`"finish_reason": null, … "content": [{"text": "这是一个"}]`), and dashscope-sdk-python's
 * `merge_multimodal_single_response` accumulates streamed multimodal content as a list of `{text}`
 * deltas (index by index, skipping empty lists). So frames carry `[{text}]` by default;
 * `sseContent: "string"` reproduces the seed's example literally, for clients that must cope with both.
 *
 * Usage (see audio-tokens.ts): `audio_tokens` = Σ ceil(25 × heard seconds) (≥ 25 each);
 * `input_tokens` = text tokens + audio tokens + framing. The seed's SSE example (input 85, audio 76)
 * counts audio inside input_tokens, and so does the fake; a newer doc page prints audio 85 beside
 * input 33, which would be text only — the two pages disagree, the fake follows the seed.
 * Over `maxInputTokens` → "Range of input length should be [1, 6000]" (6144 for -latest).
 *
 * Audio over 30 s: Model Studio's audio page says "音频的时长限制为不超过30秒，如果超过30秒，模型仅处理前30秒
 * 的内容" (an older copy: "会自动截取前30秒"), so by default the fake hears the first 30 s, counts 750
 * audio tokens and says "30.0 s heard of 75.0 s". `overlongAudio: "refuse"` instead answers
 * "<400> InternalError.Algo.InvalidParameter: The audio is too long" (the wording captured from the
 * DashScope ASR models, which do refuse), for tests that want the bot never to rely on truncation.
 */

export const QWEN_AUDIO_PATH = "/services/aigc/multimodal-generation/generation";
/** Seconds of one audio item the model hears. */
export const AUDIO_SECONDS_HEARD = 30;

export type OverlongAudio = "truncate" | "refuse";
export type SseContentStyle = "list" | "string";

export type QwenAudioSettings = {
  generationMs: number;
  storage: TemporaryStorage;
  overlongAudio: OverlongAudio;
  sseContent: SseContentStyle;
  downloadTimeoutMs: number;
};

type Heard = { audios: HeardAudio[]; audioTokens: number; inputTokens: number };

async function listen(request: AudioRequest, settings: QwenAudioSettings, context: Parameters<typeof fetchAudio>[1]): Promise<Heard> {
  const audios: HeardAudio[] = [];
  let userTurn = 0;
  let textTokens = REPLY_PRIMER_TOKENS;
  for (const message of request.messages) {
    if (message.role === "user") userTurn += 1;
    textTokens += MESSAGE_OVERHEAD_TOKENS;
    for (const item of message.content) {
      if (item.kind === "text") {
        textTokens += countTextTokens(item.text);
        continue;
      }
      const bytes = await fetchAudio(item.url, context);
      const probed = await probeAudio(bytes);
      if (probed.kind === "not-media") throw new EndpointFailure(dashScopeError("InvalidParameter.DataInspection", MEDIA_MESSAGES.notMedia));
      if (probed.kind === "broken-audio") throw new EndpointFailure(algoInvalid(MEDIA_MESSAGES.brokenAudio));
      if (probed.seconds > AUDIO_SECONDS_HEARD && settings.overlongAudio === "refuse") {
        throw new EndpointFailure(algoInvalid(MEDIA_MESSAGES.audioTooLong));
      }
      audios.push({
        ...probed,
        index: audios.length + 1,
        turn: message.role === "user" ? userTurn : 0,
        heardSeconds: Math.min(probed.seconds, AUDIO_SECONDS_HEARD),
      });
    }
  }
  const audioTokenCount = audios.reduce((sum, audio) => sum + audioTokens(audio.heardSeconds), 0);
  return { audios, audioTokens: audioTokenCount, inputTokens: textTokens + audioTokenCount };
}

/** Groups `pieces` into SSE frames: at least 3 tokens a frame (the seed's example), at most ~40 frames. */
function frameSizes(total: number): number[] {
  const per = Math.max(3, Math.ceil(total / 40));
  const sizes: number[] = [];
  for (let done = 0; done < total; done += per) sizes.push(Math.min(per, total - done));
  return sizes.length === 0 ? [0] : sizes;
}

export function createQwenAudioEndpoint(settings: QwenAudioSettings): DashScopeEndpoint {
  return {
    path: QWEN_AUDIO_PATH,
    contentTypes: ["application/json", "text/event-stream"],
    sseByContentType: true,
    prepare({ body, streaming, requestId, headers, signal }) {
      const check = checkAudioRequest(body);
      if (!check.ok) return check;
      const request = check.request;
      const spec = QWEN_AUDIO_MODELS[request.model];
      return {
        ok: true,
        durationMs: settings.generationMs,
        async answer(): Promise<EndpointAnswer> {
          const heard = await listen(request, settings, {
            headers,
            model: request.model,
            storage: settings.storage,
            downloadTimeoutMs: settings.downloadTimeoutMs,
            signal,
          });
          if (heard.inputTokens > spec.maxInputTokens) {
            throw new EndpointFailure(algoInvalid(`Range of input length should be [1, ${spec.maxInputTokens}]`));
          }
          const pieces = tokenizeText(writeAnswer({ messages: request.messages, audios: heard.audios }));
          const kept = pieces.slice(0, request.maxTokens);
          const finishReason = kept.length < pieces.length ? "length" : "stop";
          const usage = (outputTokens: number) => ({ output_tokens: outputTokens, input_tokens: heard.inputTokens, audio_tokens: heard.audioTokens });
          const choice = (finish: string, text: string, content: "list" | "string") => ({
            finish_reason: finish,
            message: { role: "assistant", content: content === "list" ? [{ text }] : text },
          });
          if (!streaming) {
            return { partials: [], final: { output: { choices: [choice(finishReason, kept.join(""), "list")] }, usage: usage(kept.length), request_id: requestId } };
          }
          const payloads: unknown[] = [];
          let sent = 0;
          const sizes = frameSizes(kept.length);
          for (const [index, size] of sizes.entries()) {
            const delta = kept.slice(sent, sent + size).join("");
            sent += size;
            const text = request.incrementalOutput ? delta : kept.slice(0, sent).join("");
            const finish = index === sizes.length - 1 ? finishReason : "null";
            payloads.push({ output: { choices: [choice(finish, text, settings.sseContent)] }, usage: usage(sent), request_id: requestId });
          }
          return { partials: payloads.slice(0, -1), final: payloads.at(-1) };
        },
      };
    },
  };
}
