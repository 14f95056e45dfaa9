import { register as globalRegistry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { aggregateShardMetrics } from "../../src/http/aggregate.js";
import { databaseCheck, runHealthChecks } from "../../src/http/health.js";
import { createMetrics, type DashScopeCallFinished } from "../../src/http/metrics.js";
import { HEALTH_PATH, METRICS_PATH, startHttpServer, type RunningHttpServer } from "../../src/http/server.js";
import { rememberGuildNames, guildNamesOf } from "../../src/usage/guild-names.js";
import { openUsageStore } from "../../src/usage/index.js";
import { createMetering } from "../../src/usage/metering.js";
import { metricSample, quietLogger } from "./metrics-test-helpers.js";

describe("the bot's metrics", () => {
  it("count songs, analyses, billed music seconds and tokens from the ledger's rows", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.callRecorded({ feature: "song", outcome: "ok", musicSeconds: 32 });
    metrics.callRecorded({ feature: "song", outcome: "InternalError" });
    metrics.callRecorded({ feature: "analysis", outcome: "ok", inputTokens: 100, outputTokens: 40, audioTokens: 750 });
    metrics.callRecorded({ feature: "follow-up", outcome: "ok", inputTokens: 20, outputTokens: 10 });

    const text = await metrics.registry.metrics();
    expect(metricSample(text, 'dashtune_songs_total{outcome="ok"}')).toBe(1);
    expect(metricSample(text, 'dashtune_songs_total{outcome="InternalError"}')).toBe(1);
    expect(metricSample(text, 'dashtune_analyses_total{outcome="ok"}')).toBe(2);
    expect(metricSample(text, "dashtune_music_seconds_billed_total")).toBe(32);
    expect(metricSample(text, 'dashtune_tokens_total{kind="input"}')).toBe(120);
    expect(metricSample(text, 'dashtune_tokens_total{kind="output"}')).toBe(50);
    expect(metricSample(text, 'dashtune_tokens_total{kind="audio"}')).toBe(750);
  });

  it("take the DashScope client's onCallFinished report as it is: a counter by api and status, and a duration histogram", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const onCallFinished: (call: DashScopeCallFinished) => void = metrics.observeDashScopeCall;
    onCallFinished({ api: "music", status: 200, durationMs: 4_200, requestId: "r-1" });
    onCallFinished({ api: "music", status: 429, durationMs: 80, requestId: "r-2" });
    onCallFinished({ api: "upload-policy", status: "NetworkError", durationMs: 3, requestId: undefined });

    const text = await metrics.registry.metrics();
    expect(metricSample(text, 'dashtune_dashscope_requests_total{api="music",status="200"}')).toBe(1);
    expect(metricSample(text, 'dashtune_dashscope_requests_total{api="music",status="429"}')).toBe(1);
    expect(metricSample(text, 'dashtune_dashscope_requests_total{api="upload-policy",status="NetworkError"}')).toBe(1);
    expect(metricSample(text, 'dashtune_dashscope_request_duration_seconds_count{api="music"}')).toBe(2);
    expect(metricSample(text, 'dashtune_dashscope_request_duration_seconds_sum{api="music"}')).toBeCloseTo(4.28);
    expect(metricSample(text, 'dashtune_dashscope_request_duration_seconds_bucket{le="5",api="music"}')).toBe(2);
    expect(metricSample(text, 'dashtune_dashscope_request_duration_seconds_bucket{le="1",api="music"}')).toBe(1);
  });

  it("ask for the job counts at each scrape, and count Discord REST errors by status", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let counts = { queued: 3, running: 2 };
    metrics.countJobsWith(() => counts);
    metrics.discordRestError(429);
    metrics.discordRestError(429);
    metrics.discordRestError(404);

    const first = await metrics.registry.metrics();
    expect(metricSample(first, 'dashtune_jobs{state="queued"}')).toBe(3);
    expect(metricSample(first, 'dashtune_jobs{state="running"}')).toBe(2);
    expect(metricSample(first, 'dashtune_discord_rest_errors_total{status="429"}')).toBe(2);
    expect(metricSample(first, 'dashtune_discord_rest_errors_total{status="404"}')).toBe(1);

    counts = { queued: 0, running: 1 };
    const second = await metrics.registry.metrics();
    expect(metricSample(second, 'dashtune_jobs{state="queued"}')).toBe(0);
    expect(metricSample(second, 'dashtune_jobs{state="running"}')).toBe(1);
  });

  it("keep one registry per bot, apart from prom-client's global one, with the default process metrics and event-loop lag", async () => {
    const first = createMetrics();
    const second = createMetrics();
    first.songFinished("ok");

    expect(metricSample(await first.registry.metrics(), 'dashtune_songs_total{outcome="ok"}')).toBe(1);
    const secondText = await second.registry.metrics();
    expect(metricSample(secondText, 'dashtune_songs_total{outcome="ok"}')).toBeUndefined();
    expect(secondText).toContain("process_cpu_user_seconds_total");
    expect(secondText).toContain("nodejs_eventloop_lag_seconds");
    expect(globalRegistry.getSingleMetric("dashtune_songs_total")).toBeUndefined();
  });

  it("are one set of figures across shard processes: counters summed, the shared queue's job counts not multiplied", async () => {
    const shards = [createMetrics(), createMetrics()];
    shards[0]!.songFinished("ok");
    shards[1]!.songFinished("ok");
    shards[1]!.songFinished("Throttling.RateQuota");
    shards[0]!.musicSecondsBilled(30);
    shards[1]!.musicSecondsBilled(12);
    shards[0]!.observeDashScopeCall({ api: "music", status: 200, durationMs: 1500 });
    shards[1]!.observeDashScopeCall({ api: "music", status: 200, durationMs: 2500 });
    for (const shard of shards) shard.countJobsWith(() => ({ queued: 7, running: 2 }));

    // What each shard sends over IPC: plain JSON, as structured clone or JSON.stringify carries it.
    const perShard = await Promise.all(shards.map(async (shard) => JSON.parse(JSON.stringify(await shard.registry.getMetricsAsJSON()))));
    const text = await aggregateShardMetrics(perShard).metrics();

    expect(metricSample(text, 'dashtune_songs_total{outcome="ok"}')).toBe(2);
    expect(metricSample(text, 'dashtune_songs_total{outcome="Throttling.RateQuota"}')).toBe(1);
    expect(metricSample(text, "dashtune_music_seconds_billed_total")).toBe(42);
    expect(metricSample(text, 'dashtune_dashscope_request_duration_seconds_count{api="music"}')).toBe(2);
    expect(metricSample(text, 'dashtune_jobs{state="queued"}')).toBe(7);
    expect(text).toContain("process_cpu_user_seconds_total");
  });
});

describe("the ledger tells the metrics about each call once", () => {
  it("counts a recorded call, and not again when the same request id is recorded twice", async () => {
    const store = await openUsageStore({ target: { dialect: "sqlite", path: ":memory:" } });
    try {
      const metrics = createMetrics({ defaultMetrics: false });
      const metering = createMetering(store, quietLogger().logger, { onCallRecorded: (call) => metrics.callRecorded(call) });
      const call = {
        occurredAt: new Date(),
        guildId: "100000000000000001",
        channelId: null,
        userId: "200000000000000001",
        feature: "song",
        model: "fun-music-v1",
        requestId: "req-1",
        outcome: "ok",
        musicSeconds: 25,
        latencyMs: 900,
      } as const;
      await metering.record(call);
      await metering.record(call);

      const text = await metrics.registry.metrics();
      expect(metricSample(text, 'dashtune_songs_total{outcome="ok"}')).toBe(1);
      expect(metricSample(text, "dashtune_music_seconds_billed_total")).toBe(25);
    } finally {
      await store.close();
    }
  });
});

describe("health checks", () => {
  it("are healthy only when every check passes; a throw or a hang is unhealthy, and named", async () => {
    const errors: string[] = [];
    const report = await runHealthChecks(
      [
        { name: "discord", check: () => true },
        { name: "database", check: async () => Promise.reject(new Error("gone")) },
        { name: "slow", check: () => new Promise<boolean>(() => {}) },
        { name: "down", check: () => false },
      ],
      { timeoutMs: 50, onError: (name) => errors.push(name) },
    );
    expect(report).toEqual({ healthy: false, checks: { discord: "ok", database: "failing", slow: "timeout", down: "failing" } });
    expect(errors).toEqual(["database"]);
    expect(await runHealthChecks([{ name: "discord", check: () => true }])).toEqual({ healthy: true, checks: { discord: "ok" } });
  });

  it("see a database that answers, and one that is closed", async () => {
    const store = await openUsageStore({ target: { dialect: "sqlite", path: ":memory:" } });
    const check = databaseCheck(store.db);
    expect(await check.check()).toBe(true);
    await store.close();
    await expect(Promise.resolve().then(check.check)).rejects.toThrow();
  });
});

describe("the health and metrics listener", () => {
  let server: RunningHttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(checks: Parameters<typeof startHttpServer>[0]["checks"]) {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.songFinished("ok");
    server = await startHttpServer({ host: "127.0.0.1", port: 0, checks, metrics: () => metrics.registry, logger: quietLogger().logger });
    return server;
  }

  it("answers /healthz with 200 and each check's state when all pass", async () => {
    const { url } = await start([{ name: "discord", check: () => true }, { name: "database", check: () => true }]);
    const response = await fetch(`${url}${HEALTH_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ status: "ok", checks: { discord: "ok", database: "ok" } });
  });

  it("answers /healthz with 503 when one check fails", async () => {
    let connected = true;
    const { url } = await start([{ name: "discord", check: () => connected }, { name: "database", check: () => true }]);
    expect((await fetch(`${url}${HEALTH_PATH}`)).status).toBe(200);
    connected = false;
    const response = await fetch(`${url}${HEALTH_PATH}`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: "unavailable", checks: { discord: "failing", database: "ok" } });
  });

  it("serves /metrics in Prometheus' text format, and nothing else", async () => {
    const { url } = await start([]);
    const metrics = await fetch(`${url}${METRICS_PATH}`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toContain("# TYPE dashtune_songs_total counter");
    expect(metricSample(text, 'dashtune_songs_total{outcome="ok"}')).toBe(1);

    expect((await fetch(`${url}/`)).status).toBe(404);
    const post = await fetch(`${url}${METRICS_PATH}`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("refuses to start on a port that is taken, saying so", async () => {
    const { port } = await start([]);
    await expect(
      startHttpServer({ host: "127.0.0.1", port, checks: [], metrics: () => createMetrics({ defaultMetrics: false }).registry, logger: quietLogger().logger }),
    ).rejects.toMatchObject({ code: "EADDRINUSE" });
  });
});

describe("server names for reports", () => {
  it("keeps the latest name of each guild, and knows nothing of guilds it never saw", async () => {
    const store = await openUsageStore({ target: { dialect: "sqlite", path: ":memory:" } });
    try {
      await rememberGuildNames(store, [
        { id: "100000000000000001", name: "Alpha" },
        { id: "100000000000000002", name: "Beta" },
      ]);
      await rememberGuildNames(store, [{ id: "100000000000000001", name: "Alpha, renamed" }]);
      const names = await guildNamesOf(store, ["100000000000000001", "100000000000000002", "100000000000000003"]);
      expect([...names]).toEqual([
        ["100000000000000001", "Alpha, renamed"],
        ["100000000000000002", "Beta"],
      ]);
    } finally {
      await store.close();
    }
  });
});
