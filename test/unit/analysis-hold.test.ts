import { afterEach, describe, expect, it } from "vitest";
import { analysisTokenHold, partsOf } from "../../src/jobs/analysis-job.js";
import { DEFAULT_QUOTA_SETTINGS, openUsageStore, reserve, type UsageStore } from "../../src/usage/index.js";

const GUILD = "100000000000000001";
const MODEL = "qwen-audio-turbo";
const prices = {
  currency: "CNY",
  models: { [MODEL]: { perMusicSecond: 0, perThousandInputTokens: 1, perThousandOutputTokens: 2, perThousandAudioTokens: 10 } },
};

describe("an analysis's hold against a cost budget", () => {
  let store: UsageStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it("counts one part per 30 s, at most the configured parts, and all of them when the length is unknown", () => {
    expect(partsOf(12, 10)).toBe(1);
    expect(partsOf(75, 10)).toBe(3);
    expect(partsOf(3600, 10)).toBe(10);
    expect(partsOf(null, 10)).toBe(10);
  });

  it("holds every part at the input budget and the answer cap, so analyses in flight can't overshoot the budget", async () => {
    // One part at most: 5,250 text + 750 audio tokens in, 1,500 out = 5.25 + 7.5 + 3 = 15.75 CNY.
    expect(analysisTokenHold(1)).toEqual({ input: 5250, output: 1500, audio: 750 });
    store = await openUsageStore({
      target: { dialect: "sqlite", path: ":memory:" },
      prices,
      quotaDefaults: { ...DEFAULT_QUOTA_SETTINGS, userDailyAnalyses: null, guildMonthlyCost: 40 },
    });
    const ask = (userId: string) => reserve(store!, { guildId: GUILD, userId, feature: "analysis", model: MODEL, estimatedTokens: analysisTokenHold(1) });
    expect(await ask("200000000000000001")).toMatchObject({ ok: true });
    expect(await ask("200000000000000002")).toMatchObject({ ok: true });
    // A third would hold 47.25 of a 40 budget: refused while the first two are still in flight.
    expect(await ask("200000000000000003")).toMatchObject({ ok: false, limit: "guild-monthly-cost", pending: true });
  });
});
