import type { APIEmbed } from "discord.js";
import { describe, expect, it } from "vitest";
import { discordLimits } from "../../src/discord/limits.js";
import { localTranslator } from "../../src/discord/router.js";
import { embedCharacterCount } from "../../src/discord/song/layout.js";
import {
  chartText,
  costValue,
  discordTimestamp,
  fitLines,
  formatCompact,
  formatCost,
  formatLimitValue,
  formatMegabytes,
  formatMusicDuration,
  limitsEmbed,
  memberUsageEmbed,
  usageReportEmbed,
  type Formatting,
  type UsageReportView,
} from "../../src/discord/usage/layout.js";
import { DEFAULT_QUOTA_SETTINGS, type QuotaStatus, type TopEntry, type UsageReport, type UsageTotals } from "../../src/usage/index.js";

const f: Formatting = { t: localTranslator("en-US"), locale: "en-US" };

/** Every limit Discord puts on one embed in one message. */
function expectWithinDiscordLimits(embed: APIEmbed): void {
  expect((embed.title ?? "").length).toBeLessThanOrEqual(discordLimits.embedTitle);
  expect((embed.description ?? "").length).toBeLessThanOrEqual(discordLimits.embedDescription);
  expect((embed.footer?.text ?? "").length).toBeLessThanOrEqual(discordLimits.embedFooterText);
  expect(embed.fields?.length ?? 0).toBeLessThanOrEqual(discordLimits.embedFields);
  for (const field of embed.fields ?? []) {
    expect(field.name.length).toBeGreaterThan(0);
    expect(field.name.length).toBeLessThanOrEqual(discordLimits.embedFieldName);
    expect(field.value.length).toBeGreaterThan(0);
    expect(field.value.length).toBeLessThanOrEqual(discordLimits.embedFieldValue);
  }
  expect(embedCharacterCount(embed)).toBeLessThanOrEqual(discordLimits.embedTotalCharacters);
}

function fieldValue(embed: APIEmbed, name: string): string {
  const found = embed.fields?.find((field) => field.name === name);
  if (!found) throw new Error(`no field ${name}; fields: ${embed.fields?.map((field) => field.name).join(", ")}`);
  return found.value;
}

function totals(overrides: Partial<UsageTotals> = {}): UsageTotals {
  return {
    calls: 0,
    failures: 0,
    musicSeconds: 0,
    inputTokens: 0,
    outputTokens: 0,
    audioTokens: 0,
    bytesDelivered: 0,
    estimatedCost: 0,
    ...overrides,
  };
}

function report(overrides: Partial<UsageReport> = {}): UsageReport {
  const song = totals({ calls: 12, failures: 2, musicSeconds: 3720, estimatedCost: 186 });
  const analysis = totals({ calls: 30, failures: 1, inputTokens: 2_000, outputTokens: 4_500, audioTokens: 30_100, estimatedCost: 0.77 });
  const followUp = totals({ calls: 8, inputTokens: 1_000, outputTokens: 800, audioTokens: 0, estimatedCost: 0.0046 });
  return {
    period: "30d",
    from: new Date("2025-05-17T00:00:00Z"),
    to: new Date("2025-06-15T12:00:00Z"),
    currency: "CNY",
    total: totals({
      calls: 50,
      failures: 3,
      musicSeconds: 3720,
      inputTokens: 3_000,
      outputTokens: 5_300,
      audioTokens: 30_100,
      estimatedCost: 186.7746,
    }),
    byFeature: { song, analysis, "follow-up": followUp },
    unpricedModels: [],
    ...overrides,
  };
}

function member(id: number, overrides: Partial<TopEntry> = {}): TopEntry {
  return { id: `2000000000000${String(id).padStart(5, "0")}`, calls: 10, failures: 0, musicSeconds: 600, estimatedCost: 30, ...overrides };
}

function view(overrides: Partial<UsageReportView> = {}): UsageReportView {
  return { kind: "server", report: report(), top: [member(1), member(2)], guildName: "Lofi Lounge", chartAttached: true, ...overrides };
}

describe("numbers, durations and money", () => {
  it("writes music time as seconds, minutes with seconds, or hours with minutes", () => {
    expect(formatMusicDuration(45, f)).toBe("45 s");
    expect(formatMusicDuration(45.4, f)).toBe("45 s");
    expect(formatMusicDuration(725, f)).toBe("12 min 05 s");
    expect(formatMusicDuration(1200, f)).toBe("20 min");
    expect(formatMusicDuration(3720, f)).toBe("1 h 02 min");
    expect(formatMusicDuration(36_000, f)).toBe("10 h");
    expect(formatMusicDuration(3_600_000, f)).toBe("1,000 h");
  });

  it("shortens large token counts and leaves small ones whole", () => {
    expect(formatCompact(950, "en-US")).toBe("950");
    expect(formatCompact(12_345, "en-US")).toBe("12.3K");
    expect(formatCompact(4_500_000, "en-US")).toBe("4.5M");
  });

  it("writes a cost with its currency code, keeping four decimals for amounts under one unit", () => {
    expect(formatCost(1.234, "CNY", "en-US")).toMatch(/^CNY\s1\.23$/);
    expect(formatCost(0.0045, "CNY", "en-US")).toMatch(/^CNY\s0\.0045$/);
    expect(formatCost(0, "USD", "en-US")).toMatch(/^USD\s0\.00$/);
    expect(formatCost(1234.5, "CNY", "en-US")).toMatch(/^CNY\s1,234\.50$/);
  });

  it("follows the user's Discord locale and falls back to English for one it doesn't know", () => {
    expect(formatCost(1.5, "CNY", "de")).toMatch(/1,50/);
    expect(formatCost(1.5, "CNY", "not a locale!")).toMatch(/^CNY\s1\.50$/);
    expect(formatCost(1.5, "CNY", undefined)).toMatch(/^CNY\s1\.50$/);
  });

  it("writes megabytes the way Discord counts its upload limits", () => {
    expect(formatMegabytes(10 * 1024 * 1024, "en-US")).toBe("10");
    expect(formatMegabytes(9.5 * 1024 * 1024, "en-US")).toBe("9.5");
  });

  it("makes relative Discord timestamps from whole seconds", () => {
    expect(discordTimestamp(new Date("2025-06-16T00:00:00.900Z"))).toBe("<t:1750032000:R>");
    expect(discordTimestamp(new Date("2025-06-16T00:00:00Z"), "dateTime")).toBe("<t:1750032000:f>");
  });
});

describe("lists within a length", () => {
  it("keeps lines while they fit and counts the rest in a last line", () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const text = fitLines(lines, 1000, (n) => `…and ${n} more`, 10);
    expect(text.split("\n")).toHaveLength(11);
    expect(text.endsWith("…and 10 more")).toBe(true);
  });

  it("never goes past its length, however long the lines", () => {
    const lines = Array.from({ length: 50 }, (_, i) => `${i}`.repeat(70));
    for (const max of [1, 20, 100, 1024]) {
      const text = fitLines(lines, max, (n) => `…and ${n} more`);
      expect(text.length).toBeLessThanOrEqual(max);
    }
    expect(fitLines(lines, 100, (n) => `…and ${n} more`)).toMatch(/…and 49 more$/);
  });
});

describe("the usage report embed", () => {
  it("shows totals per feature, music, tokens, the estimated cost and the failures", () => {
    const embed = usageReportEmbed(view(), f);
    expect(embed.title).toBe("Usage in Lofi Lounge · the last 30 days");
    expect(embed.description).toBe("Since <t:1747440000:f>.");
    expect(fieldValue(embed, "Songs")).toMatch(/^\*\*12\*\* calls\n1 h 02 min of music\nCNY\s186\.00$/);
    expect(fieldValue(embed, "Analyses")).toMatch(/^\*\*30\*\* calls\n36\.6K tokens\nCNY\s0\.77$/);
    expect(fieldValue(embed, "Follow-up questions")).toMatch(/^\*\*8\*\* calls\n1\.8K tokens\nCNY\s0\.0046$/);
    expect(fieldValue(embed, "Totals")).toBe("**50** calls · 1 h 02 min of music\nTokens: 3K input · 5.3K output · 30.1K audio");
    expect(fieldValue(embed, "Estimated cost")).toMatch(/^\*\*CNY\s186\.77\*\*$/);
    expect(fieldValue(embed, "Failures")).toBe("3 of 50 calls (6%)");
    expectWithinDiscordLimits(embed);
  });

  it("attaches the chart as the embed's image only when it was drawn", () => {
    expect(usageReportEmbed(view(), f).image).toEqual({ url: "attachment://usage.png" });
    expect(usageReportEmbed(view({ chartAttached: false }), f).image).toBeUndefined();
  });

  it("says no price is configured when no model used has one, instead of a cost of zero", () => {
    const unpriced = report({
      total: totals({ calls: 5, musicSeconds: 300 }),
      byFeature: { song: totals({ calls: 5, musicSeconds: 300 }), analysis: totals(), "follow-up": totals() },
      unpricedModels: ["fun-music-v2"],
    });
    const embed = usageReportEmbed(view({ report: unpriced, top: [member(1, { estimatedCost: 0 })] }), f);
    expect(fieldValue(embed, "Estimated cost")).toBe("No price configured for `fun-music-v2`, so there is no estimate.");
    // Without any price, costs are left out everywhere rather than shown as zero.
    expect(fieldValue(embed, "Songs")).not.toMatch(/CNY/);
    expect(fieldValue(embed, "Top members")).not.toMatch(/CNY/);
  });

  it("names the models its estimate leaves out when only some have a price", () => {
    const value = costValue(report({ unpricedModels: ["qwen-audio-next", "fun-music-v2"] }), f);
    expect(value).toMatch(/^\*\*CNY\s186\.77\*\*\nNot included, no price configured: `qwen-audio-next`, `fun-music-v2`$/);
  });

  it("lists the top error codes of failures when it has them", () => {
    const embed = usageReportEmbed(view({ failureCodes: [{ code: "Throttling.RateQuota", count: 2 }, { code: "Timeout", count: 1 }] }), f);
    expect(fieldValue(embed, "Failures")).toBe("3 of 50 calls (6%)\n`Throttling.RateQuota` × 2, `Timeout` × 1");
    expect(fieldValue(usageReportEmbed(view({ report: report({ total: totals({ calls: 4 }) }) }), f), "Failures")).toBe("None");
  });

  it("lists the top members as mentions, ten at most, and counts the others", () => {
    const top = Array.from({ length: 37 }, (_, i) => member(i + 1, { estimatedCost: 100 - i }));
    const value = fieldValue(usageReportEmbed(view({ top }), f), "Top members");
    const lines = value.split("\n");
    expect(lines).toHaveLength(11);
    expect(lines[0]).toMatch(/^1\. <@200000000000000001> · CNY\s100\.00 · \*\*10\*\* calls · 10 min$/);
    expect(lines[10]).toBe("…and 27 more");
  });

  it("says so when nobody used the bot in the period", () => {
    const empty = report({ total: totals(), byFeature: { song: totals(), analysis: totals(), "follow-up": totals() } });
    expect(fieldValue(usageReportEmbed(view({ report: empty, top: [] }), f), "Top members")).toBe("Nobody used the bot in this period.");
  });

  it("names the top servers for bot owners, escapes their names, and lists direct messages apart", () => {
    const top = [member(1, { id: "111" }), member(2, { id: "dm" }), member(3, { id: "333" })];
    const embed = usageReportEmbed(
      { kind: "all-servers", report: report({ period: "all", from: null }), top, guildNames: new Map([["111", "**Bold** [link](https://x.y)"]]), chartAttached: false },
      f,
    );
    expect(embed.title).toBe("Usage across all servers · all time");
    expect(embed.description).toBe("Everything recorded so far.");
    const lines = fieldValue(embed, "Top servers").split("\n");
    expect(lines[0]?.startsWith("1. **\\*\\*Bold\\*\\* \\[link](https://x.y)** (`111`) · ")).toBe(true);
    expect(lines[1]).toMatch(/^2\. Direct messages · /);
    expect(lines[2]).toMatch(/^3\. `333` · /);
  });

  it("stays within Discord's limits with huge names, many models without a price and long notes", () => {
    const names = new Map<string, string>();
    const top = Array.from({ length: 500 }, (_, i) => {
      names.set(String(i), "n".repeat(1000));
      return member(i, { id: String(i), calls: 123_456_789, musicSeconds: 9_999_999, estimatedCost: 99_999_999 });
    });
    const embed = usageReportEmbed(
      {
        kind: "all-servers",
        report: report({ unpricedModels: Array.from({ length: 200 }, (_, i) => `model-with-a-long-name-${i}`) }),
        top,
        guildNames: names,
        failureCodes: Array.from({ length: 50 }, (_, i) => ({ code: `E${"x".repeat(200)}${i}`, count: i })),
        chartAttached: true,
        notes: ["a note ".repeat(1000)],
      },
      f,
    );
    expectWithinDiscordLimits(embed);
    expect(fieldValue(embed, "Top servers")).toMatch(/…and \d+ more$/);
  });
});

describe("a member's own usage", () => {
  const now = new Date("2025-06-15T12:00:00Z");
  const quota: QuotaStatus = {
    settings: DEFAULT_QUOTA_SETTINGS,
    member: {
      songs: { used: 3, limit: 10, remaining: 7 },
      musicSeconds: { used: 480, limit: 1200, remaining: 720 },
      analyses: { used: 2, limit: null, remaining: null },
      resetsAt: new Date("2025-06-16T00:00:00Z"),
    },
    guild: {
      musicSeconds: { used: 1800, limit: 36_000, remaining: 34_200 },
      cost: { used: 12, limit: null, remaining: null },
      currency: "CNY",
      resetsAt: new Date("2025-07-01T00:00:00Z"),
    },
    nextSongAt: new Date(now.getTime() + 45_000),
  };
  const usage = report({ period: "today", from: new Date("2025-06-15T00:00:00Z") });

  it("shows what is left today and this month, with when each resets as a Discord timestamp", () => {
    const embed = memberUsageEmbed({ usage, quota }, f);
    expect(embed.title).toBe("Your usage · today");
    expect(fieldValue(embed, "Left today").split("\n")).toEqual([
      "Songs: **7** of 10 left",
      "Music: **12 min** of 20 min left",
      "Analyses and follow-ups: no limit (2 used)",
      "Resets <t:1750032000:R>.",
      "Your next song can start <t:1749988845:R>.",
    ]);
    expect(fieldValue(embed, "This server this month").split("\n")).toEqual(["Music: **9 h 30 min** of 10 h left", "Resets <t:1751328000:R>."]);
    expectWithinDiscordLimits(embed);
  });

  it("leaves costs out of a member's own figures, but shows the server's cost budget when there is one", () => {
    const embed = memberUsageEmbed({ usage, quota: { ...quota, guild: { ...quota.guild, cost: { used: 12, limit: 50, remaining: 38 } } } }, f);
    expect(fieldValue(embed, "Songs")).not.toMatch(/CNY/);
    expect(fieldValue(embed, "This server this month")).toMatch(/Estimated cost: \*\*CNY\s38\.00\*\* of CNY\s50\.00 left/);
  });

  it("mentions no cooldown when the next song may start now", () => {
    const embed = memberUsageEmbed({ usage, quota: { ...quota, nextSongAt: null } }, f);
    expect(fieldValue(embed, "Left today")).not.toMatch(/next song/);
  });
});

describe("the limits embed", () => {
  it("shows each limit in words, and which are defaults and which this server set", () => {
    const embed = limitsEmbed(
      { effective: { ...DEFAULT_QUOTA_SETTINGS, userDailySongs: 5, guildMonthlyCost: 50 }, overrides: { userDailySongs: 5, guildMonthlyCost: 50 } },
      DEFAULT_QUOTA_SETTINGS,
      "CNY",
      f,
    );
    expect(embed.fields?.map((field) => [field.name, field.value])).toEqual([
      ["Songs per member per day", "**5 songs**\nSet for this server (default: 10 songs)"],
      ["Music per member per day", "**20 min (1,200 s)**\nDefault"],
      ["Analyses per member per day", "**30 analyses**\nDefault"],
      ["Music per server per month", "**10 h (36,000 s)**\nDefault"],
      [expect.stringMatching(/^Cost budget/), expect.stringMatching(/^\*\*CNY\s50\.00\*\*\nSet for this server \(default: Unlimited\)$/)],
      ["Cooldown between a member's songs", "**1 min**\nDefault"],
    ]);
    expectWithinDiscordLimits(embed);
  });

  it("writes a limit's value for what it counts", () => {
    expect(formatLimitValue("userDailySongs", 1, "CNY", f)).toBe("1 song");
    expect(formatLimitValue("userDailyAnalyses", null, "CNY", f)).toBe("Unlimited");
    expect(formatLimitValue("userDailyMusicSeconds", 30, "CNY", f)).toBe("30 s");
    expect(formatLimitValue("songCooldownSeconds", 0, "CNY", f)).toBe("No cooldown");
    expect(formatLimitValue("songCooldownSeconds", 90, "CNY", f)).toBe("1 min 30 s");
  });
});

describe("the chart's words", () => {
  it("come from the message catalog, with the period in the title", () => {
    const { title, labels } = chartText("7d", f.t);
    expect(title).toBe("Daily usage · the last 7 days (UTC)");
    expect(labels.noUsage).toBe("No usage in this period");
  });
});
