import { describe, expect, it } from "vitest";
import { estimateInputTokens, estimateTextTokens, trimConversationToBudget } from "../../src/dashscope/audio.js";
import type { QwenAudioMessage } from "../../src/dashscope/audio-types.js";

const system: QwenAudioMessage = { role: "system", content: [{ text: "You are a helpful assistant." }] };
const withAudio: QwenAudioMessage = { role: "user", content: [{ audio: "oss://dashscope-instant/a/b/c-part1.mp3" }, { text: "Transcribe this." }] };
const user = (text: string): QwenAudioMessage => ({ role: "user", content: [{ text }] });
const assistant = (text: string): QwenAudioMessage => ({ role: "assistant", content: [{ text }] });

/** ≈ `tokens` tokens of English (4 characters each). */
const words = (tokens: number, tag: string) => `${tag} ${"abcd".repeat(tokens)}`.slice(0, tokens * 4);

function conversation(turns: number, tokensPerMessage: number): QwenAudioMessage[] {
  const messages: QwenAudioMessage[] = [system, withAudio, assistant(words(tokensPerMessage, "analysis"))];
  for (let i = 1; i <= turns; i++) messages.push(user(words(tokensPerMessage, `q${i}`)), assistant(words(tokensPerMessage, `a${i}`)));
  return messages;
}

describe("estimateTextTokens", () => {
  it("counts about four Latin characters a token", () => {
    expect(estimateTextTokens("abcd".repeat(100))).toBe(100);
    expect(estimateTextTokens("Nice to meet you.")).toBe(5);
  });

  it("counts about one and a half Han characters a token", () => {
    expect(estimateTextTokens("你好我是通义千问".repeat(3))).toBe(16);
  });

  it("counts mixed text by script", () => {
    // 8 Latin characters (2 tokens) and 3 Han (2 tokens).
    expect(estimateTextTokens("Qwen音频模型")).toBe(2 + 2);
    expect(estimateTextTokens("")).toBe(0);
  });
});

describe("estimateInputTokens", () => {
  it("takes the audio's tokens from the last call's usage when known", () => {
    const known = estimateInputTokens([withAudio], { lastUsage: { inputTokens: 900, outputTokens: 50, audioTokens: 768 } });
    const fromSeconds = estimateInputTokens([withAudio], { audioSeconds: 10 });
    const unknown = estimateInputTokens([withAudio]);
    const text = estimateTextTokens("Transcribe this.") + 4;
    expect(known).toBe(768 + text);
    expect(fromSeconds).toBe(250 + text);
    // Without either, the longest audio the model takes: 30 s.
    expect(unknown).toBe(750 + text);
  });
});

describe("trimConversationToBudget", () => {
  it("leaves a conversation that fits as it is", () => {
    const messages = conversation(3, 100);
    const trimmed = trimConversationToBudget(messages, { maxInputTokens: 6000, audioSeconds: 30 });
    expect(trimmed).toEqual(messages);
    expect(trimmed).not.toBe(messages);
  });

  it("keeps the system prompt, the audio message with its first answer, and the newest turns, dropping the oldest in between", () => {
    const messages = conversation(10, 500);
    messages.push(user("And the tempo?"));

    const trimmed = trimConversationToBudget(messages, { maxInputTokens: 6000, lastUsage: { inputTokens: 5000, outputTokens: 400, audioTokens: 750 } });

    expect(trimmed.slice(0, 3)).toEqual(messages.slice(0, 3));
    expect(trimmed.at(-1)).toEqual(user("And the tempo?"));
    expect(trimmed.at(-2)).toEqual(messages.at(-2));
    // Whole turns go, oldest first: what is left of the middle is the end of the original.
    const middle = trimmed.slice(3);
    expect(messages.slice(messages.length - middle.length)).toEqual(middle);
    expect(middle.length).toBeLessThan(messages.length - 3);
    expect(middle[0]?.role).toBe("user");
    // Roles still alternate after the drop.
    for (let i = 2; i < trimmed.length; i++) expect(trimmed[i]?.role).not.toBe(trimmed[i - 1]?.role);
    expect(estimateInputTokens(trimmed, { lastUsage: { inputTokens: 5000, outputTokens: 400, audioTokens: 750 } })).toBeLessThanOrEqual(6000);
    // And it dropped no more than it had to: one more turn back would not fit.
    const oneMore = messages.slice(messages.length - middle.length - 2);
    expect(estimateInputTokens([...messages.slice(0, 3), ...oneMore], { lastUsage: { inputTokens: 0, outputTokens: 0, audioTokens: 750 } })).toBeGreaterThan(6000);
  });

  it("leaves room for a question not yet in the messages", () => {
    const messages = conversation(6, 400);
    const without = trimConversationToBudget(messages, { maxInputTokens: 6000, audioSeconds: 30 });
    const withRoom = trimConversationToBudget(messages, { maxInputTokens: 6000, audioSeconds: 30, reserveForQuestion: 1500 });
    expect(withRoom.length).toBeLessThan(without.length);
    expect(estimateInputTokens(withRoom, { audioSeconds: 30 })).toBeLessThanOrEqual(4500);
  });

  it("counts longer audio as more tokens, and so keeps fewer turns", () => {
    const messages = conversation(8, 400);
    const short = trimConversationToBudget(messages, { lastUsage: { inputTokens: 0, outputTokens: 0, audioTokens: 100 } });
    const long = trimConversationToBudget(messages, { lastUsage: { inputTokens: 0, outputTokens: 0, audioTokens: 2000 } });
    expect(long.length).toBeLessThan(short.length);
  });

  it("never drops the newest turn or the audio message, even when they alone are over budget", () => {
    const messages = [system, withAudio, assistant(words(3000, "analysis")), user(words(100, "q1")), assistant("a1"), user(words(4000, "q2"))];
    const trimmed = trimConversationToBudget(messages, { audioSeconds: 30 });
    expect(trimmed).toEqual([system, withAudio, messages[2], messages[5]]);
  });

  it("anchors on the first user message when no message holds audio", () => {
    const messages = [user(words(2000, "first")), assistant(words(2000, "a0")), user(words(2000, "q1")), assistant(words(2000, "a1")), user("q2")];
    const trimmed = trimConversationToBudget(messages, { maxInputTokens: 6000 });
    expect(trimmed).toEqual([messages[0], messages[1], messages[4]]);
  });
});
