import { createServer } from "node:net";
import { ApplicationCommandOptionType } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeDashScope, type FakeDashScope } from "../fakes/dashscope/index.js";
import { startFakeDiscord, type FakeDiscord, type FakeGatewaySession, type InteractionHandle } from "../fakes/discord/index.js";
import { metricSample } from "../unit/metrics-test-helpers.js";
import { warnPostgresSkipped, whyPostgresIsUnavailable } from "../postgres.js";
import {
  createTestDatabase,
  guildIdOnShard,
  isAlive,
  SHARD_START_MS,
  spawnShardManager,
  type LogCollector,
  type ShardManagerProcess,
} from "./shard-harness.js";

/**
 * `SHARD_COUNT=2` end to end: `node --import tsx src/main.ts` becomes a discord.js ShardingManager
 * whose two shard processes each run the whole bot against the fake Discord and fake DashScope
 * (which run here, in the test process) on one PostgreSQL database. The manager alone serves
 * HTTP_PORT: one /healthz and one /metrics for both shard processes.
 */

const pgSkipReason = await whyPostgresIsUnavailable();
if (pgSkipReason !== null) warnPostgresSkipped("shards", `${pgSkipReason}; shards need PostgreSQL`);

/** A port on 127.0.0.1 that was free a moment ago (bound, then released) for the manager's listener. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The sum of every series of one metric (all its label sets) in Prometheus' text format. */
function metricTotal(text: string, name: string): number {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
}

type HealthBody = { status: string; shards: Record<string, Record<string, string>> };


describe.skipIf(pgSkipReason !== null)("two shard processes", () => {
  const shard0Guild = guildIdOnShard(0, 0);
  const shard1Guild = guildIdOnShard(1, 0);
  const otherShard1Guild = guildIdOnShard(1, 1);
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let discord: FakeDiscord;
  let dashscope: FakeDashScope;
  let manager: ShardManagerProcess;
  let logs: LogCollector;
  let httpUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase("dashtune_shards");
    // Identify buckets enforced, as Discord does: two buckets let both shards start at once.
    discord = await startFakeDiscord({
      guilds: [
        { id: shard0Guild, name: "shard 0 server" },
        { id: shard1Guild, name: "shard 1 server" },
        { id: otherShard1Guild, name: "another shard 1 server" },
      ],
      maxConcurrency: 2,
      enforceIdentifyRateLimit: true,
    });
    dashscope = await startFakeDashScope();
    const httpPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    manager = spawnShardManager({
      DISCORD_TOKEN: discord.token,
      DASHSCOPE_API_KEY: dashscope.apiKey,
      DISCORD_API_URL: discord.restUrl,
      DASHSCOPE_HTTP_BASE_URL: dashscope.baseUrl,
      DATABASE_URL: database.url,
      SHARD_COUNT: "2",
      LOG_LEVEL: "info",
      HTTP_PORT: String(httpPort),
      HTTP_HOST: "127.0.0.1",
    });
    logs = manager.logs;
  }, SHARD_START_MS);

  afterAll(async () => {
    await manager?.stop();
    await Promise.allSettled([discord?.close(), dashscope?.close()]);
    await database?.drop();
  }, SHARD_START_MS);

  const waitForShard = (shard: number, notSession?: string): Promise<FakeGatewaySession> =>
    discord.waitForSession((session) => session.shard[0] === shard && session.shard[1] === 2 && session.sessionId !== notSession, SHARD_START_MS);

  async function usageMe(guildId: string): Promise<InteractionHandle> {
    const handle = await discord.sendSlashCommand({
      name: "usage",
      guildId,
      options: [{ type: ApplicationCommandOptionType.Subcommand, name: "me" }],
    });
    await handle.waitForOriginal(undefined, 30_000);
    return handle;
  }

  const getHealth = async (): Promise<{ status: number; body: HealthBody }> => {
    const response = await fetch(`${httpUrl}/healthz`);
    return { status: response.status, body: (await response.json()) as HealthBody };
  };

  /**
   * Asks /healthz until it answers `status` (a shard that just connected may still be finishing its
   * start). A ceiling, not an expectation: it only turns a hang into a readable failure.
   */
  async function waitForHealth(status: 200 | 503): Promise<HealthBody> {
    const deadline = Date.now() + SHARD_START_MS;
    let last: { status: number; body: HealthBody } | undefined;
    while (Date.now() < deadline) {
      last = await getHealth();
      if (last.status === status) return last.body;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`/healthz never answered ${status}; last: ${JSON.stringify(last)}`);
  }

  const getMetrics = async (): Promise<string> => {
    const response = await fetch(`${httpUrl}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  };

  const handledBy = (handle: InteractionHandle) =>
    logs.waitFor((line) => line.msg === "interaction handled" && line.interactionId === handle.id, `interaction ${handle.id} handled`);

  it(
    "connects each shard process with its own shard id, each seeing only its guilds, and registers commands once",
    async () => {
      const [session0, session1] = await Promise.all([waitForShard(0), waitForShard(1)]);
      expect(session0.identify.shard).toEqual([0, 2]);
      expect(session1.identify.shard).toEqual([1, 2]);
      expect([...session0.guildIds]).toEqual([shard0Guild]);
      expect([...session1.guildIds].sort()).toEqual([shard1Guild, otherShard1Guild].sort());
      await logs.waitFor((line) => line.msg === "every shard is ready", "the manager saying every shard is ready");
      // Each process writes to the same pipe: a shard's own line may arrive after the manager's.
      for (const shard of [0, 1]) await logs.waitFor((line) => line.msg === "connected to Discord" && line.shard === shard, `shard ${shard} connected`);

      const connected = logs.lines.filter((line) => line.msg === "connected to Discord");
      expect(connected.map((line) => line.shard).sort()).toEqual([0, 1]);
      expect(connected.find((line) => line.shard === 1)?.guilds).toBe(2);
      expect(new Set(connected.map((line) => line.pid)).size).toBe(2);
      const overwrites = discord.requests.filter((request) => request.method === "PUT" && request.route === "/applications/:applicationId/commands");
      expect(overwrites).toHaveLength(1);
      expect(discord.registeredCommands().map((command) => command.name)).toContain("usage");
    },
    SHARD_START_MS,
  );

  it(
    "serves one /healthz and one /metrics for both shard processes from the manager, the shards binding no port",
    async () => {
      await logs.waitFor((line) => line.msg === "every shard is ready", "the manager saying every shard is ready");
      const listening = logs.lines.filter((line) => typeof line.msg === "string" && line.msg.startsWith("health and metrics"));
      expect(listening.map((line) => [line.msg, line.shard])).toEqual([["health and metrics of every shard listening (/healthz, /metrics)", undefined]]);
      expect(listening[0]?.url).toBe(httpUrl);

      const health = await waitForHealth(200);
      const healthyShard = { process: "ok", discord: "ok", database: "ok" };
      expect(health).toEqual({ status: "ok", shards: { 0: healthyShard, 1: healthyShard } });

      const text = await getMetrics();
      // Each shard checked the DashScope key once at start (the manager makes no DashScope call):
      // the aggregate counts every request the fake saw.
      const keyChecks = dashscope.requests.filter((request) => request.query.includes("action=getPolicy"));
      expect(keyChecks).toHaveLength(2);
      expect(metricTotal(text, "dashtune_dashscope_requests_total")).toBe(keyChecks.length);
      expect(metricSample(text, "dashtune_shards_unreachable")).toBe(0);
      expect(text).toContain("# TYPE dashtune_songs_total counter");
      expect(text).toContain("# TYPE dashtune_jobs gauge");
      // Process figures of three processes (two shards and the manager), summed as prom-client's aggregator does.
      expect(metricSample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
      expect(metricSample(text, "nodejs_eventloop_lag_p99_seconds")).toBeGreaterThanOrEqual(0);
    },
    SHARD_START_MS,
  );

  it(
    "answers 503 and leaves out the figures of a shard process that stops answering, and 200 again once it answers",
    async () => {
      const connected = logs.lines.filter((line) => line.msg === "connected to Discord" && line.shard === 0).at(-1);
      const pid = connected?.pid;
      if (typeof pid !== "number") throw new Error("no pid logged for shard 0");
      // A stopped process is alive but answers nothing: the manager must give up on it, not hang.
      process.kill(pid, "SIGSTOP");
      try {
        const health = await getHealth();
        expect(health.status).toBe(503);
        expect(health.body).toEqual({ status: "unavailable", shards: { 0: { process: "timeout" }, 1: { process: "ok", discord: "ok", database: "ok" } } });

        const text = await getMetrics();
        expect(metricSample(text, "dashtune_shards_unreachable")).toBe(1);
        // Only shard 1's own key check is left in the aggregate.
        expect(metricTotal(text, "dashtune_dashscope_requests_total")).toBe(1);
        await logs.waitFor((line) => line.msg === "shard gave no metrics" && line.shard === 0 && line.problem === "timeout", "the manager's warning");
      } finally {
        process.kill(pid, "SIGCONT");
      }
      expect((await waitForHealth(200)).shards[0]).toEqual({ process: "ok", discord: "ok", database: "ok" });
      expect(metricSample(await getMetrics(), "dashtune_shards_unreachable")).toBe(0);
    },
    SHARD_START_MS,
  );

  it(
    "answers a command in a guild of shard 1 from the shard-1 process, and one of shard 0 from shard 0",
    async () => {
      const onShard1 = await usageMe(shard1Guild);
      expect(onShard1.deliveredTo()).toEqual([[1, 2]]);
      expect((await handledBy(onShard1)).shard).toBe(1);

      const onShard0 = await usageMe(shard0Guild);
      expect(onShard0.deliveredTo()).toEqual([[0, 2]]);
      expect((await handledBy(onShard0)).shard).toBe(0);
    },
    SHARD_START_MS,
  );

  it(
    "respawns a killed shard process, which reconnects as shard 1 and answers again",
    async () => {
      const before = await waitForShard(1);
      const connected = logs.lines.find((line) => line.msg === "connected to Discord" && line.shard === 1);
      const oldPid = connected?.pid;
      if (typeof oldPid !== "number") throw new Error("no pid logged for shard 1");
      process.kill(oldPid, "SIGKILL");

      await logs.waitFor((line) => line.msg === "shard process died; starting it again" && line.shard === 1, "the manager seeing shard 1 die");
      // Whether /healthz is asked before or after the new process reaches Discord is a race, so
      // only the recovery is asserted here (a dead shard's 503 is in test/unit/shard-ipc.test.ts).
      const after = await waitForShard(1, before.sessionId);
      expect(after.identify.shard).toEqual([1, 2]);
      expect([...after.guildIds].sort()).toEqual([shard1Guild, otherShard1Guild].sort());
      const reconnected = await logs.waitFor(
        (line) => line.msg === "connected to Discord" && line.shard === 1 && line.pid !== oldPid,
        "the new shard-1 process connecting",
      );
      expect(isAlive(oldPid)).toBe(false);
      expect((await waitForHealth(200)).shards[1]).toEqual({ process: "ok", discord: "ok", database: "ok" });

      const handle = await usageMe(otherShard1Guild);
      const handled = await handledBy(handle);
      expect(handled.shard).toBe(1);
      expect(handled.pid).toBe(reconnected.pid);
      // The respawned shard does not register commands again.
      expect(discord.requests.filter((request) => request.method === "PUT" && request.route === "/applications/:applicationId/commands")).toHaveLength(1);
    },
    SHARD_START_MS,
  );

  it(
    "stops every shard process and then itself on SIGTERM",
    async () => {
      const shardPids = [0, 1].map((shard) => logs.lines.filter((line) => line.msg === "connected to Discord" && line.shard === shard).at(-1)?.pid);
      expect(shardPids.every((pid) => typeof pid === "number" && isAlive(pid))).toBe(true);
      manager.child.kill("SIGTERM");
      const exit = await manager.exited;
      expect({ exit, stderr: manager.stderr().slice(-2000) }).toMatchObject({ exit: { code: 0, signal: null } });
      for (const pid of shardPids) expect(isAlive(pid as number)).toBe(false);
      for (const shard of [0, 1]) await logs.waitFor((line) => line.msg === "stopped" && line.shard === shard, `shard ${shard} stopped`);
      const stopped = logs.lines.filter((line) => line.msg === "stopped");
      // Each shard's own "stopped" (after its graceful stop), then the manager's.
      expect(stopped.map((line) => line.shard ?? "manager").sort()).toEqual([0, 1, "manager"]);
      expect(discord.sessions().filter((session) => session.connected)).toEqual([]);
      expect(discord.internalErrors).toEqual([]);
    },
    SHARD_START_MS,
  );
});
