import { describe, expect, it } from "vitest";
import { EXAMPLE_PRICES, estimateCost, parsePrices, type PriceTable } from "../../src/usage/index.js";

const prices: PriceTable = {
  currency: "USD",
  models: {
    "fun-music-v1": { perMusicSecond: 0.02, perThousandInputTokens: 0, perThousandOutputTokens: 0, perThousandAudioTokens: 0 },
    "qwen-audio-turbo": { perMusicSecond: 0, perThousandInputTokens: 0.5, perThousandOutputTokens: 1.5, perThousandAudioTokens: 4 },
  },
};

const usage = { musicSeconds: 0, inputTokens: 0, outputTokens: 0, audioTokens: 0 };

describe("estimateCost", () => {
  it("prices music by the second", () => {
    expect(estimateCost({ ...usage, model: "fun-music-v1", musicSeconds: 150 }, prices)).toBeCloseTo(3);
  });

  it("prices input, output and audio tokens per thousand", () => {
    const cost = estimateCost({ ...usage, model: "qwen-audio-turbo", inputTokens: 2000, outputTokens: 1000, audioTokens: 500 }, prices);

    expect(cost).toBeCloseTo(1 + 1.5 + 2);
  });

  it("says a model without a price has no estimate rather than a cost of zero", () => {
    expect(estimateCost({ ...usage, model: "qwen-omni-turbo", inputTokens: 1000 }, prices)).toBeUndefined();
  });
});

describe("parsePrices", () => {
  it("uses the example prices when PRICES_JSON is unset or empty", () => {
    expect(parsePrices(undefined)).toEqual({ ok: true, prices: EXAMPLE_PRICES });
    expect(parsePrices("  ")).toEqual({ ok: true, prices: EXAMPLE_PRICES });
  });

  it("reads a currency and per-model prices, with absent rates meaning zero", () => {
    const result = parsePrices('{"currency":"USD","models":{"fun-music-v1":{"perMusicSecond":0.02}}}');

    expect(result).toEqual({
      ok: true,
      prices: {
        currency: "USD",
        models: {
          "fun-music-v1": { perMusicSecond: 0.02, perThousandInputTokens: 0, perThousandOutputTokens: 0, perThousandAudioTokens: 0 },
        },
      },
    });
  });

  it("says when PRICES_JSON is not JSON at all", () => {
    const result = parsePrices("{currency: CNY}");

    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems[0]).toMatch(/^PRICES_JSON is not valid JSON/);
  });

  it("lists every problem at once, each with its path", () => {
    const result = parsePrices('{"currency":"yuan","models":{"fun-music-v1":{"perMusicSecond":-1,"perSong":3}}}');

    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toHaveLength(3);
    expect(problems.some((p) => p.startsWith("PRICES_JSON.currency"))).toBe(true);
    expect(problems.some((p) => p.startsWith("PRICES_JSON.models.fun-music-v1.perMusicSecond"))).toBe(true);
    expect(problems.some((p) => p.includes("perSong"))).toBe(true);
  });

  it("marks its defaults as examples by pricing every model the bot uses", () => {
    expect(Object.keys(EXAMPLE_PRICES.models)).toEqual(
      expect.arrayContaining(["fun-music-v1", "fun-music-preview", "qwen-audio-turbo"]),
    );
  });
});
