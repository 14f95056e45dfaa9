import { z } from "zod";
import type { Transaction } from "kysely";
import { dayKey, monthKey, startOfNextUtcDay, startOfNextUtcMonth } from "./periods.js";
import { estimateCost } from "./prices.js";
import {
  applyOverrides,
  applyPatch,
  quotaOverridesSchema,
  quotaSettingsPatchSchema,
  type QuotaOverrides,
  type QuotaSettings,
  type QuotaSettingsPatch,
} from "./quota-settings.js";
import { FEATURES, guildKey, type Feature, type UsageDatabase } from "./schema.js";
import type { UsageStore } from "./store.js";

/*
 * Quotas: reserve before a DashScope call, settle after it (or release it when the call failed).
 *
 * How it stays exact under concurrency: every transaction that checks or changes a guild's quota
 * usage first locks that guild's row for the current month in `usage_quota_guild_month`
 * (`SELECT … FOR UPDATE` on PostgreSQL, so it holds across processes sharing the database; on
 * SQLite, `BEGIN IMMEDIATE` over the process's single connection). Checks and the new hold happen
 * under that lock, so N simultaneous reserves against K remaining admit exactly K. A transaction
 * takes that row before any other quota row, and only one such row, so they cannot deadlock.
 *
 * Held quota is not added to the counters: it is the sum of `held` reservations whose
 * `expires_at` is still ahead. A reservation abandoned by a crash therefore stops counting by
 * itself once it expires; releasing is a status change; settling moves the actual figures into the
 * counters.
 */

export type QuotaLimit =
  | "song-cooldown"
  | "user-daily-songs"
  | "user-daily-music-seconds"
  | "user-daily-analyses"
  | "guild-monthly-music-seconds"
  | "guild-monthly-cost";

const reserveInputSchema = z.strictObject({
  /** `null` outside a guild: the defaults apply and the "guild" is all direct messages together. */
  guildId: z.string().min(1).nullable(),
  userId: z.string().min(1),
  feature: z.enum(FEATURES),
  /** Seconds of music the call is expected to bill (songs), held against the music-second limits. */
  estimatedSeconds: z.number().nonnegative().finite().optional(),
  /** Model of the call, to price the hold against a cost budget. */
  model: z.string().min(1).optional(),
  /** Tokens the call may use at most (analyses), priced at the model's rates for the cost hold. */
  estimatedTokens: z
    .strictObject({ input: z.number().int().nonnegative(), output: z.number().int().nonnegative(), audio: z.number().int().nonnegative() })
    .optional(),
  /** Cost to hold against a cost budget; default: `estimatedSeconds` and `estimatedTokens` priced at the model's rates. */
  estimatedCost: z.number().nonnegative().finite().optional(),
});
export type ReserveInput = z.input<typeof reserveInputSchema>;

export type ReserveResult =
  | { ok: true; reservationId: string; expiresAt: Date }
  | { ok: false; limit: QuotaLimit; resetsAt: Date; /** Refused only because of holds of requests still in progress. */ pending: boolean };

/** Actual figures of a finished call; absent figures count as zero. */
export type SettleActual = {
  musicSeconds?: number | undefined;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  audioTokens?: number | undefined;
  /** The model that served the call, if not the reserved one. */
  model?: string | undefined;
};

/**
 * `settled`/`released`: this call changed the reservation. `already-finished`: it was settled or
 * released before (settling and releasing are idempotent). `unknown-reservation`: no such id.
 */
export type FinishResult = "settled" | "released" | "already-finished" | "unknown-reservation";

type Trx = Transaction<UsageDatabase>;

/**
 * Holds quota for one call, or says which limit stops it and when that limit resets.
 * Call it before the DashScope call; then `recordCall(…, { reservationId })` (or `settle`/`release`).
 */
export async function reserve(store: UsageStore, input: ReserveInput): Promise<ReserveResult> {
  const request = reserveInputSchema.parse(input);
  const now = store.now();
  const key = guildKey(request.guildId);
  const estimatedSeconds = request.feature === "song" ? (request.estimatedSeconds ?? 0) : 0;

  return store.db.transaction().execute(async (trx) => {
    await lockGuildMonth(store, trx, key, monthKey(now));
    const state = await loadQuotaState(store, trx, key, request.userId, now);
    // The estimate is an upper bound, not a demand: a song's real length is only known when it is
    // billed, so a request is admitted while any music time is left, and holds what is left at most.
    // A limit can then be overshot by at most one song's difference between hold and bill.
    const seconds = Math.max(
      0,
      Math.min(
        estimatedSeconds,
        remaining(state.member.musicSeconds, state.settings.userDailyMusicSeconds),
        remaining(state.guild.musicSeconds, state.settings.guildMonthlyMusicSeconds),
      ),
    );
    const cost =
      request.estimatedCost ??
      (request.model === undefined
        ? 0
        : (estimateCost(
            {
              model: request.model,
              musicSeconds: seconds,
              inputTokens: request.estimatedTokens?.input ?? 0,
              outputTokens: request.estimatedTokens?.output ?? 0,
              audioTokens: request.estimatedTokens?.audio ?? 0,
            },
            store.prices,
          ) ?? 0));
    const exceeded = findExceededLimit(state, { feature: request.feature, seconds, cost }, now);
    if (exceeded) {
      // Over the limit only because of requests still in progress: it frees up when they finish,
      // not at the next day or month.
      const settledState = { ...state, member: state.settledMember, guild: state.settledGuild };
      const pending = findExceededLimit(settledState, { feature: request.feature, seconds, cost }, now) === null;
      return { ok: false, ...exceeded, pending };
    }

    const id = store.newId();
    const expiresAt = new Date(now.getTime() + store.reservationTtlMs);
    await trx
      .insertInto("usage_quota_reservations")
      .values({
        id,
        guild_key: key,
        user_id: request.userId,
        feature: request.feature,
        model: request.model ?? null,
        day: dayKey(now),
        month: monthKey(now),
        music_seconds: seconds,
        cost,
        status: "held",
        created_at: now.getTime(),
        expires_at: expiresAt.getTime(),
        finished_at: null,
      })
      .execute();
    return { ok: true, reservationId: id, expiresAt };
  });
}

/**
 * Charges a reservation with what the call actually used. Settling a reservation that expired
 * meanwhile still charges it (the call did happen); settling twice charges once.
 * Prefer `recordCall(…, { reservationId })`, which records and settles in one transaction.
 */
export async function settle(store: UsageStore, reservationId: string, actual: SettleActual): Promise<FinishResult> {
  return store.db.transaction().execute((trx) => settleWithin(store, trx, reservationId, actual));
}

/** Gives back a reservation's quota (the call failed or never happened). Idempotent. */
export async function release(store: UsageStore, reservationId: string): Promise<FinishResult> {
  return store.db.transaction().execute((trx) => releaseWithin(store, trx, reservationId));
}

/** @internal Settles inside a caller's transaction (used by `recordCall`). */
export async function settleWithin(
  store: UsageStore,
  trx: Trx,
  reservationId: string,
  actual: SettleActual,
): Promise<FinishResult> {
  const reservation = await trx
    .selectFrom("usage_quota_reservations")
    .selectAll()
    .where("id", "=", reservationId)
    .executeTakeFirst();
  if (!reservation) return "unknown-reservation";
  if (reservation.status === "settled" || reservation.status === "released") return "already-finished";

  await lockGuildMonth(store, trx, reservation.guild_key, reservation.month);
  const musicSeconds = actual.musicSeconds ?? 0;
  const model = actual.model ?? reservation.model;
  const cost =
    model === null
      ? 0
      : (estimateCost(
          {
            model,
            musicSeconds,
            inputTokens: actual.inputTokens ?? 0,
            outputTokens: actual.outputTokens ?? 0,
            audioTokens: actual.audioTokens ?? 0,
          },
          store.prices,
        ) ?? 0);
  // The status condition makes the transition happen once even if two settles race.
  const updated = await trx
    .updateTable("usage_quota_reservations")
    .set({ status: "settled", music_seconds: musicSeconds, cost, model, finished_at: store.now().getTime() })
    .where("id", "=", reservationId)
    .where("status", "in", ["held", "expired"])
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) !== 1) return "already-finished";

  const isSong = reservation.feature === "song";
  await trx
    .insertInto("usage_quota_user_day")
    .values({
      guild_key: reservation.guild_key,
      user_id: reservation.user_id,
      day: reservation.day,
      songs: isSong ? 1 : 0,
      music_seconds: musicSeconds,
      analyses: isSong ? 0 : 1,
    })
    .onConflict((oc) =>
      oc.columns(["guild_key", "user_id", "day"]).doUpdateSet((eb) => ({
        songs: eb("usage_quota_user_day.songs", "+", eb.ref("excluded.songs")),
        music_seconds: eb("usage_quota_user_day.music_seconds", "+", eb.ref("excluded.music_seconds")),
        analyses: eb("usage_quota_user_day.analyses", "+", eb.ref("excluded.analyses")),
      })),
    )
    .execute();
  await trx
    .updateTable("usage_quota_guild_month")
    .set((eb) => ({
      music_seconds: eb("music_seconds", "+", musicSeconds),
      cost: eb("cost", "+", cost),
    }))
    .where("guild_key", "=", reservation.guild_key)
    .where("month", "=", reservation.month)
    .execute();
  return "settled";
}

/** @internal Releases inside a caller's transaction (used by `recordCall`). */
export async function releaseWithin(store: UsageStore, trx: Trx, reservationId: string): Promise<FinishResult> {
  // Holds are not in the counters, so releasing is only this status change.
  const updated = await trx
    .updateTable("usage_quota_reservations")
    .set({ status: "released", finished_at: store.now().getTime() })
    .where("id", "=", reservationId)
    .where("status", "=", "held")
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 1) return "released";
  const existing = await trx
    .selectFrom("usage_quota_reservations")
    .select("id")
    .where("id", "=", reservationId)
    .executeTakeFirst();
  return existing ? "already-finished" : "unknown-reservation";
}

/**
 * Housekeeping, e.g. every few minutes: marks abandoned holds `expired` (they already stopped
 * counting when they expired) and deletes finished reservations and daily counters older than
 * `keepMs` (default 7 days; the ledger keeps the history).
 */
export async function sweepReservations(
  store: UsageStore,
  options: { keepMs?: number } = {},
): Promise<{ expired: number; deleted: number }> {
  const now = store.now().getTime();
  const keepMs = options.keepMs ?? 7 * 86_400_000;
  const expired = await store.db
    .updateTable("usage_quota_reservations")
    .set({ status: "expired", finished_at: now })
    .where("status", "=", "held")
    .where("expires_at", "<=", now)
    .executeTakeFirst();
  const deleted = await store.db
    .deleteFrom("usage_quota_reservations")
    .where("status", "<>", "held")
    .where("created_at", "<", now - keepMs)
    .executeTakeFirst();
  await store.db
    .deleteFrom("usage_quota_user_day")
    .where("day", "<", dayKey(new Date(now - keepMs)))
    .execute();
  return { expired: Number(expired.numUpdatedRows), deleted: Number(deleted.numDeletedRows) };
}

/** Used and allowed amounts of one limit; `limit`/`remaining` are `null` when unlimited. */
export type Allowance = { used: number; limit: number | null; remaining: number | null };

export type QuotaStatus = {
  settings: QuotaSettings;
  member: { songs: Allowance; musicSeconds: Allowance; analyses: Allowance; resetsAt: Date };
  guild: { musicSeconds: Allowance; cost: Allowance; currency: string; resetsAt: Date };
  /** When the member may start the next song, if the cooldown is still running. */
  nextSongAt: Date | null;
};

/** A member's usage and remaining quota in a guild, in-flight calls included (for "my usage"). */
export async function quotaStatus(
  store: UsageStore,
  who: { guildId: string | null; userId: string },
): Promise<QuotaStatus> {
  const now = store.now();
  const state = await loadQuotaState(store, store.db, guildKey(who.guildId), who.userId, now);
  const { settings } = state;
  const cooldownEnd = nextSongAt(state, now);
  return {
    settings,
    member: {
      songs: allowance(state.member.songs, settings.userDailySongs),
      musicSeconds: allowance(state.member.musicSeconds, settings.userDailyMusicSeconds),
      analyses: allowance(state.member.analyses, settings.userDailyAnalyses),
      resetsAt: startOfNextUtcDay(now),
    },
    guild: {
      musicSeconds: allowance(state.guild.musicSeconds, settings.guildMonthlyMusicSeconds),
      cost: allowance(state.guild.cost, settings.guildMonthlyCost),
      currency: store.prices.currency,
      resetsAt: startOfNextUtcMonth(now),
    },
    nextSongAt: cooldownEnd,
  };
}

function allowance(used: number, limit: number | null): Allowance {
  return { used, limit, remaining: limit === null ? null : Math.max(0, limit - used) };
}

export type GuildQuotaSettings = { effective: QuotaSettings; overrides: QuotaOverrides };

/** A guild's effective quota settings and which of them it overrides. */
export async function getQuotaSettings(store: UsageStore, guildId: string | null): Promise<GuildQuotaSettings> {
  const overrides = await readOverrides(store.db, guildKey(guildId));
  return { effective: applyOverrides(store.quotaDefaults, overrides), overrides };
}

/**
 * Changes a guild's settings (an admin command). The patch is validated; a `"default"` value
 * removes that override. Throws a ZodError for an invalid patch.
 */
export async function updateQuotaSettings(
  store: UsageStore,
  guildId: string | null,
  patch: QuotaSettingsPatch,
  meta: { updatedBy: string | null },
): Promise<GuildQuotaSettings> {
  const validPatch = quotaSettingsPatchSchema.parse(patch);
  const key = guildKey(guildId);
  return store.db.transaction().execute(async (trx) => {
    const now = store.now().getTime();
    // Creates the row if needed and locks it, so two admins' changes apply one after the other.
    await trx
      .insertInto("usage_guild_settings")
      .values({ guild_key: key, overrides: "{}", updated_at: now, updated_by: meta.updatedBy })
      .onConflict((oc) => oc.column("guild_key").doNothing())
      .execute();
    const current = await readOverrides(trx, key, store.dialect === "postgres");
    const overrides = applyPatch(current, validPatch);
    await trx
      .updateTable("usage_guild_settings")
      .set({ overrides: JSON.stringify(overrides), updated_at: now, updated_by: meta.updatedBy })
      .where("guild_key", "=", key)
      .execute();
    return { effective: applyOverrides(store.quotaDefaults, overrides), overrides };
  });
}

type Executor = UsageStore["db"] | Trx;

async function readOverrides(db: Executor, key: string, forUpdate = false): Promise<QuotaOverrides> {
  const row = await db
    .selectFrom("usage_guild_settings")
    .select("overrides")
    .where("guild_key", "=", key)
    .$if(forUpdate, (q) => q.forUpdate())
    .executeTakeFirst();
  if (!row) return {};
  const parsed = quotaOverridesSchema.safeParse(JSON.parse(row.overrides));
  if (!parsed.success) {
    throw new Error(`stored quota settings of guild ${key} are invalid: ${parsed.error.message}`);
  }
  return parsed.data;
}

/**
 * Creates (if missing) and locks the guild's counter row for a month. Every quota transaction
 * starts here, which serializes them per guild.
 */
async function lockGuildMonth(store: UsageStore, trx: Trx, key: string, month: number): Promise<void> {
  await trx
    .insertInto("usage_quota_guild_month")
    .values({ guild_key: key, month, music_seconds: 0, cost: 0 })
    .onConflict((oc) => oc.columns(["guild_key", "month"]).doNothing())
    .execute();
  await trx
    .selectFrom("usage_quota_guild_month")
    .select("guild_key")
    .where("guild_key", "=", key)
    .where("month", "=", month)
    .$if(store.dialect === "postgres", (q) => q.forUpdate())
    .execute();
}

/** @internal What a member and their guild have used (settled plus live holds), and the settings. */
export type QuotaState = {
  settings: QuotaSettings;
  /** Charged usage plus the holds of requests still in progress. */
  member: { songs: number; musicSeconds: number; analyses: number };
  guild: { musicSeconds: number; cost: number };
  /** Charged usage only. */
  settledMember: { songs: number; musicSeconds: number; analyses: number };
  settledGuild: { musicSeconds: number; cost: number };
  lastSongAt: Date | null;
};

async function loadQuotaState(
  store: UsageStore,
  db: Executor,
  key: string,
  userId: string,
  now: Date,
): Promise<QuotaState> {
  const day = dayKey(now);
  const month = monthKey(now);
  const nowMs = now.getTime();
  const [overrides, memberDay, guildMonth, holds, lastSong] = await Promise.all([
    readOverrides(db, key),
    db
      .selectFrom("usage_quota_user_day")
      .select(["songs", "music_seconds", "analyses"])
      .where("guild_key", "=", key)
      .where("user_id", "=", userId)
      .where("day", "=", day)
      .executeTakeFirst(),
    db
      .selectFrom("usage_quota_guild_month")
      .select(["music_seconds", "cost"])
      .where("guild_key", "=", key)
      .where("month", "=", month)
      .executeTakeFirst(),
    db
      .selectFrom("usage_quota_reservations")
      .select(["user_id", "feature", "day", "month", "music_seconds", "cost"])
      .where("guild_key", "=", key)
      .where("status", "=", "held")
      .where("expires_at", ">", nowMs)
      .execute(),
    db
      .selectFrom("usage_quota_reservations")
      .select("created_at")
      .where("guild_key", "=", key)
      .where("user_id", "=", userId)
      .where("feature", "=", "song")
      .where("status", "in", ["held", "settled"])
      .orderBy("created_at", "desc")
      .limit(1)
      .executeTakeFirst(),
  ]);

  const member = {
    songs: Number(memberDay?.songs ?? 0),
    musicSeconds: Number(memberDay?.music_seconds ?? 0),
    analyses: Number(memberDay?.analyses ?? 0),
  };
  const guild = { musicSeconds: Number(guildMonth?.music_seconds ?? 0), cost: Number(guildMonth?.cost ?? 0) };
  const settledMember = { ...member };
  const settledGuild = { ...guild };
  for (const hold of holds) {
    if (hold.month === month) {
      guild.musicSeconds += Number(hold.music_seconds);
      guild.cost += Number(hold.cost);
    }
    if (hold.user_id === userId && hold.day === day) {
      if (hold.feature === "song") member.songs += 1;
      else member.analyses += 1;
      member.musicSeconds += Number(hold.music_seconds);
    }
  }
  return {
    settings: applyOverrides(store.quotaDefaults, overrides),
    member,
    guild,
    settledMember,
    settledGuild,
    lastSongAt: lastSong ? new Date(Number(lastSong.created_at)) : null,
  };
}

function nextSongAt(state: QuotaState, now: Date): Date | null {
  if (state.lastSongAt === null || state.settings.songCooldownSeconds === 0) return null;
  const end = new Date(state.lastSongAt.getTime() + state.settings.songCooldownSeconds * 1000);
  return end > now ? end : null;
}

function remaining(used: number, limit: number | null): number {
  return limit === null ? Number.POSITIVE_INFINITY : limit - used;
}

/** Whether `used + wanted` goes past `limit`; a request that adds nothing is stopped only by a spent limit. */
function exceeds(used: number, wanted: number, limit: number | null): boolean {
  if (limit === null) return false;
  return wanted > 0 ? used + wanted > limit : used >= limit;
}

/**
 * The first limit a request would break, checked from the most specific (cooldown) to the
 * broadest (the guild's month), or `null` when the request fits. Pure.
 */
export function findExceededLimit(
  state: QuotaState,
  request: { feature: Feature; seconds: number; cost: number },
  now: Date,
): { limit: QuotaLimit; resetsAt: Date } | null {
  const { settings, member, guild } = state;
  const tomorrow = startOfNextUtcDay(now);
  const nextMonth = startOfNextUtcMonth(now);
  if (request.feature === "song") {
    const cooldownEnd = nextSongAt(state, now);
    if (cooldownEnd) return { limit: "song-cooldown", resetsAt: cooldownEnd };
    if (exceeds(member.songs, 1, settings.userDailySongs)) return { limit: "user-daily-songs", resetsAt: tomorrow };
    if (exceeds(member.musicSeconds, request.seconds, settings.userDailyMusicSeconds)) {
      return { limit: "user-daily-music-seconds", resetsAt: tomorrow };
    }
    if (exceeds(guild.musicSeconds, request.seconds, settings.guildMonthlyMusicSeconds)) {
      return { limit: "guild-monthly-music-seconds", resetsAt: nextMonth };
    }
  } else if (exceeds(member.analyses, 1, settings.userDailyAnalyses)) {
    return { limit: "user-daily-analyses", resetsAt: tomorrow };
  }
  if (exceeds(guild.cost, request.cost, settings.guildMonthlyCost)) {
    return { limit: "guild-monthly-cost", resetsAt: nextMonth };
  }
  return null;
}
