import { z } from "zod";
import { httpUrl, numberish } from "./schema-parts.js";

/**
 * The shape of a Fun-Music answer (a non-streaming body, or one SSE event's `data`), as the seeds
 * show it, tolerant where the seeds disagree with themselves or with their own field tables:
 *
 * - `sample_rate` is `"48000"` in the API reference and `48000` in the response-object page, so
 *   both are accepted (and numbers in general may come as digit strings);
 * - `finish_reason` is the string `"null"` in intermediate events, though the table says null;
 *   both mean "still generating";
 * - intermediate events have no `extra_info`, no `usage` and no `url`;
 * - unknown fields are ignored (zod's default for objects strips them), so a new field from the
 *   service doesn't break a song that has already been paid for.
 */

/** `null`, `"null"`, `""` and absence all mean "not finished"; any other string is a reason. */
const finishReason = z
  .union([z.string(), z.null()])
  .optional()
  .transform((value) => (value === undefined || value === null || value === "null" || value === "" ? null : value));

export const funMusicAnswerSchema = z.object({
  request_id: z.string().optional(),
  output: z.object({
    audio: z.object({
      data: z.string().nullish(),
      url: httpUrl.nullish(),
      id: z.string().nullish(),
      expires_at: numberish.nullish(),
    }),
    extra_info: z
      .object({
        channels: numberish.nullish(),
        sample_rate: numberish.nullish(),
        lyrics: z.string().nullish(),
      })
      .nullish(),
    finish_reason: finishReason,
  }),
  usage: z.object({ duration: numberish.nullish() }).nullish(),
});

/** A validated Fun-Music answer. */
export type FunMusicAnswer = z.infer<typeof funMusicAnswerSchema>;

/**
 * The same answer read leniently, for a song that is already paid for: every field the bot can do
 * without falls back to "absent" when it has an unexpected shape (e.g. `expires_at` as a date
 * string), so a usable URL or audio and `usage.duration` are not thrown away over it. Only
 * `finish_reason` stays strict: it says whether the song is finished. `music.ts` uses it only
 * after the strict schema failed, and only keeps what it reads when audio and duration are there.
 */
export const funMusicLenientAnswerSchema = z.object({
  request_id: z.string().optional().catch(undefined),
  output: z.object({
    audio: z
      .object({
        data: z.string().nullish().catch(undefined),
        url: httpUrl.nullish().catch(undefined),
        id: z.string().nullish().catch(undefined),
        expires_at: numberish.nullish().catch(undefined),
      })
      .catch({}),
    extra_info: z
      .object({
        channels: numberish.nullish().catch(undefined),
        sample_rate: numberish.nullish().catch(undefined),
        lyrics: z.string().nullish().catch(undefined),
      })
      .nullish()
      .catch(undefined),
    finish_reason: finishReason,
  }),
  usage: z.object({ duration: numberish.nullish().catch(undefined) }).nullish().catch(undefined),
});

/** A billed answer with something to deliver: audio (URL or inline data) and seconds to charge. */
export function isDeliverable(answer: FunMusicAnswer): boolean {
  const audio = answer.output.audio;
  return Boolean(audio.url || audio.data) && answer.usage?.duration !== undefined && answer.usage.duration !== null;
}
