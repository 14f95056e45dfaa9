import { describe, expect, it } from "vitest";
import { parseConfig, secretsOf } from "../../src/config.js";

const required = { DISCORD_TOKEN: "discord-token-value", DASHSCOPE_API_KEY: "sk-test-key" };

describe("parseConfig", () => {
  it("fills every default when only the two secrets are given", () => {
    const result = parseConfig(required);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.discordApiUrl).toBe("https://discord.com/api");
    expect(result.config.dashscopeBaseUrl).toBe("https://dashscope.aliyuncs.com/api/v1");
    expect(result.config.logLevel).toBe("info");
    expect(result.config.devGuildId).toBeUndefined();
  });

  it("gives up a silent song or analysis stream after 30 s by default, and reads other values in seconds", () => {
    const defaults = parseConfig(required);
    expect(defaults.ok && [defaults.config.musicStreamIdleMs, defaults.config.analysisStreamIdleMs]).toEqual([30_000, 30_000]);
    const set = parseConfig({ ...required, MUSIC_STREAM_IDLE_SECONDS: "45", ANALYSIS_STREAM_IDLE_SECONDS: "10" });
    expect(set.ok && [set.config.musicStreamIdleMs, set.config.analysisStreamIdleMs]).toEqual([45_000, 10_000]);
    const bad = parseConfig({ ...required, MUSIC_STREAM_IDLE_SECONDS: "0", ANALYSIS_STREAM_IDLE_SECONDS: "soon" });
    expect(bad.ok ? [] : bad.problems.join("\n")).toMatch(/MUSIC_STREAM_IDLE_SECONDS[\s\S]*ANALYSIS_STREAM_IDLE_SECONDS/);
  });

  it("lists every problem at once instead of stopping at the first", () => {
    const result = parseConfig({ DISCORD_API_URL: "not a url", DEV_GUILD_ID: "abc", LOG_LEVEL: "loud" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.problems.join("\n");
    for (const name of ["DISCORD_TOKEN", "DASHSCOPE_API_KEY", "DISCORD_API_URL", "DEV_GUILD_ID", "LOG_LEVEL"]) {
      expect(text).toContain(name);
    }
  });

  it("treats empty strings as unset so a blank .env line means the default", () => {
    const result = parseConfig({ ...required, DISCORD_API_URL: "", DEV_GUILD_ID: "  " });
    expect(result.ok && result.config.discordApiUrl).toBe("https://discord.com/api");
  });

  it("strips trailing slashes from base URLs so paths join cleanly", () => {
    const result = parseConfig({ ...required, DASHSCOPE_HTTP_BASE_URL: "http://127.0.0.1:9000/api/v1/" });
    expect(result.ok && result.config.dashscopeBaseUrl).toBe("http://127.0.0.1:9000/api/v1");
  });

  it("lists usage-ledger problems together with the others", () => {
    const result = parseConfig({ ...required, DATABASE_URL: "mysql://nope", QUOTA_USER_DAILY_SONGS: "many", OWNER_IDS: "123" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.problems.join("\n");
    expect(text).toMatch(/DATABASE_URL|mysql/);
    expect(text).toContain("QUOTA_USER_DAILY_SONGS");
    expect(text).toContain("OWNER_IDS");
  });

  it("reads bot owners as a set of ids and the ledger as an embedded SQLite file by default", () => {
    const result = parseConfig({ ...required, OWNER_IDS: "123456789012345678, 223456789012345678" });
    expect(result.ok && [...result.config.ownerIds]).toEqual(["123456789012345678", "223456789012345678"]);
    expect(result.ok && result.config.usage.database).toMatchObject({ dialect: "sqlite" });
  });

  it("counts a PostgreSQL password among the secrets the logs must never show", () => {
    const result = parseConfig({ ...required, DATABASE_URL: "postgres://bot:p%40ss-w0rd@db.internal:5432/dashtune" });
    expect(result.ok && secretsOf(result.config)).toEqual(["discord-token-value", "sk-test-key", "p%40ss-w0rd", "p@ss-w0rd"]);
  });

  it("refuses quota holds that would expire before the longest song call ends", () => {
    const result = parseConfig({ ...required, MUSIC_TIMEOUT_SECONDS: "900", QUOTA_RESERVATION_TTL_SECONDS: "600" });
    expect(result.ok ? [] : result.problems.join("\n")).toMatch(/QUOTA_RESERVATION_TTL_SECONDS must be at least/);
  });

  it("runs one process unless SHARD_COUNT asks for shards, and reads auto or a count", () => {
    const postgres = { ...required, DATABASE_URL: "postgres://bot@db:5432/dashtune" };
    const shardCountOf = (env: Record<string, string>) => {
      const result = parseConfig(env);
      return result.ok ? result.config.shardCount : result.problems.join("\n");
    };
    expect(shardCountOf(required)).toBe(1);
    expect(shardCountOf({ ...required, SHARD_COUNT: "" })).toBe(1);
    expect(shardCountOf({ ...required, SHARD_COUNT: "1" })).toBe(1);
    expect(shardCountOf({ ...postgres, SHARD_COUNT: "4" })).toBe(4);
    expect(shardCountOf({ ...postgres, SHARD_COUNT: "auto" })).toBe("auto");
    for (const bad of ["0", "-2", "2.5", "many"]) expect(shardCountOf({ ...postgres, SHARD_COUNT: bad })).toMatch(/SHARD_COUNT must be "auto" or a whole number/);
  });

  it("refuses shards on SQLite, saying PostgreSQL is needed, among the other problems", () => {
    for (const shards of ["2", "auto"]) {
      const result = parseConfig({ ...required, SHARD_COUNT: shards, MUSIC_TIMEOUT_SECONDS: "900", QUOTA_RESERVATION_TTL_SECONDS: "600" });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems).toHaveLength(2);
      expect(result.problems.join("\n")).toContain(`SHARD_COUNT=${shards} needs DATABASE_URL pointing at PostgreSQL`);
    }
    expect(parseConfig({ ...required, SHARD_COUNT: "2", DATABASE_URL: "sqlite:/tmp/x.sqlite" }).ok).toBe(false);
  });
});
