import { fork, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics } from "../../src/http/metrics.js";
import { HEALTH_PATH, METRICS_PATH, startHttpServer } from "../../src/http/server.js";
import { answerIpcQuestions, createIpcAsker, type IpcPeer, type ShardQuestions } from "../../src/http/shard-ipc.js";
import { createShardedEndpoints, type AskEveryShard, type ShardAnswer } from "../../src/http/sharded.js";
import { answerManagerQuestions } from "../../src/shards.js";
import { metricSample as sample, quietLogger } from "./metrics-test-helpers.js";

/**
 * Two ends of an in-memory channel that behave like Node's IPC: messages arrive later (never
 * inside `send`), as JSON copies, and a closed channel refuses to send.
 */
function channelPair() {
  const managerSide = new EventEmitter();
  const shardSide = new EventEmitter();
  let open = true;
  const end = (self: EventEmitter, other: EventEmitter): IpcPeer => ({
    async send(message) {
      if (!open) throw new Error("channel closed");
      const copy: unknown = JSON.parse(JSON.stringify(message));
      setImmediate(() => other.emit("message", copy));
    },
    on: (event, listener) => self.on(event, listener),
    off: (event, listener) => self.off(event, listener),
  });
  return {
    manager: end(managerSide, shardSide),
    shard: end(shardSide, managerSide),
    /** From now on, `send` fails as it does once a process has exited. */
    close: () => {
      open = false;
    },
  };
}

const healthyReport: ShardQuestions["health"] = { healthy: true, checks: { discord: "ok", database: "ok" } };

describe("asking a shard over IPC", () => {
  it("matches each answer to its question, even when several are asked at once", async () => {
    const channel = channelPair();
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.songFinished("ok");
    answerIpcQuestions(channel.shard, { metrics: () => metrics.registry.getMetricsAsJSON(), health: () => healthyReport });
    const asker = createIpcAsker(channel.manager);

    const [health, metricsAnswer, again] = await Promise.all([
      asker.ask("health", 5000),
      asker.ask("metrics", 5000),
      asker.ask("health", 5000),
    ]);
    expect(health).toEqual({ ok: true, value: healthyReport });
    expect(again).toEqual(health);
    if (!metricsAnswer.ok) throw new Error(`no metrics: ${metricsAnswer.problem}`);
    const songs = metricsAnswer.value.find((metric) => metric.name === "dashtune_songs_total");
    expect(songs?.values).toEqual([{ labels: { outcome: "ok" }, value: 1 }]);
  });

  it("reports a shard that throws as failed, with its message", async () => {
    const channel = channelPair();
    answerIpcQuestions(channel.shard, {
      metrics: () => {
        throw new Error("registry broke");
      },
      health: async () => {
        throw new Error("database gone");
      },
    });
    const asker = createIpcAsker(channel.manager);
    expect(await asker.ask("metrics", 5000)).toEqual({ ok: false, problem: "failed", message: "registry broke" });
    expect(await asker.ask("health", 5000)).toEqual({ ok: false, problem: "failed", message: "database gone" });
  });

  it("gives up on a shard that does not answer, and drops its late answer", async () => {
    const channel = channelPair();
    let answerLate: (() => void) | undefined;
    answerIpcQuestions(channel.shard, {
      metrics: () => [],
      health: () =>
        new Promise((resolve) => {
          answerLate = () => resolve(healthyReport);
        }),
    });
    const asker = createIpcAsker(channel.manager);
    expect(await asker.ask("health", 50)).toEqual({ ok: false, problem: "timeout" });
    // The late answer arrives and matches no pending question; the next question gets its own.
    answerLate?.();
    expect(await asker.ask("metrics", 5000)).toEqual({ ok: true, value: [] });
  });

  it("reports a closed channel as unreachable without waiting", async () => {
    const channel = channelPair();
    answerIpcQuestions(channel.shard, { metrics: () => [], health: () => healthyReport });
    channel.close();
    // A timeout far beyond the test's own shows the answer does not come from the timer.
    expect(await createIpcAsker(channel.manager).ask("health", 10 * 60_000)).toMatchObject({ ok: false, problem: "unreachable" });
  });

  it("ignores other messages on the channel (discord.js's own), and stops answering when told", async () => {
    const channel = channelPair();
    const stopAnswering = answerIpcQuestions(channel.shard, { metrics: () => [], health: () => healthyReport });
    const asker = createIpcAsker(channel.manager);
    await channel.shard.send({ _ready: true });
    await channel.manager.send({ _eval: "this.guilds.cache.size" });
    expect(await asker.ask("health", 5000)).toEqual({ ok: true, value: healthyReport });
    stopAnswering();
    expect(await asker.ask("health", 50)).toEqual({ ok: false, problem: "timeout" });
  });

  it("says a shard whose bot has not started yet is starting", async () => {
    const channel = channelPair();
    answerManagerQuestions(channel.shard, () => undefined);
    const asker = createIpcAsker(channel.manager);
    expect(await asker.ask("health", 5000)).toEqual({ ok: true, value: { healthy: false, starting: true } });
    expect(await asker.ask("metrics", 5000)).toEqual({ ok: false, problem: "failed", message: "the bot is still starting" });
  });
});

describe("asking a real child process over Node's IPC channel", () => {
  let dir: string;
  let child: ChildProcess;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "dashtune-ipc-"));
    const script = join(dir, "shard.ts");
    const ipc = new URL("../../src/http/shard-ipc.ts", import.meta.url).href;
    const metricsModule = new URL("../../src/http/metrics.ts", import.meta.url).href;
    await writeFile(
      script,
      `import { answerIpcQuestions, parentProcessPeer } from ${JSON.stringify(ipc)};
import { createMetrics } from ${JSON.stringify(metricsModule)};
const metrics = createMetrics({ defaultMetrics: false });
metrics.songFinished("ok");
metrics.songFinished("ok");
metrics.observeDashScopeCall({ api: "music", status: 200, durationMs: 1500 });
answerIpcQuestions(parentProcessPeer(process), {
  metrics: () => metrics.registry.getMetricsAsJSON(),
  health: () => ({ healthy: true, checks: { pid: process.pid > 0 ? "ok" : "failing" } }),
});
process.send({ started: true });
`,
    );
    child = fork(script, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`the child exited (${code}) before it started`)));
    });
  });
  afterAll(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    await rm(dir, { recursive: true, force: true });
  });

  /** The parent's end, shaped as discord.js's `Shard#send` does it. */
  const childPeer = (): IpcPeer => ({
    send: (message) => new Promise((resolve, reject) => child.send(message as object, (error) => (error ? reject(error) : resolve(undefined)))),
    on: (event, listener) => child.on(event, listener),
    off: (event, listener) => child.off(event, listener),
  });

  it("gets the child's metrics as JSON that survives the channel: counters and the histogram's +Inf bucket", async () => {
    const answer = await createIpcAsker(childPeer()).ask("metrics", 30_000);
    if (!answer.ok) throw new Error(`no metrics: ${answer.problem} ${answer.message ?? ""}`);
    expect(answer.value.find((metric) => metric.name === "dashtune_songs_total")?.values).toEqual([{ labels: { outcome: "ok" }, value: 2 }]);
    const histogram = answer.value.find((metric) => metric.name === "dashtune_dashscope_request_duration_seconds");
    expect(histogram?.values).toContainEqual({ labels: { api: "music", le: "+Inf" }, value: 1, metricName: "dashtune_dashscope_request_duration_seconds_bucket", exemplar: null });
  });

  it("gets its health, and after the child is gone says it is unreachable", async () => {
    const asker = createIpcAsker(childPeer());
    expect(await asker.ask("health", 30_000)).toEqual({ ok: true, value: { healthy: true, checks: { pid: "ok" } } });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(await asker.ask("health", 10 * 60_000)).toMatchObject({ ok: false, problem: "unreachable" });
  });
});

describe("the sharding manager's /healthz and /metrics", () => {
  /** Shards that answer from their own metrics registries, or with a given problem. */
  function fakeShards(shards: Array<ReturnType<typeof createMetrics> | { problem: "not running" | "not ready" | "timeout" }>, health = healthyReport) {
    const askEveryShard: AskEveryShard = async (question) =>
      Promise.all(
        shards.map(async (shard, shardId): Promise<ShardAnswer<ShardQuestions[typeof question]>> => {
          if ("problem" in shard) return { shardId, ok: false, problem: shard.problem };
          const value = question === "metrics" ? await shard.registry.getMetricsAsJSON() : health;
          return { shardId, ok: true, value: value as ShardQuestions[typeof question] };
        }),
      );
    return askEveryShard;
  }

  it("is healthy only when every shard process answers healthy, and shows each shard's state", async () => {
    const shard0 = createMetrics({ defaultMetrics: false });
    const shard1 = createMetrics({ defaultMetrics: false });
    const { logger } = quietLogger();
    const both = createShardedEndpoints({ askEveryShard: fakeShards([shard0, shard1]), logger, defaultMetrics: false });
    expect(await both.health()).toEqual({
      healthy: true,
      body: { shards: { 0: { process: "ok", discord: "ok", database: "ok" }, 1: { process: "ok", discord: "ok", database: "ok" } } },
    });

    const deadShard = createShardedEndpoints({ askEveryShard: fakeShards([shard0, { problem: "not running" }]), logger, defaultMetrics: false });
    expect(await deadShard.health()).toEqual({
      healthy: false,
      body: { shards: { 0: { process: "ok", discord: "ok", database: "ok" }, 1: { process: "not running" } } },
    });

    const disconnected = createShardedEndpoints({
      askEveryShard: fakeShards([shard0, shard1], { healthy: false, checks: { discord: "failing", database: "ok" } }),
      logger,
      defaultMetrics: false,
    });
    expect((await disconnected.health()).healthy).toBe(false);
    expect((await disconnected.health()).body).toMatchObject({ shards: { 1: { process: "ok", discord: "failing" } } });
  });

  it("serves one /healthz (503 with a dead shard) and one /metrics summed over the shards that answered, over HTTP", async () => {
    const shard0 = createMetrics({ defaultMetrics: false });
    const shard1 = createMetrics({ defaultMetrics: false });
    const shard2 = createMetrics({ defaultMetrics: false });
    shard0.observeDashScopeCall({ api: "upload-policy", status: 200, durationMs: 100 });
    shard1.observeDashScopeCall({ api: "upload-policy", status: 200, durationMs: 300 });
    shard1.songFinished("ok");
    shard2.songFinished("ok");
    const { logger, lines } = quietLogger();
    const endpoints = createShardedEndpoints({ askEveryShard: fakeShards([shard0, shard1, { problem: "timeout" }]), logger });
    const server = await startHttpServer({ host: "127.0.0.1", port: 0, checks: endpoints.health, metrics: endpoints.metrics, logger });
    try {
      const health = await fetch(`${server.url}${HEALTH_PATH}`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: "unavailable", shards: { 2: { process: "timeout" } } });

      const text = await (await fetch(`${server.url}${METRICS_PATH}`)).text();
      expect(sample(text, 'dashtune_dashscope_requests_total{api="upload-policy",status="200"}')).toBe(2);
      // Shard 2 did not answer: its song is missing, and the gap is counted.
      expect(sample(text, 'dashtune_songs_total{outcome="ok"}')).toBe(1);
      expect(sample(text, "dashtune_shards_unreachable")).toBe(1);
      expect(sample(text, 'dashtune_dashscope_request_duration_seconds_bucket{le="0.25",api="upload-policy"}')).toBe(1);
      expect(sample(text, 'dashtune_dashscope_request_duration_seconds_bucket{le="0.5",api="upload-policy"}')).toBe(2);
      // The manager's own process figures (the shards here have none).
      expect(sample(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
      expect(lines.some((line) => line.includes("shard gave no metrics") && line.includes('"shard":2'))).toBe(true);
    } finally {
      await server.close();
    }
  });
});
