import { beforeStream, dashScopeError, type ApiError } from "./errors.js";

/**
 * Validation of a Qwen-Audio request body (POST …/services/aigc/multimodal-generation/generation),
 * in the order a gateway-then-model service applies it: body → model → `input.messages` shape →
 * `parameters`. Model problems are the gateway's (before any stream); everything else is the model
 * service's (inside an HTTP 200 stream for SSE calls), as for Fun-Music.
 *
 * Messages raised by the model service carry DashScope's `<400> InternalError.Algo.InvalidParameter: `
 * prefix, as every native-protocol capture found shows it (e.g. `{"code":"InvalidParameter","message":
 * "<400> InternalError.Algo.InvalidParameter: Range of max_tokens should be [1, 32768]",…}`). The
 * wording after the prefix is the documented one where the error page gives it ("Range of max_tokens
 * should be [1, xxx]", "Range of top_p should be (0.0, 1.0]", "Parameter top_k be greater than or
 * equal to 0", "Range of seed should be [0, 9223372036854775807]", "The item of content should be a
 * message of a certain modal.", "The input messages do not contain elements with the role of user.",
 * "[] is too short"); the pydantic-style type messages ("Input should be a valid …: <path>") follow
 * the captured `Input should be a valid number, unable to parse string as a number: parameters.top_p`.
 */

export type QwenAudioModelSpec = {
  /** Largest `max_tokens`, and the default (seed: max_tokens 默认 1500). */
  maxOutputTokens: number;
  /** Largest input, text + audio + framing ("API限定用户输入为6k tokens"). */
  maxInputTokens: number;
};

/**
 * Models served on this endpoint, with the limits of Model Studio's "音频理解（Qwen-Audio）" table:
 * qwen2-audio-instruct / qwen-audio-chat / qwen-audio-turbo (= 2024-08-07) 8,000 context, 6,000 in,
 * 1,500 out; qwen-audio-turbo-latest (= 2024-12-04) 8,192 / 6,144 / 2,048. "又称" aliases included.
 */
export const QWEN_AUDIO_MODELS = {
  "qwen2-audio-instruct": { maxOutputTokens: 1500, maxInputTokens: 6000 },
  "qwen-audio-chat": { maxOutputTokens: 1500, maxInputTokens: 6000 },
  "qwen-audio-turbo": { maxOutputTokens: 1500, maxInputTokens: 6000 },
  "qwen-audio-turbo-2024-08-07": { maxOutputTokens: 1500, maxInputTokens: 6000 },
  "qwen-audio-turbo-0807": { maxOutputTokens: 1500, maxInputTokens: 6000 },
  "qwen-audio-turbo-latest": { maxOutputTokens: 2048, maxInputTokens: 6144 },
  "qwen-audio-turbo-2024-12-04": { maxOutputTokens: 2048, maxInputTokens: 6144 },
  "qwen-audio-turbo-1204": { maxOutputTokens: 2048, maxInputTokens: 6144 },
} as const satisfies Record<string, QwenAudioModelSpec>;

export type QwenAudioModel = keyof typeof QWEN_AUDIO_MODELS;

export function isQwenAudioModel(name: unknown): name is QwenAudioModel {
  return typeof name === "string" && Object.hasOwn(QWEN_AUDIO_MODELS, name);
}

export type ContentItem = { kind: "audio"; url: string; path: string } | { kind: "text"; text: string };
export type ChatRole = "system" | "user" | "assistant";
export type ChatMessage = { role: ChatRole; content: ContentItem[] };

export type AudioRequest = {
  model: QwenAudioModel;
  messages: ChatMessage[];
  maxTokens: number;
  incrementalOutput: boolean;
};

export type AudioRequestCheck = { ok: true; request: AudioRequest } | { ok: false; error: ApiError };

/** The prefix DashScope's model service puts before its InvalidParameter messages. */
export const ALGO_INVALID_PARAMETER = "<400> InternalError.Algo.InvalidParameter: ";

/** A parameter error raised by the model service (inside the stream of an SSE call). */
export function algoInvalid(message: string): ApiError {
  return dashScopeError("InvalidParameter", `${ALGO_INVALID_PARAMETER}${message}`);
}

function invalid(message: string): AudioRequestCheck {
  return { ok: false, error: algoInvalid(message) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const ROLES: readonly ChatRole[] = ["system", "user", "assistant"];
const ROLE_RULE = `Role must be in ["user","assistant","system"] and the role in last message must be in ["user"]`;

function checkMessages(raw: unknown): { ok: true; messages: ChatMessage[] } | { ok: false; error: ApiError } {
  if (raw === undefined || raw === null) {
    return { ok: false, error: algoInvalid('Either "prompt" or "messages" must exist and cannot both be none') };
  }
  if (!Array.isArray(raw)) return { ok: false, error: algoInvalid("Input should be a valid list: input.messages") };
  if (raw.length === 0) return { ok: false, error: algoInvalid("[] is too short") };
  const messages: ChatMessage[] = [];
  for (const [i, message] of raw.entries()) {
    const at = `input.messages.${i}`;
    if (!isObject(message)) return { ok: false, error: algoInvalid(`Input should be a valid dictionary or instance of GPT3Message: ${at}`) };
    const role = message.role;
    if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) return { ok: false, error: algoInvalid(ROLE_RULE) };
    if (message.content === undefined || message.content === null) {
      return { ok: false, error: algoInvalid("The content field is a required field.") };
    }
    if (!Array.isArray(message.content)) return { ok: false, error: algoInvalid(`Input should be a valid list: ${at}.content`) };
    const content: ContentItem[] = [];
    for (const [j, item] of message.content.entries()) {
      const itemAt = `${at}.content.${j}`;
      const keys = isObject(item) ? Object.keys(item) : [];
      if (!isObject(item) || keys.length !== 1 || (keys[0] !== "audio" && keys[0] !== "text")) {
        return { ok: false, error: algoInvalid("The item of content should be a message of a certain modal.") };
      }
      if (keys[0] === "audio") {
        if (typeof item.audio !== "string") return { ok: false, error: algoInvalid(`Input should be a valid string: ${itemAt}.audio`) };
        content.push({ kind: "audio", url: item.audio, path: `${itemAt}.audio` });
      } else {
        if (typeof item.text !== "string") return { ok: false, error: algoInvalid(`Input should be a valid string: ${itemAt}.text`) };
        content.push({ kind: "text", text: item.text });
      }
    }
    messages.push({ role: role as ChatRole, content });
  }
  if (!messages.some((m) => m.role === "user")) {
    return { ok: false, error: algoInvalid("The input messages do not contain elements with the role of user.") };
  }
  if (messages.at(-1)?.role !== "user") return { ok: false, error: algoInvalid(ROLE_RULE) };
  return { ok: true, messages };
}

const SEED_MAX = 9_223_372_036_854_775_807;

/** Checks a parsed JSON body; the first problem found is the one reported. */
export function checkAudioRequest(body: unknown): AudioRequestCheck {
  if (!isObject(body)) return { ok: false, error: beforeStream(dashScopeError("InvalidParameter", "Required body invalid, check the request body format.")) };
  const model = body.model;
  if (model === undefined || model === null || model === "") return { ok: false, error: beforeStream(dashScopeError("BadRequest.EmptyModel")) };
  if (!isQwenAudioModel(model)) return { ok: false, error: beforeStream(dashScopeError("InvalidParameter", "Model not exist.")) };
  const spec = QWEN_AUDIO_MODELS[model];

  const input = body.input;
  if (input === undefined || input === null) return { ok: false, error: beforeStream(dashScopeError("BadRequest.EmptyInput")) };
  if (!isObject(input)) return invalid("Input should be a valid dictionary: input");
  const messages = checkMessages(input.messages);
  if (!messages.ok) return messages;

  const parameters = body.parameters ?? {};
  if (!isObject(parameters)) return invalid("Input should be a valid dictionary: parameters");

  const topP = parameters.top_p;
  if (topP !== undefined && topP !== null) {
    if (typeof topP !== "number") return invalid("Input should be a valid number, unable to parse string as a number: parameters.top_p");
    if (!(topP > 0 && topP <= 1)) return invalid("Range of top_p should be (0.0, 1.0]");
  }
  const topK = parameters.top_k;
  if (topK !== undefined && topK !== null) {
    if (typeof topK !== "number" || !Number.isInteger(topK)) return invalid("Input should be a valid integer: parameters.top_k");
    if (topK < 0) return invalid("Parameter top_k be greater than or equal to 0");
  }
  const temperature = parameters.temperature;
  if (temperature !== undefined && temperature !== null) {
    if (typeof temperature !== "number") return invalid("'temperature' must be Float");
    if (!(temperature >= 0 && temperature < 2)) return invalid("Temperature should be in [0.0, 2.0)");
  }
  const seed = parameters.seed;
  if (seed !== undefined && seed !== null) {
    if (typeof seed !== "number" || !Number.isInteger(seed)) return invalid("Input should be a valid integer: parameters.seed");
    if (seed < 0 || seed > SEED_MAX) return invalid("Range of seed should be [0, 9223372036854775807]");
  }
  let maxTokens: number = spec.maxOutputTokens;
  const rawMax = parameters.max_tokens;
  if (rawMax !== undefined && rawMax !== null) {
    if (typeof rawMax !== "number" || !Number.isInteger(rawMax)) return invalid("Input should be a valid integer: parameters.max_tokens");
    if (rawMax < 1 || rawMax > spec.maxOutputTokens) return invalid(`Range of max_tokens should be [1, ${spec.maxOutputTokens}]`);
    maxTokens = rawMax;
  }
  const incremental = parameters.incremental_output;
  if (incremental !== undefined && incremental !== null && typeof incremental !== "boolean") {
    return invalid("Input should be a valid boolean: parameters.incremental_output");
  }

  return { ok: true, request: { model, messages: messages.messages, maxTokens, incrementalOutput: incremental === true } };
}
