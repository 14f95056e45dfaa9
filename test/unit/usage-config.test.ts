import { describe, expect, it } from "vitest";
import {
  DEFAULT_QUOTA_SETTINGS,
  DEFAULT_RESERVATION_TTL_MS,
  EXAMPLE_PRICES,
  parseUsageConfig,
  periodRange,
  resolveDatabaseTarget,
} from "../../src/usage/index.js";

describe("resolveDatabaseTarget", () => {
  it("uses an embedded SQLite file under ./data/ when DATABASE_URL is empty", () => {
    expect(resolveDatabaseTarget(undefined)).toEqual({ dialect: "sqlite", path: "./data/dashtune.sqlite" });
    expect(resolveDatabaseTarget("")).toEqual({ dialect: "sqlite", path: "./data/dashtune.sqlite" });
  });

  it("uses PostgreSQL for a postgres:// or postgresql:// URL", () => {
    expect(resolveDatabaseTarget("postgres://bot@db:5432/dashtune")).toEqual({
      dialect: "postgres",
      connectionString: "postgres://bot@db:5432/dashtune",
    });
    expect(resolveDatabaseTarget("postgresql://db/x").dialect).toBe("postgres");
  });

  it("accepts another SQLite file as sqlite:<path>", () => {
    expect(resolveDatabaseTarget("sqlite:/var/lib/dashtune/usage.db")).toEqual({ dialect: "sqlite", path: "/var/lib/dashtune/usage.db" });
    expect(resolveDatabaseTarget("sqlite::memory:")).toEqual({ dialect: "sqlite", path: ":memory:" });
  });

  it("refuses anything else and names the accepted forms", () => {
    expect(() => resolveDatabaseTarget("mysql://db/x")).toThrow(/postgres:\/\/…, or sqlite:<path>/);
  });
});

describe("parseUsageConfig", () => {
  it("falls back to the documented defaults when nothing is set", () => {
    expect(parseUsageConfig({})).toEqual({
      ok: true,
      config: {
        database: { dialect: "sqlite", path: "./data/dashtune.sqlite" },
        prices: EXAMPLE_PRICES,
        quotaDefaults: DEFAULT_QUOTA_SETTINGS,
        reservationTtlMs: DEFAULT_RESERVATION_TTL_MS,
      },
    });
  });

  it("reads every quota default, with unlimited meaning no limit and empty meaning the default", () => {
    const result = parseUsageConfig({
      QUOTA_USER_DAILY_SONGS: "3",
      QUOTA_USER_DAILY_MUSIC_SECONDS: "unlimited",
      QUOTA_USER_DAILY_ANALYSES: "",
      QUOTA_GUILD_MONTHLY_MUSIC_SECONDS: "7200",
      QUOTA_GUILD_MONTHLY_COST: "150.5",
      QUOTA_SONG_COOLDOWN_SECONDS: "0",
      QUOTA_RESERVATION_TTL_SECONDS: "900",
    });

    expect(result).toMatchObject({
      ok: true,
      config: {
        quotaDefaults: {
          userDailySongs: 3,
          userDailyMusicSeconds: null,
          userDailyAnalyses: DEFAULT_QUOTA_SETTINGS.userDailyAnalyses,
          guildMonthlyMusicSeconds: 7200,
          guildMonthlyCost: 150.5,
          songCooldownSeconds: 0,
        },
        reservationTtlMs: 900_000,
      },
    });
  });

  it("lists every problem at once", () => {
    const result = parseUsageConfig({
      DATABASE_URL: "mongodb://x",
      PRICES_JSON: "{",
      QUOTA_USER_DAILY_SONGS: "2.5",
      QUOTA_GUILD_MONTHLY_COST: "-1",
      QUOTA_SONG_COOLDOWN_SECONDS: "soon",
    });

    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toHaveLength(5);
    expect(problems.join("\n")).toMatch(/DATABASE_URL/);
    expect(problems.join("\n")).toMatch(/PRICES_JSON/);
    expect(problems.join("\n")).toMatch(/QUOTA_USER_DAILY_SONGS/);
    expect(problems.join("\n")).toMatch(/QUOTA_GUILD_MONTHLY_COST/);
    expect(problems.join("\n")).toMatch(/QUOTA_SONG_COOLDOWN_SECONDS/);
  });
});

describe("periodRange", () => {
  const now = new Date("2025-03-01T05:30:00Z");

  it("starts today at 00:00 UTC", () => {
    expect(periodRange("today", now)).toEqual({ from: new Date("2025-03-01T00:00:00Z"), to: now });
  });

  it("counts 7 and 30 days including today", () => {
    expect(periodRange("7d", now).from).toEqual(new Date("2025-02-23T00:00:00Z"));
    expect(periodRange("30d", now).from).toEqual(new Date("2025-01-31T00:00:00Z"));
  });

  it("starts this month on the 1st and all time at the beginning", () => {
    expect(periodRange("month", new Date("2025-02-28T23:59:59Z")).from).toEqual(new Date("2025-02-01T00:00:00Z"));
    expect(periodRange("all", now).from).toBeNull();
  });
});
