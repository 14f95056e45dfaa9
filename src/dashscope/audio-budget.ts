import { qwenAudioLimits, type QwenAudioMessage, type QwenAudioUsage } from "./audio-types.js";

/**
 * Keeping a follow-up conversation within Qwen-Audio's input limit.
 *
 * The seed (`qwen-audio-api.zh.txt`, 模型概览) gives qwen2-audio-instruct an 8k context of which
 * "API限定用户输入为6k tokens,输出为1.5k tokens"; its examples count the audio inside the input
 * (`input_tokens` 85 with `audio_tokens` 76). We cannot run the tokenizer, so we estimate:
 *
 * - text: ≈ 1 token per 4 characters of Latin script (and ASCII: digits, punctuation, spaces),
 *   ≈ 1 per 1.5 characters of Han (and kana and Hangul), the seed's own figures ("1个token通常
 *   对应一个1.5-1.8个汉字", "3至4个字母"); both taken at the end that counts more tokens.
 *   Other scripts (Cyrillic, Arabic, emoji…) count 1 per 2 characters, between the two;
 * - 4 tokens per message for the chat template around it (role and delimiters);
 * - audio: the previous call's `usage.audio_tokens` when known (the same audio is sent again on
 *   every turn), shared evenly between the audio items; else 25 tokens per second of audio
 *   (Qwen2-Audio's encoder emits one token per 40 ms: Chu et al., "Qwen2-Audio Technical Report",
 *   2024) times the `audioSeconds` hint; else 30 s (the seed's longest audio) per audio item.
 *
 * The estimate errs high for English prose (closer to 4.5–5 characters a token) and is a guess
 * for code or unusual text; the budget is a soft guard, and the service still rejects what
 * truly does not fit.
 */

export const AUDIO_TOKENS_PER_SECOND = 25;
/** Tokens of chat template around each message (`<|im_start|>role\n … <|im_end|>\n`). */
const MESSAGE_OVERHEAD_TOKENS = 4;

const cjk = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const latin = /[\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}]/u;
const emojiOrSymbol = /\p{Extended_Pictographic}/u;

/** Estimated tokens of a text (see the module comment). */
export function estimateTextTokens(text: string): number {
  let tokens = 0;
  for (const char of text) {
    if (cjk.test(char)) tokens += 1 / 1.5;
    else if (emojiOrSymbol.test(char)) tokens += 1 / 2;
    else if (char.charCodeAt(0) < 0x80 || latin.test(char)) tokens += 1 / 4;
    else tokens += 1 / 2;
  }
  return Math.ceil(tokens);
}

export type InputEstimateOptions = {
  /** The usage of the previous call of this conversation, if any. */
  lastUsage?: QwenAudioUsage | undefined;
  /** Seconds of audio in the messages, all items together; used when `lastUsage` has no audio tokens. */
  audioSeconds?: number | undefined;
};

function audioItemCount(message: QwenAudioMessage): number {
  return message.content.filter((item) => "audio" in item).length;
}

/** Estimated audio tokens of one audio item, given every message the estimate covers. */
function tokensPerAudioItem(messages: readonly QwenAudioMessage[], options: InputEstimateOptions): number {
  const items = messages.reduce((sum, message) => sum + audioItemCount(message), 0);
  if (items === 0) return 0;
  const known = options.lastUsage?.audioTokens;
  if (known !== undefined && known > 0) return known / items;
  if (options.audioSeconds !== undefined && options.audioSeconds > 0) return (options.audioSeconds * AUDIO_TOKENS_PER_SECOND) / items;
  return qwenAudioLimits.maxSeconds * AUDIO_TOKENS_PER_SECOND;
}

function messageTokens(message: QwenAudioMessage, perAudioItem: number): number {
  let tokens = MESSAGE_OVERHEAD_TOKENS;
  for (const item of message.content) tokens += "text" in item ? estimateTextTokens(item.text) : perAudioItem;
  return tokens;
}

/** Estimated input tokens of a request made of `messages`. */
export function estimateInputTokens(messages: readonly QwenAudioMessage[], options: InputEstimateOptions = {}): number {
  const perAudioItem = tokensPerAudioItem(messages, options);
  return Math.ceil(messages.reduce((sum, message) => sum + messageTokens(message, perAudioItem), 0));
}

export type ConversationBudgetOptions = InputEstimateOptions & {
  /** The input limit; the seed's 6000 by default. */
  maxInputTokens?: number | undefined;
  /**
   * Tokens to leave free for a question not yet in `messages` (0, the default, when the new
   * question is already the last message).
   */
  reserveForQuestion?: number | undefined;
};

/**
 * Drops the oldest middle turns of a conversation until its estimate fits
 * `maxInputTokens − reserveForQuestion`, and returns the messages to send (a new array; the
 * messages themselves are shared, not copied).
 *
 * Always kept: the system messages and everything up to the first message holding audio (else
 * the first user message), that message's assistant reply, and the newest turn. A turn starts at
 * each later user message and runs to the next one, so the roles still alternate after a drop.
 * If the result still does not fit, it is returned anyway: `estimateInputTokens` tells the caller
 * by how much, and the service has the last word.
 */
export function trimConversationToBudget(messages: readonly QwenAudioMessage[], options: ConversationBudgetOptions = {}): QwenAudioMessage[] {
  const budget = (options.maxInputTokens ?? qwenAudioLimits.maxInputTokens) - (options.reserveForQuestion ?? 0);
  // Shared per item over the whole conversation, so dropping turns never raises an item's cost.
  const perAudioItem = tokensPerAudioItem(messages, options);
  const tokensOf = (list: readonly QwenAudioMessage[]) => list.reduce((sum, message) => sum + messageTokens(message, perAudioItem), 0);

  let anchor = messages.findIndex((message) => audioItemCount(message) > 0);
  if (anchor === -1) anchor = messages.findIndex((message) => message.role === "user");
  let headEnd = anchor + 1;
  if (anchor === -1) {
    headEnd = 0;
    while (headEnd < messages.length && messages[headEnd]?.role === "system") headEnd++;
  } else {
    while (headEnd < messages.length && messages[headEnd]?.role === "assistant") headEnd++;
  }
  const head = messages.slice(0, headEnd);

  const turns: QwenAudioMessage[][] = [];
  for (const message of messages.slice(headEnd)) {
    const current = turns.at(-1);
    if (!current || message.role === "user") turns.push([message]);
    else current.push(message);
  }

  const headTokens = tokensOf(head);
  let tailTokens = turns.reduce((sum, turn) => sum + tokensOf(turn), 0);
  let first = 0;
  while (headTokens + tailTokens > budget && turns.length - first > 1) {
    tailTokens -= tokensOf(turns[first] as QwenAudioMessage[]);
    first++;
  }
  return [...head, ...turns.slice(first).flat()];
}
