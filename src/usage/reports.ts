import { sql, type SelectQueryBuilder } from "kysely";
import { SUM_COLUMNS } from "./ledger.js";
import { dayKey, isoDateOfDay, periodRange, type ReportPeriod } from "./periods.js";
import { estimateCost, type PriceTable } from "./prices.js";
import { quotaStatus, type QuotaStatus } from "./quotas.js";
import { FEATURES, guildKey, type Feature, type UsageDatabase } from "./schema.js";
import type { UsageStore } from "./store.js";

/*
 * Report queries, answered from running totals that every ledger write keeps exact (ledger.ts)
 * rather than from the rows, so their cost follows the number of days, guilds and members, not
 * the number of calls:
 *   - every period but "all" starts at a UTC midnight: a guild's (or all guilds') figures, daily
 *     series and top guilds come from `usage_daily_totals` (per guild, day, feature, model);
 *   - "all" comes from `usage_member_totals` (per guild, member, feature, model; all time);
 *   - a member's figures and daily series for a period other than "all" come from
 *     `usage_member_day_totals` (per guild, day, member, feature, model);
 *   - a guild's top members of today come from `usage_member_day_totals` too; for a longer
 *     period other than "all" they are its members' all-time totals
 *     minus their snapshots as of the day before the period (`usage_member_snapshots`): a lookup
 *     per member, feature and model, however many calls and member-days the period holds. Summed
 *     from the rows, then from member-day totals, this took 0.3–1.4 s for a guild with a million
 *     calls in 30 days (BENCHMARKS.md).
 * A period's start is always a UTC midnight (periods.ts), so `day >= dayKey(from)` selects
 * exactly the rows with `occurred_at >= from`. Only the CSV export (`ledgerRows`) reads rows.
 *
 * The database sums per model; costs are priced here, per model, with the store's prices.
 */

export type UsageTotals = {
  calls: number;
  /** Calls whose outcome was not `ok`. */
  failures: number;
  musicSeconds: number;
  inputTokens: number;
  outputTokens: number;
  audioTokens: number;
  bytesDelivered: number;
  /** Estimated cost in the report's currency; calls of unpriced models count as zero. */
  estimatedCost: number;
};

/** A guild (`guildId: null`: calls outside any guild) or, for bot owners, every guild. */
export type GuildScope = { guildId: string | null } | "all-guilds";
/** Which calls a report covers: a guild, one member of a guild, or every guild. */
export type ReportScope = { guildId: string | null; userId?: string | undefined } | "all-guilds";

export type UsageReport = {
  period: ReportPeriod;
  from: Date | null;
  to: Date;
  currency: string;
  total: UsageTotals;
  byFeature: Record<Feature, UsageTotals>;
  /** Models seen in the period that have no price (their cost is not in the estimates). */
  unpricedModels: string[];
};

/** A member or a guild (`"dm"`: calls outside any guild) and what it used. */
export type TopEntry = { id: string; calls: number; failures: number; musicSeconds: number; estimatedCost: number };

/** One UTC day of a series; shaped to be handed to the daily usage chart as it is. */
export type DailyPoint = {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  calls: number;
  songs: number;
  /** Analyses and follow-up questions. */
  analyses: number;
  failures: number;
  musicSeconds: number;
  /** Input, output and audio tokens together. */
  tokens: number;
  estimatedCost: number;
};

function emptyPoint(day: number): DailyPoint {
  return {
    day: isoDateOfDay(day),
    calls: 0,
    songs: 0,
    analyses: 0,
    failures: 0,
    musicSeconds: 0,
    tokens: 0,
    estimatedCost: 0,
  };
}

/** One ledger row as exported (e.g. to CSV). */
export type LedgerRow = {
  requestId: string;
  occurredAt: Date;
  guildId: string | null;
  channelId: string | null;
  userId: string;
  feature: Feature;
  model: string;
  outcome: string;
  musicSeconds: number;
  inputTokens: number;
  outputTokens: number;
  audioTokens: number;
  latencyMs: number;
  bytesDelivered: number | null;
  estimatedCost: number | null;
};

function emptyTotals(): UsageTotals {
  return {
    calls: 0,
    failures: 0,
    musicSeconds: 0,
    inputTokens: 0,
    outputTokens: 0,
    audioTokens: 0,
    bytesDelivered: 0,
    estimatedCost: 0,
  };
}

function isMemberScope(scope: ReportScope): scope is { guildId: string | null; userId: string } {
  return scope !== "all-guilds" && scope.userId !== undefined;
}

type RowsQuery = SelectQueryBuilder<UsageDatabase, "usage_calls", object>;

/** Ledger rows of a scope from a moment on. */
function rowsOf(store: UsageStore, scope: ReportScope, from: Date | null): RowsQuery {
  let query = store.db.selectFrom("usage_calls") as RowsQuery;
  if (scope !== "all-guilds") {
    query = query.where("guild_id", scope.guildId === null ? "is" : "=", scope.guildId);
    if (scope.userId !== undefined) query = query.where("user_id", "=", scope.userId);
  }
  if (from !== null) query = query.where("occurred_at", ">=", from.getTime());
  return query;
}

type DailyTotalsQuery = SelectQueryBuilder<UsageDatabase, "usage_daily_totals", object>;

/** Daily totals of a guild (or of all guilds) from a UTC day on. */
function dailyTotalsOf(store: UsageStore, scope: GuildScope, from: Date | null): DailyTotalsQuery {
  let query = store.db.selectFrom("usage_daily_totals") as DailyTotalsQuery;
  if (scope !== "all-guilds") query = query.where("guild_key", "=", guildKey(scope.guildId));
  if (from !== null) query = query.where("day", ">=", dayKey(from));
  return query;
}

type MemberDayTotalsQuery = SelectQueryBuilder<UsageDatabase, "usage_member_day_totals", object>;

/** Daily totals of the members of a guild (or of all guilds), or of one member, from a UTC day on. */
function memberDayTotalsOf(store: UsageStore, scope: ReportScope, from: Date | null): MemberDayTotalsQuery {
  let query = store.db.selectFrom("usage_member_day_totals") as MemberDayTotalsQuery;
  if (scope !== "all-guilds") {
    query = query.where("guild_key", "=", guildKey(scope.guildId));
    if (scope.userId !== undefined) query = query.where("user_id", "=", scope.userId);
  }
  if (from !== null) query = query.where("day", ">=", dayKey(from));
  return query;
}

type MemberTotalsQuery = SelectQueryBuilder<UsageDatabase, "usage_member_totals", object>;

/** All-time totals of the members of a guild (or of all guilds), or of one member. */
function memberTotalsOf(store: UsageStore, scope: ReportScope): MemberTotalsQuery {
  let query = store.db.selectFrom("usage_member_totals") as MemberTotalsQuery;
  if (scope !== "all-guilds") {
    query = query.where("guild_key", "=", guildKey(scope.guildId));
    if (scope.userId !== undefined) query = query.where("user_id", "=", scope.userId);
  }
  return query;
}

/**
 * Per member and model, what a guild's members (or every guild's) used from a UTC day on: their
 * all-time totals minus their latest snapshot before that day (migration 0007), one index step
 * per member, feature and model instead of a row per member and day of the period. Members
 * without calls in the period are left out, as a sum over the period's rows would.
 * PostgreSQL finds each snapshot with a LATERAL join (one backwards index step per row); SQLite
 * has no LATERAL, and steps to `max(day)` in a correlated subquery instead. On PostgreSQL that
 * subquery form runs twice per row (BENCHMARKS.md).
 */
async function memberPeriodSums(store: UsageStore, scope: GuildScope, fromDay: number): Promise<(SumRow & { id: string })[]> {
  const since = (column: (typeof SUM_COLUMNS)[number]) => sql<number>`sum(t.${sql.ref(column)} - coalesce(s.${sql.ref(column)}, 0))`;
  const totals = store.db.selectFrom("usage_member_totals as t");
  const sameMember = ["guild_key", "user_id", "feature", "model"] as const;
  const joined =
    store.dialect === "postgres"
      ? totals.leftJoinLateral(
          (eb) =>
            eb
              .selectFrom("usage_member_snapshots as p")
              .select(SUM_COLUMNS)
              .where((p) => p.and(sameMember.map((column) => p(`p.${column}`, "=", p.ref(`t.${column}`)))))
              .where("p.day", "<", fromDay)
              .orderBy("p.day", "desc")
              .limit(1)
              .as("s"),
          (join) => join.onTrue(),
        )
      : totals.leftJoin("usage_member_snapshots as s", (join) =>
          join
            .on((on) => on.and(sameMember.map((column) => on(`s.${column}`, "=", on.ref(`t.${column}`)))))
            .on("s.day", "=", (eb) =>
              eb
                .selectFrom("usage_member_snapshots as p")
                .select((p) => p.fn.max("p.day").as("day"))
                .where((p) => p.and(sameMember.map((column) => p(`p.${column}`, "=", p.ref(`t.${column}`)))))
                .where("p.day", "<", fromDay),
            ),
        );
  const guild = scope === "all-guilds" ? undefined : guildKey(scope.guildId);
  return joined
    .$if(guild !== undefined, (query) => query.where("t.guild_key", "=", guild ?? ""))
    .select(["t.user_id as id", "t.model", ...SUM_COLUMNS.map((column) => since(column).as(column))])
    .groupBy(["t.user_id", "t.model"])
    .having(since("calls"), ">", 0)
    .execute();
}


/** Sums of the sums of a totals table (both totals tables name their sums alike). */
function sumsOfTotals() {
  return [
    sql<number>`sum(calls)`.as("calls"),
    sql<number>`sum(failures)`.as("failures"),
    sql<number>`sum(music_seconds)`.as("music_seconds"),
    sql<number>`sum(input_tokens)`.as("input_tokens"),
    sql<number>`sum(output_tokens)`.as("output_tokens"),
    sql<number>`sum(audio_tokens)`.as("audio_tokens"),
    sql<number>`sum(bytes_delivered)`.as("bytes_delivered"),
  ] as const;
}

type SumRow = {
  model: string;
  calls: unknown;
  failures: unknown;
  music_seconds: unknown;
  input_tokens: unknown;
  output_tokens: unknown;
  audio_tokens: unknown;
  bytes_delivered: unknown;
};

/** Drivers return sums as numbers, bigints or strings (and `null` for an all-null sum). */
function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return Number(value);
}

/** Adds one per-model group to totals, pricing it; returns false if the model has no price. */
function addGroup(totals: UsageTotals, row: SumRow, prices: PriceTable): boolean {
  const musicSeconds = num(row.music_seconds);
  const inputTokens = num(row.input_tokens);
  const outputTokens = num(row.output_tokens);
  const audioTokens = num(row.audio_tokens);
  const cost = estimateCost({ model: row.model, musicSeconds, inputTokens, outputTokens, audioTokens }, prices);
  totals.calls += num(row.calls);
  totals.failures += num(row.failures);
  totals.musicSeconds += musicSeconds;
  totals.inputTokens += inputTokens;
  totals.outputTokens += outputTokens;
  totals.audioTokens += audioTokens;
  totals.bytesDelivered += num(row.bytes_delivered);
  totals.estimatedCost += cost ?? 0;
  return cost !== undefined;
}

/** Totals per feature for a period: calls, failures, music seconds, tokens, estimated cost. */
export async function usageReport(store: UsageStore, scope: ReportScope, period: ReportPeriod): Promise<UsageReport> {
  const { from, to } = periodRange(period, store.now());
  let rows: (SumRow & { feature: Feature })[];
  if (period === "all") {
    rows = await memberTotalsOf(store, scope)
      .select(["feature", "model", ...sumsOfTotals()])
      .groupBy(["feature", "model"])
      .execute();
  } else if (isMemberScope(scope)) {
    rows = await memberDayTotalsOf(store, scope, from)
      .select(["feature", "model", ...sumsOfTotals()])
      .groupBy(["feature", "model"])
      .execute();
  } else {
    rows = await dailyTotalsOf(store, scope, from)
      .select(["feature", "model", ...sumsOfTotals()])
      .groupBy(["feature", "model"])
      .execute();
  }

  const total = emptyTotals();
  const byFeature = Object.fromEntries(FEATURES.map((feature) => [feature, emptyTotals()])) as Record<
    Feature,
    UsageTotals
  >;
  const unpriced = new Set<string>();
  for (const row of rows) {
    const featureTotals = byFeature[row.feature] ?? (byFeature[row.feature] = emptyTotals());
    if (!addGroup(featureTotals, row, store.prices)) unpriced.add(row.model);
    addGroup(total, row, store.prices);
  }
  return { period, from, to, currency: store.prices.currency, total, byFeature, unpricedModels: [...unpriced].sort() };
}

/**
 * The outcomes of a period's calls that did not end `ok`, most frequent first (`interrupted`: the
 * call's outcome is unknown and it may have been charged). Read from a partial index of failures.
 */
export async function failureCodes(store: UsageStore, scope: ReportScope, period: ReportPeriod): Promise<{ code: string; count: number }[]> {
  const { from } = periodRange(period, store.now());
  const rows = await rowsOf(store, scope, from)
    .where("outcome", "<>", "ok")
    .select(["outcome", (eb) => eb.fn.countAll<number>().as("count")])
    .groupBy("outcome")
    .execute();
  return rows.map((row) => ({ code: row.outcome, count: Number(row.count) })).sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/**
 * The biggest spenders of a period: members of a guild (`by: "user"`) or, for bot owners, guilds
 * (`by: "guild"`, scope `"all-guilds"`), ordered by estimated cost, then music seconds, then calls.
 * Calls outside any guild are listed under the guild id `"dm"`.
 */
export async function topSpenders(
  store: UsageStore,
  scope: GuildScope,
  period: ReportPeriod,
  options: { by: "user" | "guild"; limit?: number | undefined },
): Promise<TopEntry[]> {
  const { from } = periodRange(period, store.now());
  let rows: (SumRow & { id: string })[];
  if (period === "all") {
    const column = options.by === "guild" ? "guild_key" : "user_id";
    rows = await memberTotalsOf(store, scope)
      .select([`${column} as id`, "model", ...sumsOfTotals()])
      .groupBy([column, "model"])
      .execute();
  } else if (options.by === "guild") {
    rows = await dailyTotalsOf(store, scope, from)
      .select(["guild_key as id", "model", ...sumsOfTotals()])
      .groupBy(["guild_key", "model"])
      .execute();
  } else if (period === "today") {
    // One day holds at most one member-day total per member, feature and model: as many rows as
    // the snapshot lookups would be, but read in one range instead of one step each.
    rows = await memberDayTotalsOf(store, scope, from)
      .select(["user_id as id", "model", ...sumsOfTotals()])
      .groupBy(["user_id", "model"])
      .execute();
  } else {
    rows = await memberPeriodSums(store, scope, dayKey(from ?? new Date(0)));
  }

  const byId = new Map<string, UsageTotals>();
  for (const row of rows) {
    const totals = byId.get(row.id) ?? emptyTotals();
    addGroup(totals, row, store.prices);
    byId.set(row.id, totals);
  }
  return [...byId]
    .map(([id, t]) => ({ id, calls: t.calls, failures: t.failures, musicSeconds: t.musicSeconds, estimatedCost: t.estimatedCost }))
    .sort(
      (a, b) =>
        b.estimatedCost - a.estimatedCost ||
        b.musicSeconds - a.musicSeconds ||
        b.calls - a.calls ||
        a.id.localeCompare(b.id),
    )
    .slice(0, options.limit ?? 10);
}

/**
 * One point per UTC day of the period (days without calls included, as zeros), oldest first, for
 * a chart. For `"all"` the series starts at the first recorded call.
 */
export async function dailySeries(store: UsageStore, scope: ReportScope, period: ReportPeriod): Promise<DailyPoint[]> {
  const now = store.now();
  const { from } = periodRange(period, now);
  let rows: (SumRow & { day: unknown; feature: Feature })[];
  if (isMemberScope(scope)) {
    rows = await memberDayTotalsOf(store, scope, from)
      .select(["day", "feature", "model", ...sumsOfTotals()])
      .groupBy(["day", "feature", "model"])
      .execute();
  } else {
    rows = await dailyTotalsOf(store, scope, from)
      .select(["day", "feature", "model", ...sumsOfTotals()])
      .groupBy(["day", "feature", "model"])
      .execute();
  }

  const byDay = new Map<number, DailyPoint>();
  for (const row of rows) {
    const key = num(row.day);
    const totals = emptyTotals();
    addGroup(totals, row, store.prices);
    const point = byDay.get(key) ?? emptyPoint(key);
    point.calls += totals.calls;
    if (row.feature === "song") point.songs += totals.calls;
    else point.analyses += totals.calls;
    point.failures += totals.failures;
    point.musicSeconds += totals.musicSeconds;
    point.tokens += totals.inputTokens + totals.outputTokens + totals.audioTokens;
    point.estimatedCost += totals.estimatedCost;
    byDay.set(key, point);
  }
  const lastDay = dayKey(now);
  let firstDay = from === null ? lastDay : dayKey(from);
  for (const key of byDay.keys()) firstDay = Math.min(firstDay, key);
  const series: DailyPoint[] = [];
  for (let d = firstDay; d <= lastDay; d++) {
    series.push(byDay.get(d) ?? emptyPoint(d));
  }
  return series;
}

export type MemberReport = { usage: UsageReport; quota: QuotaStatus };

/** A member's own usage in a guild for a period, and what is left of their quota today. */
export async function memberReport(
  store: UsageStore,
  who: { guildId: string | null; userId: string },
  period: ReportPeriod,
): Promise<MemberReport> {
  const [usage, quota] = await Promise.all([
    usageReport(store, { guildId: who.guildId, userId: who.userId }, period),
    quotaStatus(store, who),
  ]);
  return { usage, quota };
}

/**
 * Raw rows of a period, oldest first, for a CSV export. At most `limit` rows (default 100,000);
 * pass the last row back as `after` to get the next page.
 */
export async function ledgerRows(
  store: UsageStore,
  scope: ReportScope,
  period: ReportPeriod,
  options: { limit?: number; after?: Pick<LedgerRow, "occurredAt" | "requestId"> } = {},
): Promise<LedgerRow[]> {
  const { from } = periodRange(period, store.now());
  let query = rowsOf(store, scope, from).selectAll();
  const { after } = options;
  if (after) {
    const at = after.occurredAt.getTime();
    query = query.where((eb) =>
      eb.or([eb("occurred_at", ">", at), eb.and([eb("occurred_at", "=", at), eb("request_id", ">", after.requestId)])]),
    );
  }
  const rows = await query
    .orderBy("occurred_at")
    .orderBy("request_id")
    .limit(options.limit ?? 100_000)
    .execute();
  return rows.map((row) => ({
    requestId: row.request_id,
    occurredAt: new Date(num(row.occurred_at)),
    guildId: row.guild_id,
    channelId: row.channel_id,
    userId: row.user_id,
    feature: row.feature,
    model: row.model,
    outcome: row.outcome,
    musicSeconds: num(row.music_seconds),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    audioTokens: num(row.audio_tokens),
    latencyMs: num(row.latency_ms),
    bytesDelivered: row.bytes_delivered === null ? null : num(row.bytes_delivered),
    estimatedCost:
      estimateCost(
        {
          model: row.model,
          musicSeconds: num(row.music_seconds),
          inputTokens: num(row.input_tokens),
          outputTokens: num(row.output_tokens),
          audioTokens: num(row.audio_tokens),
        },
        store.prices,
      ) ?? null,
  }));
}

/** Column order of a ledger CSV export: `toCsv(rows, LEDGER_CSV_COLUMNS)`. */
export const LEDGER_CSV_COLUMNS = [
  "occurredAt",
  "requestId",
  "guildId",
  "channelId",
  "userId",
  "feature",
  "model",
  "outcome",
  "musicSeconds",
  "inputTokens",
  "outputTokens",
  "audioTokens",
  "latencyMs",
  "bytesDelivered",
  "estimatedCost",
] as const satisfies readonly (keyof LedgerRow)[];
