import type { Logger } from "../log.js";

/** The contract between the Discord side and the Qwen-Audio client (`audio.ts`) and temporary storage (`upload.ts`). */

/** One item of a message's content, as the Qwen-Audio API takes it. */
export type QwenAudioContent = { audio: string } | { text: string };

export type QwenAudioMessage = {
  role: "system" | "user" | "assistant";
  content: QwenAudioContent[];
};

/** Token counts as `usage` reports them; kept with each call for the usage ledger. */
export type QwenAudioUsage = {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  audioTokens: number | undefined;
};

export type QwenAudioAnswer = {
  /** The whole answer text (streamed increments joined). */
  text: string;
  /** "stop", or "length" when the output limit cut it. */
  finishReason: string | undefined;
  usage: QwenAudioUsage;
  requestId: string | undefined;
};

export type AskQwenAudioOptions = {
  model: string;
  messages: QwenAudioMessage[];
  /** Called with the text so far each time an increment arrives (throttling is the caller's job). */
  onText?: (textSoFar: string) => void;
  /** At most 1500, the model's output limit. */
  maxTokens?: number;
  signal?: AbortSignal;
  timeoutMs: number;
  /**
   * Longest wait for the next event of the answer's stream (`ANALYSIS_STREAM_IDLE_SECONDS`);
   * the client's default (30 s) if absent. Past it the call fails as `OutcomeUnknown`.
   */
  idleTimeoutMs?: number | undefined;
  /** Logger for the call's lines (the interaction's child logger). */
  log?: Logger;
};

/** A file put in DashScope's temporary storage, usable in a message as `oss://…`. */
export type UploadedFile = {
  /** `oss://{key}`: only resolvable with the `X-DashScope-OssResourceResolve: enable` header. */
  url: string;
  /** When the storage policy said the upload expires (storage keeps files for 48 h). */
  expiresAt: Date | undefined;
};

/** The seed's input limits for each audio. */
export const qwenAudioLimits = {
  maxSeconds: 30,
  maxBytes: 10 * 1024 * 1024,
  maxInputTokens: 6000,
  maxOutputTokens: 1500,
} as const;
