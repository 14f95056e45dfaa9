import { z } from "zod";
import type { QwenAudioUsage } from "./audio-types.js";

/**
 * The shape of one Qwen-Audio answer (an SSE event's `data`, or a whole non-streaming body),
 * tolerant where the sources disagree:
 *
 * - `message.content` is a plain string in the seed's SSE example (`qwen-audio-api.zh.txt`,
 *   "响应示例(SSE开启)") but a list of `{text}` in its non-streaming example and in the
 *   multimodal-generation streams Model Studio documents for its Qwen-VL models
 *   (`content:[{"text":"厘米"}]`, and `content:[]` on the final frame); both are accepted;
 * - `finish_reason` is the string `"null"` while generating (the seed's table says null); `null`,
 *   `"null"`, `""` and absence all mean "not finished"; `"stop"` and `"length"` end the answer,
 *   and any other string is taken as an ending too (reported as is) rather than thrown away;
 * - `usage` may be missing from intermediate frames, and its numbers may come as digit strings;
 * - unknown fields are ignored, so a new field can't break an answer that is already billed.
 */

const count = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .trim()
    .regex(/^\d+$/, "expected a count")
    .transform(Number),
]);

const finishReason = z
  .union([z.string(), z.null()])
  .optional()
  .transform((value) => (value === undefined || value === null || value === "null" || value === "" ? null : value));

/** A content item of the answer: text, or another modality we ignore. */
const contentItem = z.object({ text: z.string().nullish() });

const content = z.union([z.string(), z.array(contentItem)]).nullish();

const choice = z.object({
  finish_reason: finishReason,
  message: z.object({ role: z.string().nullish(), content }).nullish(),
});

export const qwenAudioFrameSchema = z.object({
  request_id: z.string().optional(),
  output: z.object({
    choices: z.array(choice).nullish(),
  }),
  usage: z
    .object({
      input_tokens: count.nullish(),
      output_tokens: count.nullish(),
      audio_tokens: count.nullish(),
      // Newer multimodal answers break input down here; used when `audio_tokens` is absent.
      input_tokens_details: z.object({ audio_tokens: count.nullish() }).nullish(),
    })
    .nullish(),
});

export type QwenAudioFrame = z.infer<typeof qwenAudioFrameSchema>;

/** The text a frame carries for its first choice (the only one: we never ask for `n`). */
export function frameText(frame: QwenAudioFrame): string {
  const value = frame.output.choices?.[0]?.message?.content;
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  return value.map((item) => item.text ?? "").join("");
}

/** The frame's finish reason, `null` while generating. */
export function frameFinishReason(frame: QwenAudioFrame): string | null {
  return frame.output.choices?.[0]?.finish_reason ?? null;
}

/** The frame's usage in our terms, or `undefined` when the frame has none. */
export function frameUsage(frame: QwenAudioFrame): QwenAudioUsage | undefined {
  const usage = frame.usage;
  if (!usage) return undefined;
  return {
    inputTokens: usage.input_tokens ?? undefined,
    outputTokens: usage.output_tokens ?? undefined,
    audioTokens: usage.audio_tokens ?? usage.input_tokens_details?.audio_tokens ?? undefined,
  };
}

/**
 * Below this length, a chunk equal to the whole text so far is read as an increment that repeats
 * it ("ha" + "ha"); from this length on, as a cumulative server resending the same text.
 */
const REPEAT_MIN_CHARS = 16;

/**
 * Joins the text chunks of a stream. We ask for `incremental_output: true`, so each chunk should
 * be new text; but the seed's own SSE example is cumulative (each frame holds the whole text so
 * far, which is what the service does when `incremental_output` is off or ignored), and joining
 * those would repeat the answer. So, per chunk:
 *
 * 1. a chunk that starts with the whole text so far and is longer is cumulative: it replaces it;
 * 2. a chunk equal to the text so far is a resend (nothing new) once the stream has shown itself
 *    cumulative, or when the text is at least 16 characters (an increment repeating the whole
 *    answer verbatim is implausible at that length);
 * 3. anything else is an increment and is appended.
 *
 * The cost of rule 1: an increment that happens to begin with the entire text so far (text "a",
 * increment "ab") is taken as cumulative. Since the text so far stops being a plausible prefix of
 * one increment after the first token or two, this can only touch the first token.
 */
export function createTextAccumulator(): { push(chunk: string): boolean; readonly text: string } {
  let text = "";
  let cumulative = false;
  return {
    push(chunk) {
      if (chunk === "") return false;
      if (text === "") {
        text = chunk;
        return true;
      }
      if (chunk.length > text.length && chunk.startsWith(text)) {
        cumulative = true;
        text = chunk;
        return true;
      }
      if (chunk === text && (cumulative || text.length >= REPEAT_MIN_CHARS)) return false;
      text += chunk;
      return true;
    },
    get text() {
      return text;
    },
  };
}
