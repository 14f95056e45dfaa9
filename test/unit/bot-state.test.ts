import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createDbGuildSettingsStore } from "../../src/settings/guild-settings-db.js";
import { createDbSongRecordStore } from "../../src/songs/song-records-db.js";
import type { SongRecord } from "../../src/songs/song-records.js";
import { openUsageStore, type UsageStore } from "../../src/usage/index.js";

const PG_URL = process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
const hasPostgres = await postgresReachable();
if (!hasPostgres) console.warn(`[bot-state] PostgreSQL tests skipped: ${PG_URL.replace(/\/\/[^@/]*@/, "//…@")} is not reachable.`);

const dir = mkdtempSync(join(tmpdir(), "dashtune-state-"));
const pgSchema = `bot_state_${randomUUID().replaceAll("-", "")}`;
const stores: UsageStore[] = [];
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  rmSync(dir, { recursive: true, force: true });
  if (hasPostgres) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop schema if exists ${pgSchema} cascade`);
    await client.end();
  }
});

const backends = [
  { name: "SQLite", skip: false, open: () => openUsageStore({ target: { dialect: "sqlite", path: join(dir, "state.sqlite") } }) },
  { name: "PostgreSQL", skip: !hasPostgres, open: () => openUsageStore({ target: { dialect: "postgres", connectionString: PG_URL }, schema: pgSchema }) },
];

const record: SongRecord = {
  id: "AbC123xyz_-9",
  requesterId: "200000000000000001",
  guildId: "100000000000000001",
  channelId: "300000000000000001",
  input: { prompt: "rainy city pop", gender: "male", format: "wav", watermark: true },
  title: "rainy city pop",
  resultLyrics: "[verse]\nStreetlights",
  requestId: "46c51288-7ed6-95cc-a119-000000000000",
  audioUrl: "http://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/x.wav",
  fileName: "rainy-city-pop.wav",
  createdAt: new Date("2026-11-01T10:00:00Z"),
};

describe.each(backends)("bot state on $name", (backend) => {
  describe.skipIf(backend.skip)("", () => {
    it("keeps a song record whole across store instances, and prunes old ones", async () => {
      const first = await backend.open();
      stores.push(first);
      await createDbSongRecordStore(first).save(record);
      const second = await backend.open();
      stores.push(second);
      const songs = createDbSongRecordStore(second);
      expect(await songs.get(record.id)).toEqual(record);
      expect(await songs.get("missing12345")).toBeUndefined();
      expect(await songs.prune(1000)).toBe(1);
      expect(await songs.get(record.id)).toBeUndefined();
    });

    it("stores a server's setting and falls back to the default elsewhere", async () => {
      const store = await backend.open();
      stores.push(store);
      const settings = createDbGuildSettingsStore(store, { analysisRepliesPublic: false });
      expect(await settings.update("100000000000000009", { analysisRepliesPublic: true })).toEqual({ analysisRepliesPublic: true });
      expect(await settings.get("100000000000000009")).toEqual({ analysisRepliesPublic: true });
      expect(await settings.update("100000000000000009", { analysisRepliesPublic: false })).toEqual({ analysisRepliesPublic: false });
      expect(await settings.get("100000000000000008")).toEqual({ analysisRepliesPublic: false });
      expect(await settings.get(null)).toEqual({ analysisRepliesPublic: false });
    });
  });
});
