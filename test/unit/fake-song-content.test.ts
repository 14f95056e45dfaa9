import { describe, expect, it, vi } from "vitest";
import { SAMPLE_RATE, CHANNELS, makeSongAudio } from "../fakes/dashscope/audio-maker.js";
import { lyricsForResponse } from "../fakes/dashscope/lyrics-writer.js";

/* What the fake's songs hold: lyrics about the prompt, and audio that has a beat and a tune. */

describe("the fake's lyrics for a prompt", () => {
  const prompt = "Fresh summer folk song, acoustic guitar and harmonica, upbeat";

  it("work the prompt's words into a tagged verse and chorus, leaving out filler words", () => {
    const lyrics = lyricsForResponse("prompt", prompt, "english");
    expect(lyrics).toMatch(/^\[verse\]\n(.+\n){4}\n\[chorus\]\n(.+\n){3}.+$/);
    for (const word of ["fresh", "summer", "folk", "acoustic", "guitar", "harmonica", "upbeat"]) expect(lyrics.toLowerCase()).toContain(word);
    // Filler words are not worked in: the first slot goes to the first real word.
    expect(lyricsForResponse("prompt", "a song with the and of jazz", "english")).toContain("Woke up with jazz on my mind,");
  });

  it("are the same for the same prompt and different for another", () => {
    expect(lyricsForResponse("prompt", prompt, "english")).toBe(lyricsForResponse("prompt", prompt, "english"));
    expect(lyricsForResponse("prompt", "late night jazz in the rain", "english")).not.toBe(lyricsForResponse("prompt", prompt, "english"));
  });

  it("use a Chinese prompt's phrases", () => {
    const lyrics = lyricsForResponse("prompt", "轻快的夏日民谣，木吉他和口琴", "chinese");
    for (const phrase of ["轻快", "夏日民谣", "木吉他", "口琴"]) expect(lyrics).toContain(phrase);
  });

  it("top a one-word prompt up with stock words instead of repeating it on every line", () => {
    const lyrics = lyricsForResponse("prompt", "jazz", "english");
    expect(lyrics).toContain("jazz");
    expect(lyrics.match(/jazz/gi)?.length).toBeLessThanOrEqual(3);
  });
});

/** RMS of the left channel in windows of `windowSeconds`. */
function loudness(pcm: Buffer, windowSeconds: number): number[] {
  const frameBytes = CHANNELS * 2;
  const windowFrames = Math.round(windowSeconds * SAMPLE_RATE);
  const result: number[] = [];
  for (let start = 0; start + windowFrames * frameBytes <= pcm.length; start += windowFrames * frameBytes) {
    let sum = 0;
    for (let frame = 0; frame < windowFrames; frame += 1) sum += pcm.readInt16LE(start + frame * frameBytes) ** 2;
    result.push(Math.sqrt(sum / windowFrames));
  }
  return result;
}

function correlation(series: number[], lag: number): number {
  const mean = series.reduce((a, b) => a + b, 0) / series.length;
  let numerator = 0;
  let denominator = 0;
  for (let i = 0; i < series.length; i += 1) {
    denominator += ((series[i] ?? 0) - mean) ** 2;
    if (i + lag < series.length) numerator += ((series[i] ?? 0) - mean) * ((series[i + lag] ?? 0) - mean);
  }
  return numerator / denominator;
}

describe("the fake's song audio", () => {
  it("has a beat: its loudness repeats every second (the kick on beats 1 and 3 at 120 bpm), not at other spacings", async () => {
    const song = await makeSongAudio({ seconds: 8, format: "wav", watermark: false, gender: "female" });
    const envelope = loudness(song.bytes.subarray(44), 0.05);
    // 20 windows of 50 ms = two beats; 7 and 13 windows fall between kicks.
    expect(correlation(envelope, 20)).toBeGreaterThan(0.5);
    expect(correlation(envelope, 20)).toBeGreaterThan(correlation(envelope, 7) + 0.3);
    expect(correlation(envelope, 20)).toBeGreaterThan(correlation(envelope, 13) + 0.3);
  });

  it("is not a steady tone: loud and quiet moments, and a melody that enters after the intro bar", async () => {
    const song = await makeSongAudio({ seconds: 8, format: "wav", watermark: false, gender: "male" });
    const envelope = loudness(song.bytes.subarray(44), 0.05);
    const mean = envelope.reduce((a, b) => a + b, 0) / envelope.length;
    const spread = Math.sqrt(envelope.reduce((a, b) => a + (b - mean) ** 2, 0) / envelope.length);
    expect(spread / mean).toBeGreaterThan(0.3);
    const bar = (n: number) => loudness(song.bytes.subarray(44), 2)[n] ?? 0;
    expect(bar(1)).toBeGreaterThan(bar(0) * 1.1);
  });

  it("is the same bytes every time it is made, even in a fresh process", async () => {
    const spec = { seconds: 3, format: "wav", watermark: true, gender: "female" } as const;
    const first = await makeSongAudio(spec);
    vi.resetModules();
    const fresh = (await import("../fakes/dashscope/audio-maker.js")) as typeof import("../fakes/dashscope/audio-maker.js");
    const second = await fresh.makeSongAudio(spec);
    expect(second.bytes).not.toBe(first.bytes);
    expect(second.bytes.equals(first.bytes)).toBe(true);
  });
});
