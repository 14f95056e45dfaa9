import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { sql } from "kysely";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openUsageStore, recordCall, usageReport, type UsageStore } from "../../src/usage/index.js";

/* What is particular to the embedded store: a file, WAL, and checkpoints off the main thread. */

const run = promisify(execFile);

describe("the embedded SQLite store", () => {
  let dir: string;
  let store: UsageStore | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dashtune-sqlite-"));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (path: string, checkpointIntervalMs?: number) =>
    openUsageStore({ target: { dialect: "sqlite", path }, checkpointIntervalMs });

  async function writeCalls(count: number, from = 0): Promise<void> {
    for (let i = from; i < from + count; i++) {
      await recordCall(store!, {
        occurredAt: new Date(),
        guildId: "100000000000000001",
        channelId: "300000000000000001",
        userId: String(200000000000000000n + BigInt(i % 50)),
        feature: "song",
        model: "fun-music-v1",
        requestId: `req-${i}`,
        outcome: "ok",
        musicSeconds: 60,
        latencyMs: 40_000,
      });
    }
  }

  it("creates the directory of its file and keeps the database in WAL mode", async () => {
    const path = join(dir, "data", "nested", "usage.sqlite");
    store = await open(path);

    expect(existsSync(path)).toBe(true);
    const { rows } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
    expect(rows[0]?.journal_mode).toBe("wal");
  });

  it("never checkpoints inside a write on the main thread", async () => {
    store = await open(join(dir, "usage.sqlite"));

    const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db);
    expect(rows[0]?.wal_autocheckpoint).toBe(0);
  });

  it("moves the write-ahead log into the database file in the background", async () => {
    const path = join(dir, "usage.sqlite");
    store = await open(path, 50);
    const before = statSync(path).size;

    await writeCalls(3000);
    await sleep(300);

    // Pages reach the database file only through a checkpoint, and the main connection makes none.
    expect(statSync(path).size).toBeGreaterThan(before + 100_000);
  });

  it("keeps the log bounded under sustained writing, checkpointing on the main thread if it must", async () => {
    const path = join(dir, "usage.sqlite");
    const forced: number[] = [];
    store = await openUsageStore({
      target: { dialect: "sqlite", path },
      checkpointIntervalMs: 20,
      walLimitBytes: 1024 * 1024,
      onForcedCheckpoint: ({ walBytes }) => forced.push(walBytes),
    });
    const logBytes = () => (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

    const rows = 4000;
    let largestLog = 0;
    // Batches with only an event-loop turn between them: the worker alone cannot keep up.
    for (let written = 0; written < rows; written += 100) {
      await writeCalls(100, written);
      largestLog = Math.max(largestLog, logBytes());
      await new Promise((resolve) => setImmediate(resolve));
    }

    // Each write appends several 4 KB pages to the log: unchecked, it reaches about 100 MB here.
    expect(largestLog).toBeLessThan(40 * 1024 * 1024);
    expect(forced.length).toBeGreaterThan(0);
    expect((await usageReport(store, { guildId: "100000000000000001" }, "today")).total.calls).toBe(rows);
  });

  it("keeps every row across a close and a reopen", async () => {
    const path = join(dir, "usage.sqlite");
    store = await open(path);
    await writeCalls(100);
    await store.close();

    store = await open(path);
    await writeCalls(1, 100);

    expect((await usageReport(store, { guildId: "100000000000000001" }, "all")).total.calls).toBe(101);
  });

  it("lets a process that does nothing else finish closing it", async () => {
    // The checkpointer thread must not keep a process alive, nor let it exit half-way through close().
    const script = `
      const { openUsageStore } = await import(${JSON.stringify(new URL("../../src/usage/index.ts", import.meta.url).href)});
      const store = await openUsageStore({ target: { dialect: "sqlite", path: ${JSON.stringify(join(dir, "child.sqlite"))} } });
      await store.close();
      console.log("closed");
    `;
    const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script]);

    expect(stdout.trim()).toBe("closed");
  });

  it("leaves nothing for the garbage collector to crash on after its stores are closed", async () => {
    // better-sqlite3 12 on Node 24.19+ aborted the process when the collector finalized one of its
    // objects outside JavaScript ("Assertion failed: (env) != nullptr", WiseLibs/better-sqlite3#1476).
    // Version 13 is built on Node-API; this child proves closed stores leave nothing that crashes.
    const script = `
      const { openUsageStore, recordCall } = await import(${JSON.stringify(new URL("../../src/usage/index.ts", import.meta.url).href)});
      for (let i = 0; i < 5; i++) {
        const store = await openUsageStore({ target: { dialect: "sqlite", path: ${JSON.stringify(dir)} + "/gc-" + i + ".sqlite" } });
        await recordCall(store, { occurredAt: new Date(), guildId: "1", channelId: null, userId: "2", feature: "song", model: "m", outcome: "ok", latencyMs: 1 });
        await store.close();
      }
      const garbage = [];
      for (let i = 0; i < 200000; i++) garbage.push({ i });
      await new Promise((resolve) => setTimeout(resolve, 300));
      console.log("done");
    `;
    const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script]);

    expect(stdout.trim()).toBe("done");
  });

  it("works in memory, without a file or a checkpointer", async () => {
    store = await open(":memory:");
    await writeCalls(3);

    expect((await usageReport(store, { guildId: "100000000000000001" }, "today")).total.calls).toBe(3);
  });
});
