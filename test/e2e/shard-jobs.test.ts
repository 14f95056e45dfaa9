import { ApplicationCommandOptionType } from "discord.js";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startFakeDashScope, type FakeDashScope } from "../fakes/dashscope/index.js";
import { startFakeDiscord, type FakeDiscord, type FakeMessageView } from "../fakes/discord/index.js";
import { warnPostgresSkipped, whyPostgresIsUnavailable } from "../postgres.js";
import { createTestDatabase, guildIdOnShard, isAlive, SHARD_START_MS, spawnShardManager, type ShardManagerProcess } from "./shard-harness.js";

/**
 * Two bot processes on one PostgreSQL share one job queue: `SONG_CONCURRENCY` holds across them,
 * and the queued job of a process that dies is finished exactly once, by another process or by the
 * process started in its place.
 */

const pgSkipReason = await whyPostgresIsUnavailable();
if (pgSkipReason !== null) warnPostgresSkipped("shard-jobs", pgSkipReason);

const MUSIC_PATH = "/api/v1/services/audio/music/generation";
const hasSong = (message: FakeMessageView) => message.embeds.length > 0 && message.attachments.length > 0;
const prompt = (value: string) => [{ type: ApplicationCommandOptionType.String, name: "prompt", value }];

describe.skipIf(pgSkipReason !== null)("one job queue shared by two shard processes", () => {
  const shard0Guild = guildIdOnShard(0, 0);
  const shard1Guild = guildIdOnShard(1, 0);
  let discord: FakeDiscord;
  let dashscope: FakeDashScope;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let manager: ShardManagerProcess;

  beforeAll(async () => {
    database = await createTestDatabase("dashtune_shard_jobs");
    discord = await startFakeDiscord({
      guilds: [
        { id: shard0Guild, name: "shard 0 server" },
        { id: shard1Guild, name: "shard 1 server" },
      ],
      maxConcurrency: 2,
    });
    // The first song must still be composing when the other process is killed: on a loaded machine
    // seeing it start, sending the second request and seeing its place took several seconds.
    dashscope = await startFakeDashScope({ generationMs: 12_000 });
    manager = spawnShardManager({
      DISCORD_TOKEN: discord.token,
      DASHSCOPE_API_KEY: dashscope.apiKey,
      DISCORD_API_URL: discord.restUrl,
      DASHSCOPE_HTTP_BASE_URL: dashscope.baseUrl,
      DATABASE_URL: database.url,
      SHARD_COUNT: "2",
      SONG_CONCURRENCY: "1",
      // Short, so the test needn't wait 20 s; long enough that a loaded machine renews in time.
      JOB_LEASE_SECONDS: "6",
      QUOTA_SONG_COOLDOWN_SECONDS: "0",
      LOG_LEVEL: "info",
    });
    await manager.logs.waitFor((line) => line.msg === "every shard is ready", "every shard ready");
    for (const shard of [0, 1]) await manager.logs.waitFor((line) => line.msg === "connected to Discord" && line.shard === shard, `shard ${shard} connected`);
  }, SHARD_START_MS);

  afterAll(async () => {
    // What the processes said about the two songs, for a failure to be read from CI's output.
    const about = manager?.logs.lines.filter((line) => /song|job|dashscope call|interaction failed/.test(String(line.msg)) || (line.level as number) >= 40) ?? [];
    if (process.env.CI === "true" || process.env.SHOW_SHARD_LOGS) console.log(about.slice(-60).map((line) => JSON.stringify(line)).join("\n"));
    await manager?.stop();
    await Promise.allSettled([discord?.close(), dashscope?.close()]);
    await database?.drop();
  }, SHARD_START_MS);

  /** The shard process that holds the running job of an interaction (its lease owner is `<pid>-<random>`). */
  async function processRunningTheSongOf(interactionId: string): Promise<{ pid: number; shard: number }> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const jobs = await client.query<{ lease_owner: string }>("select lease_owner from bot_jobs where interaction_id = $1 and state = 'running'", [interactionId]);
      const owner = jobs.rows[0]?.lease_owner;
      if (!owner) throw new Error(`no running job for interaction ${interactionId}`);
      const pid = Number(owner.split("-")[0]);
      const line = await manager.logs.waitFor((l) => l.pid === pid && typeof l.shard === "number", `a log line of pid ${pid}`);
      return { pid, shard: line.shard as number };
    } finally {
      await client.end();
    }
  }

  async function jobStates(): Promise<string[]> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<{ state: string }>("select state from bot_jobs order by created_at")).rows.map((row) => row.state);
    } finally {
      await client.end();
    }
  }

  it(
    "finishes the queued song of a shard process killed while it waited exactly once, and holds one song at a time across both",
    async () => {
      const running = await discord.sendSlashCommand({ name: "song", guildId: shard0Guild, user: discord.createUser(), options: prompt("long first song") });
      // Acknowledged first, then written: wait until its song is being composed.
      await running.waitForOriginal((m) => /Composing/.test(m.content), 30_000);
      expect(dashscope.requests.filter((r) => r.path === MUSIC_PATH)).toHaveLength(1);
      // Either process may claim it (each polls the shared queue), so the request that will wait is
      // sent to the other one: killing that process must leave the running song alone.
      const composer = await processRunningTheSongOf(running.id);
      const waitingShard = composer.shard === 0 ? 1 : 0;
      const waitingGuild = waitingShard === 0 ? shard0Guild : shard1Guild;
      const waiting = await discord.sendSlashCommand({
        name: "song",
        guildId: waitingGuild,
        user: discord.createUser({ username: "orphan" }),
        options: prompt("orphaned request"),
      });
      // Accepted and shown in its place: one song at a time across both processes.
      await waiting.waitForOriginal((m) => /position 1 in the queue/.test(m.content), 30_000);
      expect(dashscope.requests.filter((r) => r.path === MUSIC_PATH)).toHaveLength(1);
      const accepted = await manager.logs.waitFor((line) => line.msg === "song requested" && line.interactionId === waiting.id, "the other shard accepting the song");
      expect(accepted.shard).toBe(waitingShard);
      expect(accepted.pid).not.toBe(composer.pid);

      // What the kill is to prove needs the first song running in the other process, the second queued.
      expect(await jobStates()).toEqual(["running", "queued"]);
      const killedPid = accepted.pid as number;
      process.kill(killedPid, "SIGKILL");

      const song = await waiting.waitForOriginal(hasSong, 60_000);
      expect(song.attachments[0]?.filename).toBe("orphaned-request.mp3");
      await running.waitForOriginal(hasSong, 30_000);
      expect(isAlive(killedPid)).toBe(false);

      // Composed once, recorded once, posted once.
      const calls = dashscope.requests.filter((r) => r.path === MUSIC_PATH);
      expect(calls).toHaveLength(2);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const rows = await client.query<{ outcome: string; guild_id: string }>("select outcome, guild_id from usage_calls order by occurred_at");
        expect(rows.rows).toEqual([
          { outcome: "ok", guild_id: shard0Guild },
          { outcome: "ok", guild_id: waitingGuild },
        ]);
        // The song is visible a moment before its process marks the job delivered.
        await vi.waitFor(
          async () => {
            const jobs = await client.query<{ state: string }>("select state from bot_jobs order by created_at");
            expect(jobs.rows.map((row) => row.state)).toEqual(["delivered", "delivered"]);
          },
          { timeout: 10_000, interval: 100 },
        );
      } finally {
        await client.end();
      }
      const songPosts = discord
        .messages(discord.guilds.find((g) => g.id === waitingGuild)?.textChannelId)
        .filter((m) => m.fromBot && m.attachments.some((file) => file.filename === "orphaned-request.mp3"));
      expect(songPosts).toHaveLength(1);
      // Made by a live process: the one that made the first song once it was done, or the process
      // started in place of the killed one, whichever claimed it first.
      const made = await manager.logs.waitFor((line) => line.msg === "song generated" && line.interactionId === waiting.id, "the orphaned song being made");
      expect(made.pid).not.toBe(killedPid);
      console.log(
        `first song made by shard ${String(composer.shard)}; orphaned song made by shard ${String(made.shard)} (pid ${String(made.pid)}; the killed shard ${waitingShard} was pid ${killedPid})`,
      );
    },
    SHARD_START_MS,
  );
});
