import { describe, expect, it } from "vitest";
import { mergePieceAnswers, parseAnswerSections } from "../../src/analysis/answer-sections.js";
import { askPieces } from "../../src/analysis/ask-pieces.js";
import { createMemoryConversationStore, type AnalysisConversation, type AnalysisPiece } from "../../src/analysis/conversations.js";
import { modelReadsAsIs } from "../../src/analysis/prepare.js";
import { languageOfLocale } from "../../src/analysis/prompts.js";
import { audioSourcesOf, isAudioAttachment } from "../../src/analysis/sources.js";
import type { AskQwenAudioOptions } from "../../src/dashscope/audio-types.js";
import { DashScopeError } from "../../src/dashscope/errors.js";
import { mapWithConcurrency } from "../../src/jobs/map-with-concurrency.js";

describe("answer sections", () => {
  it("keeps the time range when only one part of a split recording was answered", () => {
    expect(mergePieceAnswers([{ startSeconds: 30, endSeconds: 45, text: "Transcript: second half" }], { split: true })).toEqual({ Transcript: "[0:30–0:45] second half" });
  });

  it("reads labelled lines, including multi-line values and bold labels", () => {
    const text = "Summary: A short voice note.\nTranscript: Hello there.\nHow are you?\n**Speaker:** an adult woman\nMusic: none";
    expect(parseAnswerSections(text)).toEqual({ Summary: "A short voice note.", Transcript: "Hello there.\nHow are you?", Speaker: "an adult woman" });
  });

  it("keeps an answer without labels whole, as the summary", () => {
    expect(parseAnswerSections("It is a dog barking twice.")).toEqual({ Summary: "It is a dog barking twice." });
  });

  it("merges the answers of split audio with each part's time range", () => {
    const merged = mergePieceAnswers([
      { startSeconds: 0, endSeconds: 30, text: "Transcript: first part" },
      { startSeconds: 30, endSeconds: 61.4, text: "Transcript: second part\nSounds: rain" },
    ], { split: true });
    expect(merged).toEqual({ Transcript: "[0:00–0:30] first part\n[0:30–1:01] second part", Sounds: "[0:30–1:01] rain" });
  });
});

describe("audio sources", () => {
  it("finds voice messages and audio or small video attachments, by type first and name second", () => {
    expect(isAudioAttachment({ name: "voice-message.ogg", contentType: "audio/ogg" })).toBe(true);
    expect(isAudioAttachment({ name: "clip.mp4", contentType: "video/mp4" })).toBe(true);
    expect(isAudioAttachment({ name: "memo.m4a", contentType: null })).toBe(true);
    expect(isAudioAttachment({ name: "song.mp3", contentType: "image/png" })).toBe(false);
    expect(isAudioAttachment({ name: "notes.txt", contentType: "text/plain" })).toBe(false);
  });

  it("marks only the first attachment of a voice message as the voice message", () => {
    const sources = audioSourcesOf({
      isVoiceMessage: true,
      attachments: [
        { name: "voice-message.ogg", url: "https://cdn.discordapp.com/a.ogg", contentType: "audio/ogg", size: 9000, duration: 3.2 },
        { name: "picture.png", url: "https://cdn.discordapp.com/p.png", contentType: "image/png", size: 1, duration: null },
      ],
    });
    expect(sources).toEqual([{ name: "voice-message.ogg", url: "https://cdn.discordapp.com/a.ogg", contentType: "audio/ogg", sizeBytes: 9000, durationSeconds: 3.2, isVoiceMessage: true }]);
  });
});

describe("which audio the model reads as it is", () => {
  const probe = (format: string, codec: string, hasVideo = false) => ({ format, codec, hasVideo, durationSeconds: 5, sampleRate: 16000, channels: 1, bitRate: 64000, sizeBytes: 1000 });
  it.each([
    ["mp3", "mp3", true],
    ["wav", "pcm_s16le", true],
    ["wav", "gsm_ms", true],
    ["amr", "amr_nb", true],
    ["aac", "aac", true],
    ["mov,mp4,m4a,3gp,3g2,mj2", "amr_nb", false],
    ["ogg", "opus", false],
    ["flac", "flac", false],
    ["mov,mp4,m4a,3gp,3g2,mj2", "aac", false],
    ["wav", "adpcm_ima_wav", false],
  ])("%s/%s → %s", (format, codec, expected) => {
    expect(modelReadsAsIs(probe(format, codec))).toBe(expected);
  });
});

describe("asking every part", () => {
  const piece = (start: number, end: number): AnalysisPiece => ({ startSeconds: start, endSeconds: end, audioUrl: `oss://dir/${start}.mp3`, history: [], lastUsage: undefined });
  const deps = (ask: (options: AskQwenAudioOptions) => Promise<{ text: string }>) => ({
    ask: async (options: AskQwenAudioOptions) => ({ ...(await ask(options)), finishReason: "stop", usage: { inputTokens: 100, outputTokens: 10, audioTokens: 50 }, requestId: "r" }),
    fitToBudget: (messages: AskQwenAudioOptions["messages"]) => messages,
    model: "qwen2-audio-instruct",
    concurrency: 2,
    timeoutMs: 1000,
  });

  it("sends the audio once, then continues each part's conversation on follow-ups", async () => {
    const pieces = [piece(0, 30), piece(30, 45)];
    const sent: AskQwenAudioOptions[] = [];
    const d = deps(async (options) => (sent.push(options), { text: `Summary: turn ${sent.length}` }));
    const first = await askPieces(pieces, { kind: "overview" }, "English", d);
    expect(first.usage).toEqual({ inputTokens: 200, outputTokens: 20, audioTokens: 100 });
    await askPieces(pieces, { kind: "ask", question: "Is it raining?" }, "English", d);
    const followUp = sent.find((options) => options.messages.length === 4 && JSON.stringify(options.messages).includes("oss://dir/30.mp3"));
    expect(followUp?.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(followUp?.messages[3]?.content).toEqual([{ text: "Is it raining?" }]);
    expect(pieces[1]?.history).toHaveLength(5);
  });

  it("keeps the parts that were answered when another part fails, and names the failed range", async () => {
    const pieces = [piece(0, 30), piece(30, 60)];
    const d = deps(async (options) => {
      if (JSON.stringify(options.messages).includes("/30.mp3")) throw new DashScopeError({ code: "InternalError", status: 500, message: "x", endpoint: "/e" });
      return { text: "Summary: ok" };
    });
    const result = await askPieces(pieces, { kind: "overview" }, "English", d);
    expect(result.answers).toHaveLength(1);
    expect(result.failed.map((f) => f.startSeconds)).toEqual([30]);
  });

  it("returns every failure, with its timing, when no part could be answered", async () => {
    const error = new DashScopeError({ code: "InvalidApiKey", status: 401, message: "x", endpoint: "/e" });
    const result = await askPieces([piece(0, 5)], { kind: "overview" }, "English", deps(async () => Promise.reject(error)));
    expect(result.answers).toEqual([]);
    expect(result.failed).toEqual([{ startSeconds: 0, endSeconds: 5, error, occurredAt: expect.any(Date), latencyMs: expect.any(Number) }]);
  });
});

describe("supporting pieces", () => {
  it("runs at most `limit` jobs at once and keeps results in order", async () => {
    let running = 0;
    let peak = 0;
    const results = await mapWithConcurrency([30, 10, 20, 5], 2, async (ms) => {
      peak = Math.max(peak, ++running);
      await new Promise((resolve) => setTimeout(resolve, ms));
      running--;
      return ms;
    });
    expect(peak).toBe(2);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : undefined))).toEqual([30, 10, 20, 5]);
  });

  it("forgets a conversation once its audio links would have expired", async () => {
    let now = 0;
    const store = createMemoryConversationStore({ maxConversations: 10, ttlMs: 1000, now: () => now });
    await store.save({ id: "abcdefgh", createdAt: new Date(0) } as AnalysisConversation);
    expect(await store.get("abcdefgh")).toBeDefined();
    now = 1001;
    expect(await store.get("abcdefgh")).toBeUndefined();
  });

  it("answers in the language of the user's Discord locale", () => {
    expect(languageOfLocale("ja")).toBe("Japanese");
    expect(languageOfLocale("zh-CN")).toBe("Simplified Chinese");
    expect(languageOfLocale(undefined)).toBe("English");
  });
});
