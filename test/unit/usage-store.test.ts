import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { migrateUsageDbTo } from "../../src/usage/migrations.js";
import { TEST_POSTGRES_URL, warnPostgresSkipped, whyPostgresIsUnavailable } from "../postgres.js";
import {
  dailySeries,
  getQuotaSettings,
  ledgerRows,
  memberReport,
  rebuildUsageTotals,
  migrateUsageDb,
  openUsageStore,
  quotaStatus,
  recordCall,
  recordDelivery,
  release,
  reserve,
  settle,
  sweepReservations,
  topSpenders,
  updateQuotaSettings,
  usageReport,
  DEFAULT_QUOTA_SETTINGS,
  type CallRecord,
  type LedgerRow,
  type OpenUsageStoreOptions,
  type PriceTable,
  type QuotaSettings,
  type UsageStore,
} from "../../src/usage/index.js";

/*
 * The same behaviour is checked on the embedded SQLite store and on PostgreSQL: one code path.
 * PostgreSQL runs when TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) answers;
 * each test gets its own schema, dropped afterwards, so parallel runs don't collide.
 */

const PG_URL = TEST_POSTGRES_URL;
const pgSkipReason = await whyPostgresIsUnavailable(PG_URL);
if (pgSkipReason !== null) warnPostgresSkipped("usage-store", pgSkipReason);

const PRICES: PriceTable = {
  currency: "CNY",
  models: {
    "fun-music-v1": { perMusicSecond: 0.1, perThousandInputTokens: 0, perThousandOutputTokens: 0, perThousandAudioTokens: 0 },
    "qwen-audio-turbo": {
      perMusicSecond: 0,
      perThousandInputTokens: 1,
      perThousandOutputTokens: 2,
      perThousandAudioTokens: 10,
    },
  },
};

const GUILD = "100000000000000001";
const OTHER_GUILD = "100000000000000002";
const ALICE = "200000000000000001";
const BOB = "200000000000000002";

type StoreOptions = { quotaDefaults?: Partial<QuotaSettings>; reservationTtlMs?: number };

type Backend = {
  name: "sqlite" | "postgres";
  skip: boolean;
  /** Opens a store on this backend's database (migrated on first use); every store of a test shares it. */
  open(clock: () => Date, options?: StoreOptions): Promise<UsageStore>;
  /** Empties the tables and closes the test's stores. */
  reset(): Promise<void>;
  /** Removes the database (file or schema). */
  remove(): Promise<void>;
};

const TABLES = [
  "usage_calls",
  "usage_daily_totals",
  "usage_member_totals",
  "usage_member_day_totals",
  "usage_member_snapshots",
  "usage_quota_user_day",
  "usage_quota_guild_month",
  "usage_quota_reservations",
  "usage_guild_settings",
] as const;

function backendWith(
  name: Backend["name"],
  skip: boolean,
  placement: () => Pick<OpenUsageStoreOptions, "target" | "schema">,
  remove: () => Promise<void>,
): Backend {
  const stores: UsageStore[] = [];
  let migrated = false;
  return {
    name,
    skip,
    async open(clock, options = {}) {
      const store = await openUsageStore({
        ...placement(),
        prices: PRICES,
        quotaDefaults: { ...DEFAULT_QUOTA_SETTINGS, ...options.quotaDefaults },
        reservationTtlMs: options.reservationTtlMs,
        now: clock,
        migrate: !migrated,
      });
      migrated = true;
      stores.push(store);
      return store;
    },
    async reset() {
      const [first] = stores;
      if (first) for (const table of TABLES) await first.db.deleteFrom(table).execute();
      await Promise.all(stores.splice(0).map((store) => store.close()));
    },
    remove,
  };
}

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), "dashtune-usage-"));
  return backendWith(
    "sqlite",
    false,
    () => ({ target: { dialect: "sqlite", path: join(dir, "usage.sqlite") } }),
    async () => rmSync(dir, { recursive: true, force: true }),
  );
}

function postgresBackend(): Backend {
  const schema = `usage_test_${randomUUID().replaceAll("-", "")}`;
  return backendWith(
    "postgres",
    pgSkipReason !== null,
    () => ({ target: { dialect: "postgres", connectionString: PG_URL }, schema }),
    async () => {
      if (pgSkipReason !== null) return;
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  );
}

const backends = [sqliteBackend(), postgresBackend()];

function call(overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    occurredAt: new Date("2025-06-15T12:00:00Z"),
    guildId: GUILD,
    channelId: "300000000000000001",
    userId: ALICE,
    feature: "song",
    model: "fun-music-v1",
    requestId: randomUUID(),
    outcome: "ok",
    musicSeconds: 60,
    latencyMs: 45_000,
    ...overrides,
  };
}

const DAY_MS = 86_400_000;

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The member-day totals a ledger's rows add up to, summed one row at a time, in key order. */
function memberDaySumsOf(rows: LedgerRow[]) {
  const sums = new Map<string, Record<string, string | number>>();
  for (const row of rows) {
    const keys = {
      guild_key: row.guildId ?? "dm",
      day: Math.floor(row.occurredAt.getTime() / DAY_MS),
      user_id: row.userId,
      feature: row.feature,
      model: row.model,
    };
    const id = JSON.stringify(Object.values(keys));
    const entry = sums.get(id) ?? {
      ...keys,
      calls: 0,
      failures: 0,
      music_seconds: 0,
      input_tokens: 0,
      output_tokens: 0,
      audio_tokens: 0,
      bytes_delivered: 0,
    };
    const add = (column: string, value: number) => (entry[column] = Number(entry[column]) + value);
    add("calls", 1);
    add("failures", row.outcome === "ok" ? 0 : 1);
    add("music_seconds", row.musicSeconds);
    add("input_tokens", row.inputTokens);
    add("output_tokens", row.outputTokens);
    add("audio_tokens", row.audioTokens);
    add("bytes_delivered", row.bytesDelivered ?? 0);
    sums.set(id, entry);
  }
  return [...sums.values()].sort(byColumns(["guild_key", "day", "user_id", "feature", "model"]));
}

/** Orders rows by these columns, first to last. */
function byColumns(order: readonly string[]) {
  return (a: Record<string, string | number>, b: Record<string, string | number>) => {
    for (const column of order) {
      const [x, y] = [a[column] ?? "", b[column] ?? ""];
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  };
}

async function memberDayTotalsIn(store: UsageStore) {
  return store.db
    .selectFrom("usage_member_day_totals")
    .selectAll()
    .orderBy(["guild_key", "day", "user_id", "feature", "model"])
    .execute();
}

/**
 * The member snapshots a ledger's rows add up to: per guild, member, feature and model, the sums
 * of every row up to the end of each day that has rows, in key order.
 */
function memberSnapshotsOf(rows: LedgerRow[]) {
  const running = new Map<string, Record<string, string | number>>();
  const snapshots: Record<string, string | number>[] = [];
  // memberDaySumsOf gives days in order within each member, feature and model.
  for (const entry of memberDaySumsOf(rows)) {
    const id = JSON.stringify([entry.guild_key, entry.user_id, entry.feature, entry.model]);
    const before = running.get(id);
    const sums = { ...entry };
    if (before) for (const column of SUMS) sums[column] = Number(before[column]) + Number(entry[column]);
    running.set(id, sums);
    snapshots.push(sums);
  }
  return snapshots.sort(byColumns(["guild_key", "user_id", "feature", "model", "day"]));
}

const SUMS = ["calls", "failures", "music_seconds", "input_tokens", "output_tokens", "audio_tokens", "bytes_delivered"] as const;

async function memberSnapshotsIn(store: UsageStore) {
  return store.db
    .selectFrom("usage_member_snapshots")
    .selectAll()
    .orderBy(["guild_key", "user_id", "feature", "model", "day"])
    .execute();
}

/** A database of its own for one test, away from the backend's shared one. */
function separateDatabase(name: Backend["name"]): {
  placement: Pick<OpenUsageStoreOptions, "target" | "schema">;
  remove(): Promise<void>;
} {
  if (name === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "dashtune-usage-migrate-"));
    return {
      placement: { target: { dialect: "sqlite", path: join(dir, "usage.sqlite") } },
      remove: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `usage_migrate_${randomUUID().replaceAll("-", "")}`;
  return {
    placement: { target: { dialect: "postgres", connectionString: PG_URL }, schema },
    async remove() {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}

describe.each(backends)("the usage store on $name", (backend) => {
  describe.skipIf(backend.skip)("", () => {
    let clock: Date;
    const now = () => clock;
    let store: UsageStore;
    const open = (options?: StoreOptions) => backend.open(now, options);

    beforeEach(async () => {
      clock = new Date("2025-06-15T12:00:00Z");
      store = await open();
    });
    afterEach(() => backend.reset());
    afterAll(() => backend.remove());

    describe("migrations", () => {
      it("applies its migrations once, so opening the store again changes nothing", async () => {
        const again = await open();
        expect(await migrateUsageDb(again.db)).toEqual([]);
      });
    });

    describe("ledger", () => {
      it("records one row per call with every figure", async () => {
        const result = await recordCall(
          store,
          call({ requestId: "req-1", feature: "analysis", model: "qwen-audio-turbo", musicSeconds: 0, inputTokens: 120, outputTokens: 300, audioTokens: 900, latencyMs: 2500 }),
        );
        expect(result).toEqual({ requestId: "req-1", inserted: true });

        const rows = await ledgerRows(store, { guildId: GUILD }, "all");
        expect(rows).toEqual([
          {
            requestId: "req-1",
            occurredAt: new Date("2025-06-15T12:00:00Z"),
            guildId: GUILD,
            channelId: "300000000000000001",
            userId: ALICE,
            feature: "analysis",
            model: "qwen-audio-turbo",
            outcome: "ok",
            musicSeconds: 0,
            inputTokens: 120,
            outputTokens: 300,
            audioTokens: 900,
            latencyMs: 2500,
            bytesDelivered: null,
            estimatedCost: expect.closeTo(0.12 + 0.6 + 9, 10),
          },
        ]);
      });

      it("writes a request id only once even when the call is recorded again", async () => {
        expect((await recordCall(store, call({ requestId: "req-dup" }))).inserted).toBe(true);
        expect((await recordCall(store, call({ requestId: "req-dup", musicSeconds: 999 }))).inserted).toBe(false);

        const rows = await ledgerRows(store, { guildId: GUILD }, "all");
        expect(rows).toHaveLength(1);
        expect(rows[0]?.musicSeconds).toBe(60);
      });

      it("gives a call that failed without a request id a local id of its own", async () => {
        const first = await recordCall(store, call({ requestId: undefined, outcome: "Timeout", musicSeconds: 0 }));
        const second = await recordCall(store, call({ requestId: undefined, outcome: "Timeout", musicSeconds: 0 }));

        expect(first.requestId).toMatch(/^local-/);
        expect(second.requestId).not.toBe(first.requestId);
        expect(await ledgerRows(store, { guildId: GUILD }, "all")).toHaveLength(2);
      });

      it("records the bytes delivered once delivery is done", async () => {
        await recordCall(store, call({ requestId: "req-2" }));

        expect(await recordDelivery(store, "req-2", 1_234_567)).toBe(true);
        expect(await recordDelivery(store, "no-such-request", 1)).toBe(false);
        const [row] = await ledgerRows(store, { guildId: GUILD }, "all");
        expect(row?.bytesDelivered).toBe(1_234_567);
      });

      it("records a call made outside any guild", async () => {
        await recordCall(store, call({ guildId: null, channelId: null }));

        expect(await ledgerRows(store, { guildId: null }, "all")).toHaveLength(1);
        expect(await ledgerRows(store, { guildId: GUILD }, "all")).toHaveLength(0);
      });

      it("refuses a record with impossible figures", async () => {
        await expect(recordCall(store, call({ inputTokens: -1 }))).rejects.toThrow();
        await expect(recordCall(store, call({ musicSeconds: Number.NaN }))).rejects.toThrow();
      });

      it("settles the reservation in the same transaction when the call succeeded", async () => {
        const held = await reserve(store, { guildId: GUILD, userId: ALICE, feature: "song", estimatedSeconds: 120, model: "fun-music-v1" });
        if (!held.ok) throw new Error("expected a reservation");

        const result = await recordCall(store, call({ musicSeconds: 75 }), { reservationId: held.reservationId });

        expect(result.reservation).toBe("settled");
        const status = await quotaStatus(store, { guildId: GUILD, userId: ALICE });
        expect(status.member.songs.used).toBe(1);
        expect(status.member.musicSeconds.used).toBe(75);
        expect(status.guild.musicSeconds.used).toBe(75);
        expect(status.guild.cost.used).toBeCloseTo(7.5);
      });

      it("refunds the reservation when the call failed", async () => {
        const held = await reserve(store, { guildId: GUILD, userId: ALICE, feature: "song", estimatedSeconds: 120 });
        if (!held.ok) throw new Error("expected a reservation");

        const result = await recordCall(store, call({ outcome: "InternalError", musicSeconds: 0 }), {
          reservationId: held.reservationId,
        });

        expect(result.reservation).toBe("released");
        const status = await quotaStatus(store, { guildId: GUILD, userId: ALICE });
        expect(status.member.songs.used).toBe(0);
        expect(status.member.musicSeconds.used).toBe(0);
        expect((await ledgerRows(store, { guildId: GUILD }, "all"))[0]?.outcome).toBe("InternalError");
      });

      it("does not settle a reservation twice when the same call is recorded twice", async () => {
        const held = await reserve(store, { guildId: GUILD, userId: ALICE, feature: "song", estimatedSeconds: 60 });
        if (!held.ok) throw new Error("expected a reservation");

        await recordCall(store, call({ requestId: "req-3" }), { reservationId: held.reservationId });
        const again = await recordCall(store, call({ requestId: "req-3" }), { reservationId: held.reservationId });

        expect(again).toEqual({ requestId: "req-3", inserted: false, reservation: "already-finished" });
        expect((await quotaStatus(store, { guildId: GUILD, userId: ALICE })).member.songs.used).toBe(1);
      });
    });

    describe("quotas", () => {
      const song = (userId = ALICE, estimatedSeconds = 60) =>
        ({ guildId: GUILD, userId, feature: "song", estimatedSeconds, model: "fun-music-v1" }) as const;
      const noCooldown = { songCooldownSeconds: 0 };

      async function reopen(options: StoreOptions): Promise<void> {
        await backend.reset();
        store = await open(options);
      }

      it("admits a song within every limit and holds its seconds while it is in flight", async () => {
        const result = await reserve(store, song(ALICE, 90));

        expect(result).toMatchObject({ ok: true, expiresAt: new Date(clock.getTime() + 30 * 60_000) });
        const status = await quotaStatus(store, { guildId: GUILD, userId: ALICE });
        expect(status.member.songs).toEqual({ used: 1, limit: 10, remaining: 9 });
        expect(status.member.musicSeconds).toEqual({ used: 90, limit: 1200, remaining: 1110 });
        expect(status.guild.musicSeconds.used).toBe(90);
      });

      it("stops a member at the daily song limit until the next UTC midnight", async () => {
        await reopen({ quotaDefaults: { ...noCooldown, userDailySongs: 2 } });
        for (let i = 0; i < 2; i++) {
          const held = await reserve(store, song());
          if (held.ok) await settle(store, held.reservationId, { musicSeconds: 60 });
        }

        expect(await reserve(store, song())).toEqual({
          ok: false,
          limit: "user-daily-songs",
          resetsAt: new Date("2025-06-16T00:00:00Z"),
          pending: false,
        });
        expect((await reserve(store, song(BOB))).ok).toBe(true);
        clock = new Date("2025-06-16T00:00:01Z");
        expect((await reserve(store, song())).ok).toBe(true);
      });

      it("admits a song while any of the member's daily music time is left, holding at most what is left", async () => {
        await reopen({ quotaDefaults: { ...noCooldown, userDailyMusicSeconds: 200 } });
        const first = await reserve(store, song(ALICE, 150));
        if (first.ok) await settle(store, first.reservationId, { musicSeconds: 150 });

        // 60 s wanted, 50 s left: admitted, holding the 50 s.
        const second = await reserve(store, song(ALICE, 60));
        expect(second.ok).toBe(true);
        // Nothing left while that song is made: refused, and said to free up when it finishes.
        expect(await reserve(store, song(ALICE, 60))).toMatchObject({ ok: false, limit: "user-daily-music-seconds", pending: true });
        if (second.ok) await settle(store, second.reservationId, { musicSeconds: 50 });
        // Spent for the day: refused until tomorrow, not pending.
        expect(await reserve(store, song(ALICE, 60))).toMatchObject({ ok: false, limit: "user-daily-music-seconds", pending: false });
      });

      it("lets a song start against a limit smaller than the hold estimate", async () => {
        await reopen({ quotaDefaults: { ...noCooldown, userDailyMusicSeconds: 120 } });
        expect((await reserve(store, song(ALICE, 200))).ok).toBe(true);
      });

      it("counts analyses and follow-up questions against the daily analyses limit", async () => {
        await reopen({ quotaDefaults: { userDailyAnalyses: 2 } });
        const analysis = { guildId: GUILD, userId: ALICE, model: "qwen-audio-turbo" } as const;

        expect((await reserve(store, { ...analysis, feature: "analysis" })).ok).toBe(true);
        expect((await reserve(store, { ...analysis, feature: "follow-up" })).ok).toBe(true);
        expect(await reserve(store, { ...analysis, feature: "follow-up" })).toMatchObject({
          ok: false,
          limit: "user-daily-analyses",
        });
        expect((await reserve(store, song())).ok).toBe(true);
      });

      it("makes a member wait out the cooldown between the starts of two songs", async () => {
        await reopen({ quotaDefaults: { songCooldownSeconds: 90 } });
        expect((await reserve(store, song())).ok).toBe(true);

        clock = new Date(clock.getTime() + 30_000);
        expect(await reserve(store, song())).toEqual({
          ok: false,
          limit: "song-cooldown",
          resetsAt: new Date("2025-06-15T12:01:30Z"),
          pending: false,
        });
        expect((await reserve(store, song(BOB))).ok).toBe(true);
        clock = new Date("2025-06-15T12:01:30Z");
        expect((await reserve(store, song())).ok).toBe(true);
      });

      it("starts no cooldown for a song whose call failed and was refunded", async () => {
        await reopen({ quotaDefaults: { songCooldownSeconds: 90 } });
        const held = await reserve(store, song());
        if (!held.ok) throw new Error("expected a reservation");

        expect(await release(store, held.reservationId)).toBe("released");
        expect((await reserve(store, song())).ok).toBe(true);
      });

      it("stops the guild at its monthly music budget until the first of next month", async () => {
        await reopen({ quotaDefaults: { ...noCooldown, guildMonthlyMusicSeconds: 300 } });
        const held = await reserve(store, song(ALICE, 200));
        if (held.ok) await settle(store, held.reservationId, { musicSeconds: 300 });

        expect(await reserve(store, song(BOB, 60))).toEqual({
          ok: false,
          limit: "guild-monthly-music-seconds",
          resetsAt: new Date("2025-07-01T00:00:00Z"),
          pending: false,
        });
        expect((await reserve(store, { ...song(BOB, 60), guildId: OTHER_GUILD })).ok).toBe(true);
        clock = new Date("2025-07-01T00:00:00Z");
        expect((await reserve(store, song(BOB, 60))).ok).toBe(true);
      });

      it("stops the guild at its monthly cost budget, pricing songs and analyses", async () => {
        await reopen({ quotaDefaults: { ...noCooldown, guildMonthlyCost: 10 } });
        const held = await reserve(store, song(ALICE, 60));
        if (held.ok) await settle(store, held.reservationId, { musicSeconds: 60 }); // 6 CNY
        const analysis = await reserve(store, { guildId: GUILD, userId: BOB, feature: "analysis", model: "qwen-audio-turbo" });
        if (analysis.ok) await settle(store, analysis.reservationId, { audioTokens: 400 }); // 4 CNY

        expect(await reserve(store, { guildId: GUILD, userId: BOB, feature: "analysis", model: "qwen-audio-turbo" })).toMatchObject({
          ok: false,
          limit: "guild-monthly-cost",
          resetsAt: new Date("2025-07-01T00:00:00Z"),
        });
        expect((await quotaStatus(store, { guildId: GUILD, userId: BOB })).guild.cost).toEqual({ used: 10, limit: 10, remaining: 0 });
      });

      it("gives the quota back when a reservation is released", async () => {
        await reopen({ quotaDefaults: { ...noCooldown, userDailySongs: 1 } });
        const held = await reserve(store, song());
        if (!held.ok) throw new Error("expected a reservation");
        expect((await reserve(store, song())).ok).toBe(false);

        await release(store, held.reservationId);

        expect((await reserve(store, song())).ok).toBe(true);
      });

      it("frees quota held by a reservation abandoned past its expiry, and the sweep marks it expired", async () => {
        await reopen({ quotaDefaults: { ...noCooldown, userDailySongs: 1 }, reservationTtlMs: 60_000 });
        expect((await reserve(store, song())).ok).toBe(true);
        expect((await reserve(store, song())).ok).toBe(false);

        clock = new Date(clock.getTime() + 60_000);

        expect((await reserve(store, song())).ok).toBe(true);
        expect(await sweepReservations(store)).toEqual({ expired: 1, deleted: 0 });
      });

      it("still charges a call settled after its reservation expired", async () => {
        await reopen({ quotaDefaults: noCooldown, reservationTtlMs: 60_000 });
        const held = await reserve(store, song());
        if (!held.ok) throw new Error("expected a reservation");
        clock = new Date(clock.getTime() + 120_000);
        await sweepReservations(store);

        expect(await settle(store, held.reservationId, { musicSeconds: 80 })).toBe("settled");
        expect((await quotaStatus(store, { guildId: GUILD, userId: ALICE })).member.musicSeconds.used).toBe(80);
      });

      it("settles and releases a reservation only once", async () => {
        const held = await reserve(store, song());
        if (!held.ok) throw new Error("expected a reservation");

        expect(await settle(store, held.reservationId, { musicSeconds: 60 })).toBe("settled");
        expect(await settle(store, held.reservationId, { musicSeconds: 60 })).toBe("already-finished");
        expect(await release(store, held.reservationId)).toBe("already-finished");
        expect(await release(store, "no-such-reservation")).toBe("unknown-reservation");
        expect(await settle(store, "no-such-reservation", {})).toBe("unknown-reservation");
        expect((await quotaStatus(store, { guildId: GUILD, userId: ALICE })).member.songs.used).toBe(1);
      });

      it("deletes finished reservations and old daily counters when they are a week old", async () => {
        const held = await reserve(store, song());
        if (held.ok) await settle(store, held.reservationId, { musicSeconds: 60 });

        clock = new Date(clock.getTime() + 8 * 86_400_000);

        expect(await sweepReservations(store)).toEqual({ expired: 0, deleted: 1 });
      });

      it("applies a guild's overrides over the defaults, leaves other guilds alone, and restores a default", async () => {
        const changed = await updateQuotaSettings(store, GUILD, { userDailySongs: 3, guildMonthlyCost: null, guildMonthlyMusicSeconds: 600 }, { updatedBy: BOB });

        expect(changed.overrides).toEqual({ userDailySongs: 3, guildMonthlyCost: null, guildMonthlyMusicSeconds: 600 });
        expect(changed.effective).toEqual({ ...DEFAULT_QUOTA_SETTINGS, userDailySongs: 3, guildMonthlyMusicSeconds: 600 });
        expect((await getQuotaSettings(store, OTHER_GUILD)).effective).toEqual(DEFAULT_QUOTA_SETTINGS);

        const restored = await updateQuotaSettings(store, GUILD, { userDailySongs: "default" }, { updatedBy: BOB });
        expect(restored.overrides).toEqual({ guildMonthlyCost: null, guildMonthlyMusicSeconds: 600 });
        expect((await getQuotaSettings(store, GUILD)).effective.userDailySongs).toBe(DEFAULT_QUOTA_SETTINGS.userDailySongs);
      });

      it("enforces a guild's overridden limit", async () => {
        await updateQuotaSettings(store, GUILD, { userDailySongs: 1, songCooldownSeconds: 0 }, { updatedBy: BOB });
        expect((await reserve(store, song())).ok).toBe(true);

        expect(await reserve(store, song())).toMatchObject({ ok: false, limit: "user-daily-songs" });
      });

      it("refuses settings that make no sense", async () => {
        await expect(updateQuotaSettings(store, GUILD, { userDailySongs: -1 }, { updatedBy: BOB })).rejects.toThrow();
        await expect(updateQuotaSettings(store, GUILD, { songCooldownSeconds: 1.5 }, { updatedBy: BOB })).rejects.toThrow();
      });

      it("reports a member's remaining quota with the calls still in flight", async () => {
        const done = await reserve(store, song(ALICE, 60));
        if (done.ok) await settle(store, done.reservationId, { musicSeconds: 70 });
        clock = new Date(clock.getTime() + 120_000);
        await reserve(store, song(ALICE, 100));

        const status = await quotaStatus(store, { guildId: GUILD, userId: ALICE });

        expect(status.member.songs).toEqual({ used: 2, limit: 10, remaining: 8 });
        expect(status.member.musicSeconds).toEqual({ used: 170, limit: 1200, remaining: 1030 });
        expect(status.member.resetsAt).toEqual(new Date("2025-06-16T00:00:00Z"));
        expect(status.nextSongAt).toEqual(new Date(clock.getTime() + 60_000));
        expect(status.guild).toMatchObject({ currency: "CNY", resetsAt: new Date("2025-07-01T00:00:00Z") });
      });

      it("admits exactly 5 of 20 simultaneous reserves against a remaining quota of 5", async () => {
        await reopen({ quotaDefaults: { ...noCooldown, userDailySongs: 5 } });

        const results = await Promise.all(Array.from({ length: 20 }, () => reserve(store, song())));

        expect(results.filter((r) => r.ok)).toHaveLength(5);
        expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.limit === "user-daily-songs")).toBe(true);
      });

      it("admits exactly 5 of 20 members reserving at once against a guild budget of five songs", async () => {
        await reopen({ quotaDefaults: { ...noCooldown, guildMonthlyMusicSeconds: 300 } });

        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => reserve(store, song(`2000000000000001${String(i).padStart(2, "0")}`, 60))),
        );

        expect(results.filter((r) => r.ok)).toHaveLength(5);
      });

      it.skipIf(backend.name !== "postgres")(
        "admits exactly 5 of 20 reserves raced from two separate connection pools",
        async () => {
          await reopen({ quotaDefaults: { ...noCooldown, userDailySongs: 5 } });
          const second = await open({ quotaDefaults: { ...noCooldown, userDailySongs: 5 } });

          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) => reserve(i % 2 === 0 ? store : second, song())),
          );

          expect(results.filter((r) => r.ok)).toHaveLength(5);
        },
      );
    });

    describe("member-day totals", () => {
      const at = (iso: string) => new Date(iso);

      /** Writes of every kind: ok and failed, members, days, guilds, DMs, a repeat, deliveries. */
      async function recordMixedCalls(): Promise<void> {
        clock = at("2025-06-18T12:00:00Z");
        const calls: CallRecord[] = [
          call({ occurredAt: at("2025-06-18T00:00:00Z"), requestId: "mix-1", musicSeconds: 60 }),
          call({ occurredAt: at("2025-06-18T23:59:59.999Z"), requestId: "mix-2", musicSeconds: 90.5 }),
          call({ occurredAt: at("2025-06-17T23:59:59.999Z"), requestId: "mix-3", musicSeconds: 30 }),
          call({ occurredAt: at("2025-06-18T09:00:00Z"), requestId: "mix-4", userId: BOB, outcome: "Throttling", musicSeconds: 0 }),
          call({ occurredAt: at("2025-06-18T10:00:00Z"), requestId: undefined, userId: BOB, outcome: "Timeout", musicSeconds: 0 }),
          call({ occurredAt: at("2025-06-17T10:00:00Z"), requestId: "mix-5", feature: "analysis", model: "qwen-audio-turbo", musicSeconds: 0, inputTokens: 1000, outputTokens: 500, audioTokens: 2000 }),
          call({ occurredAt: at("2025-06-17T11:00:00Z"), requestId: "mix-6", feature: "follow-up", model: "qwen-audio-turbo", musicSeconds: 0, inputTokens: 300, outputTokens: 200 }),
          call({ occurredAt: at("2025-06-12T10:00:00Z"), requestId: "mix-7", userId: BOB, musicSeconds: 45, model: "fun-music-preview" }),
          call({ occurredAt: at("2025-05-20T00:00:00Z"), requestId: "mix-8", userId: BOB, musicSeconds: 120 }),
          call({ occurredAt: at("2025-05-19T23:59:59Z"), requestId: "mix-9", userId: BOB, musicSeconds: 500 }),
          call({ occurredAt: at("2025-06-18T08:00:00Z"), requestId: "mix-10", guildId: OTHER_GUILD, musicSeconds: 200, userId: BOB }),
          call({ occurredAt: at("2025-06-18T08:00:00Z"), requestId: "mix-11", guildId: null, channelId: null, musicSeconds: 20 }),
          // The same request again, with other figures: it must not count twice.
          call({ occurredAt: at("2025-06-18T00:00:00Z"), requestId: "mix-1", musicSeconds: 999 }),
        ];
        for (const record of calls) await recordCall(store, record);
        await recordDelivery(store, "mix-1", 4_000_000);
        await recordDelivery(store, "mix-1", 3_000_000);
        await recordDelivery(store, "mix-5", 10_000);
      }

      /** Top members of a period computed from the rows, the way the reports used to. */
      function topFromRows(rows: LedgerRow[], from: Date, guildId: string) {
        const byId = new Map<string, { id: string; calls: number; failures: number; musicSeconds: number; estimatedCost: number }>();
        for (const row of rows) {
          if (row.guildId !== guildId || row.occurredAt < from) continue;
          const entry = byId.get(row.userId) ?? { id: row.userId, calls: 0, failures: 0, musicSeconds: 0, estimatedCost: 0 };
          entry.calls += 1;
          entry.failures += row.outcome === "ok" ? 0 : 1;
          entry.musicSeconds += row.musicSeconds;
          entry.estimatedCost += row.estimatedCost ?? 0;
          byId.set(row.userId, entry);
        }
        return [...byId.values()].sort(
          (a, b) => b.estimatedCost - a.estimatedCost || b.musicSeconds - a.musicSeconds || b.calls - a.calls || a.id.localeCompare(b.id),
        );
      }

      it("keeps member-day totals equal to a row-by-row sum after mixed writes", async () => {
        await recordMixedCalls();
        const rows = await ledgerRows(store, "all-guilds", "all");

        expect(rows).toHaveLength(12);
        expect(await memberDayTotalsIn(store)).toEqual(memberDaySumsOf(rows));
        // Calls and deliveries recorded after later days (mix-3, mix-8, mix-5's delivery) reached
        // the later snapshots too.
        expect(await memberSnapshotsIn(store)).toEqual(memberSnapshotsOf(rows));
      });

      it("rebuilds the member-day totals to what the writes kept", async () => {
        await recordMixedCalls();
        const kept = await memberDayTotalsIn(store);

        await rebuildUsageTotals(store);

        expect(await memberDayTotalsIn(store)).toEqual(kept);
      });

      it("rebuilds the member snapshots to what the writes kept", async () => {
        await recordMixedCalls();
        const kept = await memberSnapshotsIn(store);

        await rebuildUsageTotals(store);

        expect(await memberSnapshotsIn(store)).toEqual(kept);
        expect(kept.length).toBeGreaterThan(0);
      });

      it("gives the same top members as summing the rows, over many members, days and late writes", async () => {
        clock = at("2025-06-18T12:00:00Z");
        const next = seededRandom(11);
        const members = Array.from({ length: 7 }, (_, i) => `20000000000000010${i}`);
        const records: CallRecord[] = Array.from({ length: 240 }, (_, i) => {
          const analysis = next() < 0.4;
          return call({
            // Anywhere in the last 45 days, written in no particular order.
            occurredAt: new Date(clock.getTime() - Math.floor(next() * 45 * DAY_MS)),
            requestId: `many-${i}`,
            guildId: next() < 0.85 ? GUILD : OTHER_GUILD,
            userId: members[Math.floor(next() * members.length)] ?? ALICE,
            feature: analysis ? (next() < 0.7 ? "analysis" : "follow-up") : "song",
            model: analysis ? "qwen-audio-turbo" : next() < 0.8 ? "fun-music-v1" : "fun-music-preview",
            outcome: next() < 0.1 ? "InternalError" : "ok",
            // Durations that binary fractions cannot hold exactly.
            musicSeconds: analysis ? 0 : Math.round(next() * 24_000) / 100,
            inputTokens: analysis ? Math.floor(next() * 500) : 0,
            outputTokens: analysis ? Math.floor(next() * 900) : 0,
            audioTokens: analysis ? Math.floor(next() * 3000) : 0,
          });
        });
        for (const record of records) await recordCall(store, record);
        for (let i = 0; i < 240; i += 9) await recordDelivery(store, `many-${i}`, 1000 + i);
        const rows = await ledgerRows(store, "all-guilds", "all");

        expect(await memberSnapshotsIn(store)).toEqual(
          memberSnapshotsOf(rows).map((row) => ({ ...row, music_seconds: expect.closeTo(Number(row.music_seconds), 6) })),
        );
        for (const period of ["today", "7d", "30d", "month"] as const) {
          const from = (await usageReport(store, { guildId: GUILD }, period)).from ?? new Date(0);
          const expected = topFromRows(rows, from, GUILD);
          const top = await topSpenders(store, { guildId: GUILD }, period, { by: "user", limit: 100 });
          expect(top.length, period).toBeGreaterThan(0);
          expect(top, period).toEqual(
            expected.map((entry) => ({
              ...entry,
              musicSeconds: expect.closeTo(entry.musicSeconds, 6),
              estimatedCost: expect.closeTo(entry.estimatedCost, 6),
            })),
          );
        }
      });

      it("gives the same top members and member figures as summing the rows, for every period", async () => {
        await recordMixedCalls();
        const rows = await ledgerRows(store, "all-guilds", "all");

        for (const period of ["today", "7d", "30d", "month"] as const) {
          const from = (await usageReport(store, { guildId: GUILD }, period)).from ?? new Date(0);
          const expected = topFromRows(rows, from, GUILD);
          const top = await topSpenders(store, { guildId: GUILD }, period, { by: "user" });
          expect(top.map((entry) => entry.id), period).toEqual(expected.map((entry) => entry.id));
          expect(top, period).toEqual(
            expected.map((entry) => ({ ...entry, estimatedCost: expect.closeTo(entry.estimatedCost, 10) })),
          );
          for (const userId of [ALICE, BOB]) {
            const mine = rows.filter((row) => row.guildId === GUILD && row.userId === userId && row.occurredAt >= from);
            const report = await usageReport(store, { guildId: GUILD, userId }, period);
            expect(report.total, `${period} ${userId}`).toMatchObject({
              calls: mine.length,
              failures: mine.filter((row) => row.outcome !== "ok").length,
              musicSeconds: mine.reduce((sum, row) => sum + row.musicSeconds, 0),
              bytesDelivered: mine.reduce((sum, row) => sum + (row.bytesDelivered ?? 0), 0),
            });
            const series = await dailySeries(store, { guildId: GUILD, userId }, period);
            expect(series.reduce((sum, point) => sum + point.calls, 0), `${period} ${userId}`).toBe(mine.length);
          }
        }
        expect((await topSpenders(store, { guildId: GUILD }, "30d", { by: "user" })).map((entry) => entry.id)).toEqual([ALICE, BOB]);
        expect((await usageReport(store, { guildId: null, userId: ALICE }, "today")).total.musicSeconds).toBe(20);
      });

      it("is filled from the rows already there when a ledger is migrated from 0003", async () => {
        clock = at("2025-06-18T12:00:00Z");
        const database = separateDatabase(backend.name);
        const opened: UsageStore[] = [];
        try {
          const old = await openUsageStore({ ...database.placement, prices: PRICES, now, migrate: false });
          opened.push(old);
          expect(await migrateUsageDbTo(old.db, "0003_bot_state", { schema: database.placement.schema })).toEqual([
            "0001_ledger",
            "0002_quotas",
            "0003_bot_state",
          ]);
          // Rows as a release without the member-day table wrote them.
          const users = [ALICE, BOB, "200000000000000003"];
          const oldRows = Array.from({ length: 40 }, (_, i) => ({
            request_id: `old-${i}`,
            occurred_at: Date.parse("2025-06-18T12:00:00Z") - i * 7 * 3_600_000,
            guild_id: i % 5 === 0 ? null : i % 3 === 0 ? OTHER_GUILD : GUILD,
            channel_id: null,
            user_id: users[i % users.length] ?? ALICE,
            feature: i % 4 === 0 ? ("analysis" as const) : ("song" as const),
            model: i % 4 === 0 ? "qwen-audio-turbo" : "fun-music-v1",
            outcome: i % 7 === 0 ? "InternalError" : "ok",
            music_seconds: i % 4 === 0 ? 0 : 30 + i,
            input_tokens: i % 4 === 0 ? 100 + i : 0,
            output_tokens: i % 4 === 0 ? 200 : 0,
            audio_tokens: i % 4 === 0 ? 1000 : 0,
            latency_ms: 1000,
            bytes_delivered: i % 2 === 0 ? 1000 * i : null,
          }));
          await old.db.insertInto("usage_calls").values(oldRows).execute();
          // And the all-time member totals that release's writes kept with them (0001).
          await sql`
            insert into usage_member_totals (guild_key, user_id, feature, model, calls, failures, music_seconds,
              input_tokens, output_tokens, audio_tokens, bytes_delivered)
            select coalesce(guild_id, 'dm'), user_id, feature, model, count(*),
              sum(case when outcome <> 'ok' then 1 else 0 end), sum(music_seconds), sum(input_tokens),
              sum(output_tokens), sum(audio_tokens), coalesce(sum(bytes_delivered), 0)
            from usage_calls group by coalesce(guild_id, 'dm'), user_id, feature, model
          `.execute(old.db);

          expect(await migrateUsageDb(old.db, { schema: database.placement.schema })).toContain("0004_member_day_totals");
          const rows = await ledgerRows(old, "all-guilds", "all");
          expect(rows).toHaveLength(40);
          const backfilled = await memberDayTotalsIn(old);
          expect(backfilled).toEqual(memberDaySumsOf(rows));
          // 0007 fills its snapshots from these member-day totals.
          expect(await memberSnapshotsIn(old)).toEqual(memberSnapshotsOf(rows));

          // The store then keeps them up to date, and a rebuild agrees.
          await recordCall(old, call({ occurredAt: at("2025-06-18T11:00:00Z"), requestId: "new-1" }));
          expect(await memberDayTotalsIn(old)).toEqual(memberDaySumsOf(await ledgerRows(old, "all-guilds", "all")));
          expect(await memberSnapshotsIn(old)).toEqual(memberSnapshotsOf(await ledgerRows(old, "all-guilds", "all")));
          const top = await topSpenders(old, { guildId: GUILD }, "7d", { by: "user" });
          expect(top.map((entry) => entry.id)).toEqual(
            topFromRows(await ledgerRows(old, "all-guilds", "all"), at("2025-06-12T00:00:00Z"), GUILD).map((entry) => entry.id),
          );
        } finally {
          await Promise.all(opened.map((s) => s.close()));
          await database.remove();
        }
      });
    });

    describe("reports", () => {
      // Wednesday 2025-06-18, 12:00 UTC.
      const today = new Date("2025-06-18T12:00:00Z");
      const at = (iso: string) => new Date(iso);

      beforeEach(async () => {
        clock = today;
        const calls: CallRecord[] = [
          call({ occurredAt: at("2025-06-18T08:00:00Z"), musicSeconds: 60 }),
          call({ occurredAt: at("2025-06-18T09:00:00Z"), userId: BOB, musicSeconds: 120 }),
          call({ occurredAt: at("2025-06-18T10:00:00Z"), userId: BOB, outcome: "Throttling", musicSeconds: 0, requestId: undefined }),
          call({ occurredAt: at("2025-06-17T10:00:00Z"), feature: "analysis", model: "qwen-audio-turbo", musicSeconds: 0, inputTokens: 1000, outputTokens: 500, audioTokens: 2000 }),
          call({ occurredAt: at("2025-06-16T10:00:00Z"), feature: "follow-up", model: "qwen-audio-turbo", musicSeconds: 0, inputTokens: 500, outputTokens: 500 }),
          call({ occurredAt: at("2025-06-10T10:00:00Z"), musicSeconds: 30 }),
          call({ occurredAt: at("2025-05-25T10:00:00Z"), musicSeconds: 45, userId: BOB }),
          call({ occurredAt: at("2025-01-02T10:00:00Z"), musicSeconds: 10, model: "fun-music-preview" }),
          call({ occurredAt: at("2025-06-18T07:00:00Z"), guildId: OTHER_GUILD, musicSeconds: 200, userId: BOB }),
        ];
        for (const record of calls) await recordCall(store, record);
      });

      it("totals calls, failures, music seconds, tokens and estimated cost per feature", async () => {
        const report = await usageReport(store, { guildId: GUILD }, "7d");

        expect(report.from).toEqual(at("2025-06-12T00:00:00Z"));
        expect(report.currency).toBe("CNY");
        expect(report.byFeature.song).toEqual({
          calls: 3,
          failures: 1,
          musicSeconds: 180,
          inputTokens: 0,
          outputTokens: 0,
          audioTokens: 0,
          bytesDelivered: 0,
          estimatedCost: 18,
        });
        expect(report.byFeature.analysis).toMatchObject({ calls: 1, inputTokens: 1000, outputTokens: 500, audioTokens: 2000, estimatedCost: 1 + 1 + 20 });
        expect(report.byFeature["follow-up"]).toMatchObject({ calls: 1, estimatedCost: 0.5 + 1 });
        expect(report.total).toMatchObject({ calls: 5, failures: 1, musicSeconds: 180 });
        expect(report.total.estimatedCost).toBeCloseTo(18 + 22 + 1.5);
      });

      it("limits today, 7 days, 30 days, this month and all to their UTC ranges", async () => {
        const calls = async (period: "today" | "7d" | "30d" | "month" | "all") =>
          (await usageReport(store, { guildId: GUILD }, period)).total.calls;

        expect(await calls("today")).toBe(3);
        expect(await calls("7d")).toBe(5);
        expect(await calls("month")).toBe(6);
        expect(await calls("30d")).toBe(7);
        expect(await calls("all")).toBe(8);
      });

      it("names the models that have no price instead of costing them at zero silently", async () => {
        const report = await usageReport(store, { guildId: GUILD }, "all");

        expect(report.unpricedModels).toEqual(["fun-music-preview"]);
      });

      it("lists the members who spent most first", async () => {
        const top = await topSpenders(store, { guildId: GUILD }, "30d", { by: "user" });

        expect(top.map((entry) => entry.id)).toEqual([ALICE, BOB]);
        expect(top[0]).toMatchObject({ calls: 4, musicSeconds: 90, estimatedCost: expect.closeTo(6 + 22 + 1.5 + 3, 10) });
        expect(top[1]).toMatchObject({ calls: 3, failures: 1, musicSeconds: 165, estimatedCost: 16.5 });
      });

      it("gives bot owners the totals of every guild and the guilds that spent most", async () => {
        const all = await usageReport(store, "all-guilds", "today");
        const guilds = await topSpenders(store, "all-guilds", "today", { by: "guild", limit: 5 });

        expect(all.total).toMatchObject({ calls: 4, musicSeconds: 380 });
        expect(guilds).toEqual([
          { id: OTHER_GUILD, calls: 1, failures: 0, musicSeconds: 200, estimatedCost: 20 },
          { id: GUILD, calls: 3, failures: 1, musicSeconds: 180, estimatedCost: 18 },
        ]);
      });

      it("builds a daily series with the days without calls as zeros", async () => {
        const series = await dailySeries(store, { guildId: GUILD }, "7d");

        expect(series.map((point) => point.day)).toEqual([
          "2025-06-12",
          "2025-06-13",
          "2025-06-14",
          "2025-06-15",
          "2025-06-16",
          "2025-06-17",
          "2025-06-18",
        ]);
        expect(series.map((point) => point.calls)).toEqual([0, 0, 0, 0, 1, 1, 3]);
        expect(series[6]).toEqual({
          day: "2025-06-18",
          calls: 3,
          songs: 3,
          analyses: 0,
          failures: 1,
          musicSeconds: 180,
          tokens: 0,
          estimatedCost: 18,
        });
        expect(series[5]).toMatchObject({ day: "2025-06-17", songs: 0, analyses: 1, tokens: 3500 });
      });

      it("starts the all-time series at the first recorded call", async () => {
        const series = await dailySeries(store, { guildId: GUILD }, "all");

        expect(series[0]?.day).toBe("2025-01-02");
        expect(series.at(-1)?.day).toBe("2025-06-18");
      });

      it("shows a member their own usage next to their remaining quota", async () => {
        const report = await memberReport(store, { guildId: GUILD, userId: BOB }, "today");

        expect(report.usage.total).toMatchObject({ calls: 2, failures: 1, musicSeconds: 120 });
        expect(report.quota.member.songs.limit).toBe(DEFAULT_QUOTA_SETTINGS.userDailySongs);
      });

      it("exports raw rows oldest first, page by page", async () => {
        const first = await ledgerRows(store, { guildId: GUILD }, "all", { limit: 5 });
        const last = first.at(-1);
        const rest = await ledgerRows(store, { guildId: GUILD }, "all", { limit: 5, ...(last ? { after: last } : {}) });

        const all = [...first, ...rest];
        expect(all).toHaveLength(8);
        expect(all.map((row) => row.occurredAt.getTime())).toEqual(
          [...all.map((row) => row.occurredAt.getTime())].sort((a, b) => a - b),
        );
        expect(new Set(all.map((row) => row.requestId)).size).toBe(8);
      });

      it("keeps its report totals equal to the sums of the rows", async () => {
        await recordDelivery(store, (await ledgerRows(store, { guildId: GUILD }, "today"))[0]?.requestId ?? "", 5_000_000);
        const snapshot = async () => ({
          daily: await store.db.selectFrom("usage_daily_totals").selectAll().orderBy(["guild_key", "day", "feature", "model"]).execute(),
          members: await store.db.selectFrom("usage_member_totals").selectAll().orderBy(["guild_key", "user_id", "feature", "model"]).execute(),
        });
        const kept = await snapshot();

        await rebuildUsageTotals(store);

        expect(await snapshot()).toEqual(kept);
        expect(kept.daily.length).toBeGreaterThan(0);
      });

      it("counts delivered bytes once, even when a delivery is recorded again", async () => {
        const [row] = await ledgerRows(store, { guildId: GUILD }, "today");
        await recordDelivery(store, row?.requestId ?? "", 3_000_000);
        await recordDelivery(store, row?.requestId ?? "", 2_000_000);

        expect((await usageReport(store, { guildId: GUILD }, "today")).total.bytesDelivered).toBe(2_000_000);
      });

      it("gives the same all-time member figures from the totals as from the rows", async () => {
        const allTime = await usageReport(store, { guildId: GUILD, userId: ALICE }, "all");
        const fromRows = await usageReport(store, { guildId: GUILD, userId: ALICE }, "30d");

        expect(allTime.total.calls).toBe(fromRows.total.calls + 1); // the January call
        expect(allTime.byFeature.analysis).toEqual(fromRows.byFeature.analysis);
        expect(await topSpenders(store, { guildId: GUILD }, "all", { by: "user" })).toEqual([
          expect.objectContaining({ id: ALICE, calls: 5, musicSeconds: 100 }),
          expect.objectContaining({ id: BOB, calls: 3, musicSeconds: 165 }),
        ]);
      });

      it("reports calls outside any guild under their own key", async () => {
        await recordCall(store, call({ guildId: null, channelId: null, occurredAt: today, musicSeconds: 20 }));

        expect((await usageReport(store, { guildId: null }, "today")).total.musicSeconds).toBe(20);
        expect((await topSpenders(store, "all-guilds", "today", { by: "guild" })).map((entry) => entry.id)).toContain("dm");
      });

      it("exports one member's rows only", async () => {
        const rows = await ledgerRows(store, { guildId: GUILD, userId: BOB }, "all");

        expect(rows.map((row) => row.userId)).toEqual([BOB, BOB, BOB]);
      });
    });
  });
});
