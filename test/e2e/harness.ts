import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { InteractionResponseType, MessageFlags } from "discord.js";
import { expect } from "vitest";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startBot, type RunningBot } from "../../src/main.js";
import { startFakeDashScope, type FakeDashScope } from "../fakes/dashscope/index.js";
import { startFakeDiscord, type FakeDiscord, type InteractionHandle } from "../fakes/discord/index.js";

export type Sandbox = {
  discord: FakeDiscord;
  dashscope: FakeDashScope;
  bot: RunningBot;
  /** Every JSON log line the bot wrote, raw, so tests can check both content and secrecy. */
  logLines: string[];
  guildId: string;
  /** Stops the bot and starts a new one on the same settings and database, as a restart would. */
  restartBot(): Promise<void>;
  /** Starts a new bot on the same settings and database, once the previous one stopped or died. */
  startBot(): Promise<void>;
  /** The environment the bot runs with: a bot in a child process runs on the same database. */
  env: Record<string, string>;
  close(): Promise<void>;
};

/**
 * Starts both fakes and the real bot (the same `startBot` that `npm start` runs) wired to them.
 * Used by the end-to-end tests and by `npm run sandbox`.
 */
export async function startSandbox(options: {
  discord?: Parameters<typeof startFakeDiscord>[0];
  dashscope?: Parameters<typeof startFakeDashScope>[0];
  env?: Record<string, string>;
  progressIntervalMs?: number;
  echoLogs?: boolean;
} = {}): Promise<Sandbox> {
  const discord = await startFakeDiscord(options.discord);
  // Refusing audio over 30 s (rather than hearing only its start, as Model Studio's docs describe)
  // makes any piece the bot sends over the seed's limit fail loudly.
  const dashscope = await startFakeDashScope({ overlongAudio: "refuse", ...options.dashscope });
  const guildId = discord.guilds[0]?.id;
  if (!guildId) throw new Error("the fake Discord has no guild");

  // Each sandbox keeps its own ledger file, so tests never share (or leave behind) a database.
  const dataDir = await mkdtemp(join(tmpdir(), "dashtune-sandbox-"));
  const env = sandboxEnv(discord, dashscope, join(dataDir, "ledger.sqlite"), options.env);
  const parsed = parseConfig(env);
  if (!parsed.ok) throw new Error(`sandbox config invalid: ${parsed.problems.join("; ")}`);
  // Faster than any operator may set, so tests see several progress edits in a short song.
  const config = { ...parsed.config, progressIntervalMs: options.progressIntervalMs ?? 200 };

  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      const line = String(chunk);
      logLines.push(line);
      if (options.echoLogs) process.stdout.write(line);
      callback();
    },
  });
  const logger = createLogger({ level: config.logLevel, secrets: [config.discordToken, config.dashscopeApiKey], destination });

  let bot: RunningBot;
  try {
    bot = await startBot(config, logger);
  } catch (error) {
    await Promise.allSettled([discord.close(), dashscope.close()]);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  const sandbox: Sandbox = {
    discord,
    dashscope,
    bot,
    logLines,
    guildId,
    async restartBot() {
      await sandbox.bot.stop(2_000);
      sandbox.bot = await startBot(config, logger);
    },
    async startBot() {
      sandbox.bot = await startBot(config, logger);
    },
    env,
    async close() {
      await sandbox.bot.stop(2_000);
      await Promise.allSettled([discord.close(), dashscope.close()]);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return sandbox;
}

/**
 * The environment a sandbox bot runs with: the fakes' addresses and secrets, its own SQLite file,
 * quotas off unless a test sets them (so tests about other things never trip a limit).
 */
export function sandboxEnv(discord: FakeDiscord, dashscope: FakeDashScope, sqlitePath: string, overrides: Record<string, string> = {}): Record<string, string> {
  const guildId = discord.guilds[0]?.id;
  if (!guildId) throw new Error("the fake Discord has no guild");
  return {
    DATABASE_URL: `sqlite:${sqlitePath}`,
    QUOTA_SONG_COOLDOWN_SECONDS: "0",
    QUOTA_USER_DAILY_SONGS: "unlimited",
    QUOTA_USER_DAILY_MUSIC_SECONDS: "unlimited",
    QUOTA_USER_DAILY_ANALYSES: "unlimited",
    QUOTA_GUILD_MONTHLY_MUSIC_SECONDS: "unlimited",
    DISCORD_TOKEN: discord.token,
    DASHSCOPE_API_KEY: dashscope.apiKey,
    DISCORD_API_URL: discord.restUrl,
    DASHSCOPE_HTTP_BASE_URL: dashscope.baseUrl,
    DEV_GUILD_ID: guildId,
    LOG_LEVEL: "debug",
    ...overrides,
  };
}

/**
 * The text of a refusal or a failure, which the bot always says privately: an ephemeral reply; or,
 * after a public acknowledgement, an ephemeral follow-up with the public placeholder removed (never
 * left behind, never turned into the error); or the private reply itself, edited.
 */
export async function privateReply(handle: InteractionHandle, timeoutMs = 20_000): Promise<string> {
  const response = await handle.response();
  const flags = (response.data as { flags?: number } | undefined)?.flags ?? 0;
  if (response.type === InteractionResponseType.ChannelMessageWithSource) {
    expect(flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    return (response.data as { content?: string }).content ?? "";
  }
  if (flags & MessageFlags.Ephemeral) {
    // Progress edits ("🎧 …", "⏳ …") may come first; the failure replaces them.
    return (await handle.waitForOriginal((m) => !m.loading && !/^(🎧|⏳|🎼)/u.test(m.content), timeoutMs)).content;
  }
  const followup = await handle.waitForFollowup((m) => m.ephemeral, timeoutMs);
  expect(handle.originalDeleted).toBe(true);
  return followup.content;
}

/**
 * Waits until a request's job row is written. The bot acknowledges before any database work, so a
 * test that sends a second request behind a first one waits for this, not for the acknowledgement.
 */
export async function waitUntilAccepted(sandbox: Sandbox, handle: InteractionHandle, timeoutMs = 10_000): Promise<void> {
  await handle.response();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await sandbox.bot.usageStore.db.selectFrom("bot_jobs").select("id").where("interaction_id", "=", handle.id).executeTakeFirst();
    if (row) return;
    if (Date.now() > deadline) throw new Error(`no job was written for interaction ${handle.id} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Parsed log lines, for assertions on what the bot recorded. */
export function parsedLogs(sandbox: Sandbox): Array<Record<string, unknown>> {
  return sandbox.logLines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
