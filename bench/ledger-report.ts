/**
 * Usage-ledger benchmark: fills a ledger with 1,000,000 calls and times the report queries on
 * SQLite and PostgreSQL (target: under 200 ms), then measures how long single ledger writes block
 * the event loop.
 *
 *   npx tsx bench/ledger-report.ts [--rows 1000000] [--writes 5000] [--no-postgres]
 *                                  [--scenarios spread,single-guild] [--members 5000]
 *
 * --writes is the number of back-to-back writes; paced writes are at most 2,000 (20 s).
 * Scenarios: "spread" is the ledger above (a year, 50 guilds) with the write measurements;
 * "single-guild" puts all --rows calls in one guild over the last 30 days, spread evenly over
 * --members members, and times the `/usage server` report (what src/discord/usage/usage-command.ts
 * runs: usageReport + topSpenders + dailySeries) for 30 days and for today.
 *
 * PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test;
 * a throw-away schema is created and dropped. SQLite: a file in the OS temp directory, removed after.
 * Not part of the test suite.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import pg from "pg";
import {
  dailySeries,
  memberReport,
  openUsageStore,
  rebuildUsageTotals,
  recordCall,
  reserve,
  topSpenders,
  usageReport,
  DEFAULT_QUOTA_SETTINGS,
  type CallRecord,
  type DatabaseTarget,
  type Feature,
  type UsageStore,
} from "../src/usage/index.js";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "1000000" },
    writes: { type: "string", default: "5000" },
    "no-postgres": { type: "boolean", default: false },
    scenarios: { type: "string", default: "spread,single-guild" },
    members: { type: "string", default: "5000" },
  },
});
const SCENARIOS = new Set(args.scenarios.split(",").map((name) => name.trim()));
for (const name of SCENARIOS) {
  if (name !== "spread" && name !== "single-guild") throw new Error(`unknown scenario ${name}`);
}
const SINGLE_GUILD_MEMBERS = Number(args.members);
const ROWS = Number(args.rows);
const WRITES = Number(args.writes);
const PACED_WRITES = Math.min(WRITES, 2000);
const PG_URL = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

const NOW = new Date("2025-06-18T12:00:00Z");
const DAYS = 365;
const GUILDS = 50;
const USERS = 5000;

/** Deterministic pseudo-random numbers (mulberry32), so both databases get the same rows. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const guildId = (i: number) => String(100000000000000000n + BigInt(i));
const userId = (i: number) => String(200000000000000000n + BigInt(i));

/**
 * Guild sizes follow a Zipf law (the biggest guild makes ~22% of the calls); each user belongs to
 * one guild; 60% songs, 30% analyses, 10% follow-ups; 3% failures; calls spread over a year.
 */
function* syntheticCalls(count: number): Generator<CallRecord> {
  const next = random(42);
  const weights = Array.from({ length: GUILDS }, (_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let sum = 0;
  for (const w of weights) cumulative.push((sum += w / total));
  const pickGuild = () => {
    const r = next();
    const index = cumulative.findIndex((c) => r <= c);
    return index === -1 ? GUILDS - 1 : index;
  };
  const start = NOW.getTime() - DAYS * 86_400_000;
  for (let i = 0; i < count; i++) {
    const guild = pickGuild();
    // Users of guild g are g, g + GUILDS, g + 2·GUILDS, …
    const user = guild + GUILDS * Math.floor(next() * (USERS / GUILDS));
    const r = next();
    const feature: Feature = r < 0.6 ? "song" : r < 0.9 ? "analysis" : "follow-up";
    const failed = next() < 0.03;
    const isSong = feature === "song";
    yield {
      occurredAt: new Date(start + Math.floor(next() * DAYS * 86_400_000)),
      guildId: guildId(guild),
      channelId: String(300000000000000000n + BigInt(guild)),
      userId: userId(user),
      feature,
      model: isSong ? (next() < 0.9 ? "fun-music-v1" : "fun-music-preview") : "qwen-audio-turbo",
      requestId: `bench-${i.toString(36)}-${Math.floor(next() * 1e9).toString(36)}`,
      outcome: failed ? "InternalError" : "ok",
      musicSeconds: isSong && !failed ? 30 + Math.floor(next() * 210) : 0,
      inputTokens: isSong || failed ? 0 : 50 + Math.floor(next() * 400),
      outputTokens: isSong || failed ? 0 : 100 + Math.floor(next() * 800),
      audioTokens: isSong || failed ? 0 : 500 + Math.floor(next() * 3000),
      latencyMs: isSong ? 30_000 + Math.floor(next() * 90_000) : 1000 + Math.floor(next() * 9000),
    };
  }
}

/** Start of the 30-day report period at NOW (a UTC midnight, 29 days before today's). */
const THIRTY_DAYS_START = (Math.floor(NOW.getTime() / 86_400_000) - 29) * 86_400_000;

/**
 * One busy guild: every call between the start of the 30-day period and NOW, members picked
 * uniformly (so every member has calls on most days: the most member-day totals a ledger of this
 * size can have), with the same mix of features, models and failures as `syntheticCalls`.
 */
function* singleGuildCalls(count: number): Generator<CallRecord> {
  const next = random(7);
  const span = NOW.getTime() - THIRTY_DAYS_START;
  for (let i = 0; i < count; i++) {
    const r = next();
    const feature: Feature = r < 0.6 ? "song" : r < 0.9 ? "analysis" : "follow-up";
    const failed = next() < 0.03;
    const isSong = feature === "song";
    yield {
      occurredAt: new Date(THIRTY_DAYS_START + Math.floor(next() * span)),
      guildId: guildId(0),
      channelId: String(300000000000000000n),
      userId: userId(Math.floor(next() * SINGLE_GUILD_MEMBERS)),
      feature,
      model: isSong ? (next() < 0.9 ? "fun-music-v1" : "fun-music-preview") : "qwen-audio-turbo",
      requestId: `one-${i.toString(36)}-${Math.floor(next() * 1e9).toString(36)}`,
      outcome: failed ? "InternalError" : "ok",
      musicSeconds: isSong && !failed ? 30 + Math.floor(next() * 210) : 0,
      inputTokens: isSong || failed ? 0 : 50 + Math.floor(next() * 400),
      outputTokens: isSong || failed ? 0 : 100 + Math.floor(next() * 800),
      audioTokens: isSong || failed ? 0 : 500 + Math.floor(next() * 3000),
      latencyMs: isSong ? 30_000 + Math.floor(next() * 90_000) : 1000 + Math.floor(next() * 9000),
    };
  }
}

async function fill(store: UsageStore, count: number, calls: Generator<CallRecord> = syntheticCalls(count)): Promise<number> {
  const started = performance.now();
  const batchSize = 1000;
  let batch: ReturnType<typeof toRow>[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await store.db.insertInto("usage_calls").values(batch).execute();
    batch = [];
    // An event-loop turn between batches, so that the SQLite store can keep its log in check.
    await new Promise((resolve) => setImmediate(resolve));
  };
  for (const call of calls) {
    batch.push(toRow(call));
    if (batch.length === batchSize) await flush();
  }
  await flush();
  return performance.now() - started;
}

function toRow(call: CallRecord) {
  return {
    request_id: call.requestId ?? "",
    occurred_at: call.occurredAt.getTime(),
    guild_id: call.guildId,
    channel_id: call.channelId,
    user_id: call.userId,
    feature: call.feature,
    model: call.model,
    outcome: call.outcome,
    music_seconds: call.musicSeconds ?? 0,
    input_tokens: call.inputTokens ?? 0,
    output_tokens: call.outputTokens ?? 0,
    audio_tokens: call.audioTokens ?? 0,
    latency_ms: call.latencyMs,
    bytes_delivered: null,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;

/** Runs a query once to warm caches, then `runs` times; returns the median and the slowest. */
async function time(runs: number, task: () => Promise<unknown>): Promise<{ median: number; max: number }> {
  await task();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await task();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { median: percentile(samples, 50), max: samples.at(-1) ?? Number.NaN };
}

async function benchReports(store: UsageStore): Promise<void> {
  const big = { guildId: guildId(0) };
  const small = { guildId: guildId(GUILDS - 1) };
  const member = { guildId: guildId(0), userId: userId(0) };
  /** What an admin's "/usage report" shows: totals per feature, top members, a daily chart. */
  const guildReport = (scope: { guildId: string }, period: "30d" | "all") =>
    Promise.all([
      usageReport(store, scope, period),
      topSpenders(store, scope, period, { by: "user" }),
      dailySeries(store, scope, period),
    ]);
  const ownerReport = (period: "30d" | "all") =>
    Promise.all([usageReport(store, "all-guilds", period), topSpenders(store, "all-guilds", period, { by: "guild" })]);

  const rows = (await usageReport(store, big, "all")).total.calls;
  const rows30 = (await usageReport(store, big, "30d")).total.calls;
  const cases: [string, () => Promise<unknown>][] = [
    [`guild report, 30 days (biggest guild: ${rows30.toLocaleString("en")} calls in range)`, () => guildReport(big, "30d")],
    [`guild report, all time (biggest guild: ${rows.toLocaleString("en")} calls)`, () => guildReport(big, "all")],
    ["guild report, 30 days (smallest guild)", () => guildReport(small, "30d")],
    ["member report (own usage + remaining quota), 30 days", () => memberReport(store, member, "30d")],
    ["owner report, all guilds, 30 days", () => ownerReport("30d")],
    ["owner report, all guilds, all time (every row)", () => ownerReport("all")],
  ];
  for (const [label, task] of cases) {
    const { median, max } = await time(5, task);
    console.log(`  ${label.padEnd(70)} median ${ms(median).padStart(10)}   max ${ms(max).padStart(10)}`);
  }
}

/**
 * The `/usage server` report of the one busy guild, as src/discord/usage/usage-command.ts runs it
 * (usageReport + topSpenders with its limit + dailySeries, together), and its parts alone. For
 * SQLite the time is time the event loop is blocked: better-sqlite3 runs each query synchronously.
 */
async function benchSingleGuildReports(store: UsageStore): Promise<void> {
  const scope = { guildId: guildId(0) };
  const serverReport = (period: "30d" | "today") =>
    Promise.all([
      usageReport(store, scope, period),
      topSpenders(store, scope, period, { by: "user", limit: 10_000 }),
      dailySeries(store, scope, period),
    ]);
  const member = { guildId: guildId(0), userId: userId(0) };
  const calls30 = (await usageReport(store, scope, "30d")).total.calls;
  const callsToday = (await usageReport(store, scope, "today")).total.calls;
  const members30 = (await topSpenders(store, scope, "30d", { by: "user", limit: 1_000_000 })).length;
  const cases: [string, () => Promise<unknown>][] = [
    [`/usage server, 30 days (${calls30.toLocaleString("en")} calls, ${members30.toLocaleString("en")} members)`, () => serverReport("30d")],
    [`/usage server, today (${callsToday.toLocaleString("en")} calls)`, () => serverReport("today")],
    ["  of which topSpenders, 30 days", () => topSpenders(store, scope, "30d", { by: "user", limit: 10_000 })],
    ["  topSpenders' query as 0004 ran it (member-day totals), 30 days", () => memberDayTopQuery(store, THIRTY_DAYS_START)],
    ["  topSpenders' query as 0004 ran it (member-day totals), today", () => memberDayTopQuery(store, Math.floor(NOW.getTime() / 86_400_000) * 86_400_000)],
    ["  of which usageReport, 30 days", () => usageReport(store, scope, "30d")],
    ["  of which dailySeries, 30 days", () => dailySeries(store, scope, "30d")],
    ["member report (own usage + remaining quota), 30 days", () => memberReport(store, member, "30d")],
  ];
  for (const [label, task] of cases) {
    const { median, max } = await time(5, task);
    console.log(`  ${label.padEnd(70)} median ${ms(median).padStart(10)}   max ${ms(max).padStart(10)}`);
  }
}

/**
 * The top-members query of migration 0004's design (a sum over every member-day total of the
 * period), kept here only to time the snapshot design (0007) against it in the same run.
 */
function memberDayTopQuery(store: UsageStore, fromMs: number) {
  return store.db
    .selectFrom("usage_member_day_totals")
    .where("guild_key", "=", guildId(0))
    .where("day", ">=", Math.floor(fromMs / 86_400_000))
    .select(["user_id as id", "model", sql<number>`sum(calls)`.as("calls"), sql<number>`sum(music_seconds)`.as("music_seconds"), sql<number>`sum(input_tokens)`.as("input_tokens"), sql<number>`sum(output_tokens)`.as("output_tokens"), sql<number>`sum(audio_tokens)`.as("audio_tokens")])
    .groupBy(["user_id", "model"])
    .execute();
}

/**
 * Single-row writes, each in its own event-loop turn. With better-sqlite3 the whole write (Kysely
 * compile, statements, commit) runs synchronously inside that turn, so its duration is the time
 * the event loop is blocked. With PostgreSQL the time is mostly network round trips, during which
 * the loop is free.
 *
 * Two rhythms: "paced", a write every 10 ms (100 calls a second, far above a bot's real rate, with
 * idle moments for the background checkpointer, as in production); and "back-to-back", with only
 * an event-loop turn between writes, where the background checkpointer cannot keep up and the
 * main thread checkpoints now and then (see db.ts).
 */
async function benchWrites(store: UsageStore, label: string, rhythm: "paced" | "back-to-back", count: number): Promise<void> {
  const plain: number[] = [];
  const withQuota: number[] = [];
  const gcPauses: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcPauses.push(entry.duration);
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  let maxGap = 0;
  let last = performance.now();
  let probing = true;
  // A probe that runs between writes: the longest gap between its turns is the longest block.
  const probe = () => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    if (probing) setImmediate(probe);
  };
  setImmediate(probe);

  // Let messages from earlier phases arrive (they wait for the event loop) before counting.
  await sleep(100);
  forcedCheckpoints.length = 0;
  let i = 0;
  for (const call of syntheticCalls(count)) {
    if (rhythm === "paced") await sleep(10);
    else await new Promise((resolve) => setImmediate(resolve));
    const record: CallRecord = { ...call, occurredAt: NOW, requestId: `write-${label}-${rhythm}-${i}` };
    if (i % 2 === 0) {
      const started = performance.now();
      await recordCall(store, record);
      plain.push(performance.now() - started);
    } else {
      const held = await reserve(store, {
        guildId: call.guildId,
        userId: `${call.userId}-${rhythm}-${i}`,
        feature: call.feature,
        estimatedSeconds: 60,
      });
      const started = performance.now();
      await recordCall(store, record, held.ok ? { reservationId: held.reservationId } : {});
      withQuota.push(performance.now() - started);
    }
    i++;
  }
  probing = false;
  gcObserver.disconnect();
  console.log(`  writes, ${rhythm}:`);
  for (const [name, samples] of [
    ["recordCall", plain],
    ["recordCall + settle (one transaction)", withQuota],
  ] as const) {
    samples.sort((a, b) => a - b);
    console.log(
      `    ${name.padEnd(40)} n=${samples.length}  p50 ${ms(percentile(samples, 50))}  p99 ${ms(percentile(samples, 99))}  max ${ms(samples.at(-1) ?? 0)}`,
    );
  }
  console.log(
    `    longest event-loop gap seen by a setImmediate probe: ${ms(maxGap)}; ` +
      `GC pauses: ${gcPauses.length}, longest ${ms(Math.max(0, ...gcPauses))}`,
  );
  if (forcedCheckpoints.length > 0) {
    const longest = Math.max(...forcedCheckpoints.map((f) => f.ms));
    console.log(
      `    checkpoints the main thread had to make (log over 64 MB): ${forcedCheckpoints.length}, longest ${ms(longest)}`,
    );
  }
}

/** Checkpoints SQLite's main thread made because the log outgrew 64 MB (see db.ts). */
const forcedCheckpoints: { walBytes: number; ms: number }[] = [];

async function run(
  label: string,
  target: DatabaseTarget,
  schema: string | undefined,
  scenario: "spread" | "single-guild",
): Promise<void> {
  console.log(`\n=== ${label}, ${scenario === "spread" ? "ledger spread over 50 guilds and a year" : "one guild, last 30 days"}`);
  const store = await openUsageStore({
    target,
    schema,
    onForcedCheckpoint: (info) => forcedCheckpoints.push(info),
    now: () => NOW,
    quotaDefaults: { ...DEFAULT_QUOTA_SETTINGS, songCooldownSeconds: 0, userDailySongs: null, guildMonthlyMusicSeconds: null },
  });
  try {
    const fillMs = await fill(store, ROWS, scenario === "spread" ? syntheticCalls(ROWS) : singleGuildCalls(ROWS));
    console.log(`  filled ${ROWS.toLocaleString("en")} rows in ${(fillMs / 1000).toFixed(1)} s (bulk inserts)`);
    const rebuildStarted = performance.now();
    await rebuildUsageTotals(store);
    console.log(`  report totals computed from the rows in ${((performance.now() - rebuildStarted) / 1000).toFixed(1)} s`);
    if (target.dialect === "postgres") {
      // What autovacuum does on its own shortly after a bulk load: statistics and the visibility map.
      const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` });
      await client.connect();
      const tables = (await client.query<{ name: string }>(
        "select table_name as name from information_schema.tables where table_schema = $1 and table_name like 'usage\\_%'",
        [schema],
      )).rows.map((row) => row.name);
      await client.query(`vacuum analyze ${tables.join(", ")}`);
      await client.end();
      console.log("  vacuum analyze done (as autovacuum would after a bulk load)");
    } else {
      // Start the measurements from a steady state, not from a log full of the bulk load.
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(store.db);
      console.log(`  database file ${(statSync(target.path).size / 1e6).toFixed(0)} MB after a checkpoint (no ANALYZE run)`);
    }
    if (scenario === "single-guild") {
      await benchSingleGuildReports(store);
      return;
    }
    await benchReports(store);
    await benchWrites(store, label, "paced", PACED_WRITES);
    await benchWrites(store, label, "back-to-back", WRITES);
  } finally {
    await store.close();
  }
}

async function postgresReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

console.log(
  `node ${process.version}; ${ROWS.toLocaleString("en")} ledger rows; scenarios: ${[...SCENARIOS].join(", ")} ` +
    `(spread: ${DAYS} days, ${GUILDS} guilds, ${USERS} users; single-guild: 30 days, ${SINGLE_GUILD_MEMBERS} members); ` +
    `load average ${loadavg().map((n) => n.toFixed(2)).join(" ")} on ${availableParallelism()} CPUs`,
);
const scenarios = (["spread", "single-guild"] as const).filter((name) => SCENARIOS.has(name));

for (const scenario of scenarios) {
  const dir = mkdtempSync(join(tmpdir(), "dashtune-bench-"));
  try {
    await run("SQLite (better-sqlite3, WAL, synchronous=NORMAL)", { dialect: "sqlite", path: join(dir, "ledger.sqlite") }, undefined, scenario);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args["no-postgres"]) {
  console.log("\nPostgreSQL skipped (--no-postgres)");
} else {
  const reason = await postgresReachable();
  if (reason !== null) {
    console.log(`\nPostgreSQL skipped: ${PG_URL} is not reachable (${reason})`);
  } else {
    const version = new pg.Client({ connectionString: PG_URL });
    await version.connect();
    const { rows } = await version.query<{ server_version: string }>("show server_version");
    await version.end();
    for (const scenario of scenarios) {
      const schema = `bench_ledger_${process.pid}_${scenario.replace("-", "_")}`;
      try {
        await run(`PostgreSQL ${rows[0]?.server_version ?? ""} (pg pool via Kysely)`, { dialect: "postgres", connectionString: PG_URL }, schema, scenario);
      } finally {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      }
    }
  }
}
