import { beforeStream, dashScopeError, FUN_MUSIC_MESSAGES, type ApiError } from "./errors.js";
import { classifyScript, describeLimitProblem, findLimitProblem, type GenerationMode, type TextScript } from "./text-limits.js";

/**
 * Validation of a Fun-Music request body, in the order a gateway-then-model service would apply it:
 * model first, then `input`'s shape, then each field's type and value, then the text limits.
 * Body and model problems are gateway errors (an SSE call gets them under the error's HTTP status);
 * problems with `input`'s fields are the model's (an SSE call gets them inside an HTTP 200 stream).
 *
 * Decisions where the seed is silent (each documented because a test may depend on it):
 * - Unknown fields, at the top level (`parameters`, `stream`…) or in `input` (`is_instrumental`,
 *   which newer docs mention but the seed does not), are ignored, as DashScope ignores fields a
 *   model does not read. They stay visible in the fake's request record.
 * - `gender`, `format` and `enable_aigc_watermark` live in `input`, as in the seed's curl examples.
 *   Sent anywhere else they are unknown fields, so their defaults apply.
 * - Types are strict: `"true"` is not a boolean and `"MP3"` is not `mp3`.
 * - `null` counts as absent for the optional strings (`lyrics`, `prompt`, `gender`, `format`).
 * - A `lyrics` string that is present wins even when empty, so `lyrics: ""` fails the lyrics
 *   limit rather than falling back to the prompt: the seed says lyrics take effect when given.
 * - `gender` is accepted for fun-music-preview too (newer docs say preview ignores it).
 */

export const FUN_MUSIC_MODELS = ["fun-music-preview", "fun-music-v1"] as const;
export type FunMusicModel = (typeof FUN_MUSIC_MODELS)[number];

export type MusicRequest = {
  model: FunMusicModel;
  /** The field the model uses: lyrics win when both are given. */
  uses: "lyrics" | "prompt";
  text: string;
  script: TextScript;
  promptIgnored: boolean;
  gender: "male" | "female";
  format: "mp3" | "wav";
  watermark: boolean;
};

export type MusicRequestCheck = { ok: true; request: MusicRequest } | { ok: false; error: ApiError };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A parameter error from the model service: inside the stream for SSE calls. */
function invalid(message: string): MusicRequestCheck {
  return { ok: false, error: dashScopeError("InvalidParameter", message) };
}

/** A routing error from the gateway: before any stream. */
function refused(error: ApiError): MusicRequestCheck {
  return { ok: false, error: beforeStream(error) };
}

function optionalString(input: Record<string, unknown>, name: string): string | undefined | ApiError {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") return dashScopeError("InvalidParameter", `Input should be a valid string: input.${name}`);
  return value;
}

function isApiError(value: unknown): value is ApiError {
  return isObject(value) && typeof value.code === "string" && typeof value.status === "number";
}

/** Checks a parsed JSON body for `mode`; the first problem found is the one reported. */
export function checkMusicRequest(body: unknown, mode: GenerationMode): MusicRequestCheck {
  if (!isObject(body)) return refused(dashScopeError("InvalidParameter", "Required body invalid, check the request body format."));

  const model = body.model;
  if (model === undefined || model === null || model === "") {
    return refused(dashScopeError("BadRequest.EmptyModel"));
  }
  if (typeof model !== "string" || !(FUN_MUSIC_MODELS as readonly string[]).includes(model)) {
    return refused(dashScopeError("InvalidParameter", "Model not exist."));
  }

  const input = body.input;
  if (input === undefined || input === null) return refused(dashScopeError("BadRequest.EmptyInput"));
  if (!isObject(input)) return invalid("Input should be a valid dictionary: input");

  const lyrics = optionalString(input, "lyrics");
  if (isApiError(lyrics)) return { ok: false, error: lyrics };
  const prompt = optionalString(input, "prompt");
  if (isApiError(prompt)) return { ok: false, error: prompt };

  const gender = optionalString(input, "gender");
  if (isApiError(gender)) return { ok: false, error: gender };
  if (gender !== undefined && gender !== "male" && gender !== "female") {
    return invalid("Input should be 'male' or 'female': input.gender");
  }

  const format = optionalString(input, "format");
  if (isApiError(format)) return { ok: false, error: format };
  if (format !== undefined && format !== "mp3" && format !== "wav") {
    return invalid("Input should be 'mp3' or 'wav': input.format");
  }

  const watermark = input.enable_aigc_watermark;
  if (watermark !== undefined && typeof watermark !== "boolean") {
    return invalid("Input should be a valid boolean: input.enable_aigc_watermark");
  }

  if (lyrics === undefined && prompt === undefined) return invalid(FUN_MUSIC_MESSAGES.lyricsOrPromptRequired);

  const uses = lyrics !== undefined ? "lyrics" : "prompt";
  const text = lyrics ?? prompt ?? "";
  const problem = findLimitProblem(uses, text, mode);
  if (problem) return invalid(describeLimitProblem(problem));

  return {
    ok: true,
    request: {
      model: model as FunMusicModel,
      uses,
      text,
      script: classifyScript(text),
      promptIgnored: uses === "lyrics" && prompt !== undefined,
      gender: gender ?? "female",
      format: format ?? "mp3",
      watermark: watermark ?? false,
    },
  };
}
