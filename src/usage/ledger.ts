import { sql, type ExpressionBuilder, type RawBuilder, type Transaction } from "kysely";
import { z } from "zod";
import { DAY_MS } from "./periods.js";
import { releaseWithin, settleWithin, type FinishResult } from "./quotas.js";
import {
  DIRECT_MESSAGES_KEY,
  FEATURES,
  guildKey,
  type UsageCallTable,
  type UsageDatabase,
  type UsageMemberSnapshotTable,
  type UsageSums,
} from "./schema.js";
import type { UsageStore } from "./store.js";

/*
 * The ledger: one row per DashScope call, written once.
 *
 * Order of work for a caller:
 *   1. `reserve(…)` (quotas.ts) before the call;
 *   2. the DashScope call;
 *   3. `recordCall(…, { reservationId })` as soon as the call returns or fails — before any
 *      delivery, so a crash during delivery cannot lose the row;
 *   4. deliver to Discord, then `recordDelivery(requestId, bytes)`.
 * Recording is idempotent on `request_id` (INSERT … ON CONFLICT DO NOTHING), so a retried
 * record after an uncertain failure never counts a call twice.
 */

const count = z.number().int().nonnegative();

export const callRecordSchema = z.strictObject({
  /** When the call was sent. */
  occurredAt: z.date(),
  /** `null` outside a guild. */
  guildId: z.string().min(1).nullable(),
  channelId: z.string().min(1).nullable(),
  userId: z.string().min(1),
  feature: z.enum(FEATURES),
  model: z.string().min(1),
  /** DashScope's `request_id`; when the call failed without one, a local id is generated. */
  requestId: z.string().min(1).optional(),
  /** `"ok"`, or the error code (DashScopeError.code, or a local code such as `Timeout`). */
  outcome: z.string().min(1).max(100),
  /** Seconds of music billed: Fun-Music's `usage.duration`. */
  musicSeconds: z.number().nonnegative().finite().default(0),
  /**
   * Text input tokens. If DashScope's `input_tokens` already includes the audio tokens, subtract
   * them here so that prices don't count audio twice.
   */
  inputTokens: count.default(0),
  outputTokens: count.default(0),
  audioTokens: count.default(0),
  latencyMs: count,
});
export type CallRecord = z.input<typeof callRecordSchema>;

/** Prefix of request ids made up locally for calls that failed before DashScope gave one. */
export const LOCAL_REQUEST_ID_PREFIX = "local-";

export type RecordCallResult = {
  /** The row's request id (DashScope's, or the generated local one). */
  requestId: string;
  /** `false` when a row with this request id was already there (nothing was written). */
  inserted: boolean;
  /** What happened to the reservation, when one was given. */
  reservation?: FinishResult;
};

/**
 * Writes the row for one DashScope call, and adds it to the report totals in the same
 * transaction. With a `reservationId`, that transaction also settles the reservation with the
 * call's figures (outcome `ok`) or releases it (any failure refunds), so the ledger and the
 * quotas cannot disagree after a crash.
 */
export async function recordCall(
  store: UsageStore,
  record: CallRecord,
  options: { reservationId?: string | undefined } = {},
): Promise<RecordCallResult> {
  const call = callRecordSchema.parse(record);
  const requestId = call.requestId ?? `${LOCAL_REQUEST_ID_PREFIX}${store.newId()}`;
  const row = {
    request_id: requestId,
    occurred_at: call.occurredAt.getTime(),
    guild_id: call.guildId,
    channel_id: call.channelId,
    user_id: call.userId,
    feature: call.feature,
    model: call.model,
    outcome: call.outcome,
    music_seconds: call.musicSeconds,
    input_tokens: call.inputTokens,
    output_tokens: call.outputTokens,
    audio_tokens: call.audioTokens,
    latency_ms: call.latencyMs,
    bytes_delivered: null,
  };
  const { reservationId } = options;

  return store.db.transaction().execute(async (trx) => {
    const result = await trx
      .insertInto("usage_calls")
      .values(row)
      .onConflict((oc) => oc.column("request_id").doNothing())
      .executeTakeFirst();
    const inserted = Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    if (inserted) {
      await addToTotals(trx, row, {
        calls: 1,
        failures: call.outcome === "ok" ? 0 : 1,
        music_seconds: call.musicSeconds,
        input_tokens: call.inputTokens,
        output_tokens: call.outputTokens,
        audio_tokens: call.audioTokens,
        bytes_delivered: 0,
      });
    }
    if (reservationId === undefined) return { requestId, inserted };

    const reservation =
      call.outcome === "ok"
        ? await settleWithin(store, trx, reservationId, {
            musicSeconds: call.musicSeconds,
            inputTokens: call.inputTokens,
            outputTokens: call.outputTokens,
            audioTokens: call.audioTokens,
            model: call.model,
          })
        : await releaseWithin(store, trx, reservationId);
    return { requestId, inserted, reservation };
  });
}

type Trx = Transaction<UsageDatabase>;
type RowKeys = Pick<UsageCallTable, "guild_id" | "user_id" | "feature" | "model" | "occurred_at">;

/** The sums every totals table keeps, in the order the totals tables list them. */
export const SUM_COLUMNS = [
  "calls",
  "failures",
  "music_seconds",
  "input_tokens",
  "output_tokens",
  "audio_tokens",
  "bytes_delivered",
] as const satisfies readonly (keyof UsageSums)[];

/** `column = table.column + excluded.column` for every sum: the upsert that adds to a total. */
function addExcluded(table: "usage_daily_totals" | "usage_member_totals" | "usage_member_day_totals") {
  return Object.fromEntries(
    SUM_COLUMNS.map((column) => [column, sql<number>`${sql.ref(`${table}.${column}`)} + ${sql.ref(`excluded.${column}`)}`]),
  ) as Record<(typeof SUM_COLUMNS)[number], RawBuilder<number>>;
}

/** Adds a row's figures (or a change of them) to the running report totals. */
async function addToTotals(trx: Trx, keys: RowKeys, sums: UsageSums): Promise<void> {
  const key = guildKey(keys.guild_id);
  const day = Math.floor(keys.occurred_at / DAY_MS);
  await trx
    .insertInto("usage_daily_totals")
    .values({ guild_key: key, day, feature: keys.feature, model: keys.model, ...sums })
    .onConflict((oc) => oc.columns(["guild_key", "day", "feature", "model"]).doUpdateSet(addExcluded("usage_daily_totals")))
    .execute();
  await trx
    .insertInto("usage_member_totals")
    .values({ guild_key: key, user_id: keys.user_id, feature: keys.feature, model: keys.model, ...sums })
    .onConflict((oc) =>
      oc.columns(["guild_key", "user_id", "feature", "model"]).doUpdateSet(addExcluded("usage_member_totals")),
    )
    .execute();
  await trx
    .insertInto("usage_member_day_totals")
    .values({ guild_key: key, day, user_id: keys.user_id, feature: keys.feature, model: keys.model, ...sums })
    .onConflict((oc) =>
      oc
        .columns(["guild_key", "day", "user_id", "feature", "model"])
        .doUpdateSet(addExcluded("usage_member_day_totals")),
    )
    .execute();
  await addToSnapshots(trx, { guild_key: key, user_id: keys.user_id, feature: keys.feature, model: keys.model }, day, sums);
}

/**
 * Adds a change to a member's running totals as of the change's day and every later day
 * (migration 0007). A call is nearly always today's, so that is one row; a call recorded after
 * midnight, or a delivery recorded days later, also updates the days after it. The day's row, if
 * new, starts from the latest one before it.
 * Runs after the usage_member_totals upsert of the same key, whose row lock (PostgreSQL) makes
 * concurrent writers of one member, feature and model take their turns here.
 */
async function addToSnapshots(
  trx: Trx,
  member: Pick<UsageMemberSnapshotTable, "guild_key" | "user_id" | "feature" | "model">,
  day: number,
  sums: UsageSums,
): Promise<void> {
  const ofMember = trx
    .selectFrom("usage_member_snapshots")
    .where("guild_key", "=", member.guild_key)
    .where("user_id", "=", member.user_id)
    .where("feature", "=", member.feature)
    .where("model", "=", member.model);
  const latest = await ofMember
    .select(["day", ...SUM_COLUMNS])
    .where("day", "<=", day)
    .orderBy("day", "desc")
    .limit(1)
    .executeTakeFirst();
  if (latest === undefined || Number(latest.day) !== day) {
    const start = Object.fromEntries(SUM_COLUMNS.map((column) => [column, latest ? Number(latest[column]) : 0])) as Record<
      (typeof SUM_COLUMNS)[number],
      number
    >;
    await trx
      .insertInto("usage_member_snapshots")
      .values({ ...member, day, ...start })
      .execute();
  }
  await trx
    .updateTable("usage_member_snapshots")
    .set(
      Object.fromEntries(
        SUM_COLUMNS.map((column) => [column, sql<number>`${sql.ref(column)} + ${sums[column]}`]),
      ) as Record<(typeof SUM_COLUMNS)[number], RawBuilder<number>>,
    )
    .where("guild_key", "=", member.guild_key)
    .where("user_id", "=", member.user_id)
    .where("feature", "=", member.feature)
    .where("model", "=", member.model)
    .where("day", ">=", day)
    .execute();
}

/**
 * Notes how many bytes reached Discord for a recorded call (after delivery). Recording again
 * replaces the figure. Returns `false` when no row has that request id.
 */
export async function recordDelivery(store: UsageStore, requestId: string, bytes: number): Promise<boolean> {
  count.parse(bytes);
  return store.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("usage_calls")
      .select(["guild_id", "user_id", "feature", "model", "occurred_at", "bytes_delivered"])
      .where("request_id", "=", requestId)
      .$if(store.dialect === "postgres", (q) => q.forUpdate())
      .executeTakeFirst();
    if (!row) return false;
    const change = bytes - Number(row.bytes_delivered ?? 0);
    if (change === 0 && row.bytes_delivered !== null) return true;
    await trx.updateTable("usage_calls").set({ bytes_delivered: bytes }).where("request_id", "=", requestId).execute();
    await addToTotals(trx, { ...row, occurred_at: Number(row.occurred_at) }, {
      calls: 0,
      failures: 0,
      music_seconds: 0,
      input_tokens: 0,
      output_tokens: 0,
      audio_tokens: 0,
      bytes_delivered: change,
    });
    return true;
  });
}

/**
 * Recomputes the report totals from the ledger rows, in one transaction. They are kept exact on
 * every write, so this is for tooling: after a bulk import, or to check them.
 */
export async function rebuildUsageTotals(store: UsageStore): Promise<void> {
  const key = sql<string>`coalesce(guild_id, ${sql.lit(DIRECT_MESSAGES_KEY)})`;
  const day = sql<number>`occurred_at / ${sql.lit(DAY_MS)}`;
  await store.db.transaction().execute(async (trx) => {
    await trx.deleteFrom("usage_daily_totals").execute();
    await trx.deleteFrom("usage_member_totals").execute();
    await trx.deleteFrom("usage_member_day_totals").execute();
    await trx.deleteFrom("usage_member_snapshots").execute();
    await trx
      .insertInto("usage_daily_totals")
      .columns(["guild_key", "day", "feature", "model", ...SUM_COLUMNS])
      .expression(
        trx
          .selectFrom("usage_calls")
          .select((eb) => [key.as("guild_key"), day.as("day"), "feature", "model", ...sumsOfRows(eb)])
          .groupBy([key, day, "feature", "model"]),
      )
      .execute();
    await trx
      .insertInto("usage_member_totals")
      .columns(["guild_key", "user_id", "feature", "model", ...SUM_COLUMNS])
      .expression(
        trx
          .selectFrom("usage_calls")
          .select((eb) => [key.as("guild_key"), "user_id", "feature", "model", ...sumsOfRows(eb)])
          .groupBy([key, "user_id", "feature", "model"]),
      )
      .execute();
    await trx
      .insertInto("usage_member_day_totals")
      .columns(["guild_key", "day", "user_id", "feature", "model", ...SUM_COLUMNS])
      .expression(
        trx
          .selectFrom("usage_calls")
          .select((eb) => [key.as("guild_key"), day.as("day"), "user_id", "feature", "model", ...sumsOfRows(eb)])
          .groupBy([key, day, "user_id", "feature", "model"]),
      )
      .execute();
    const memberKey = ["guild_key", "user_id", "feature", "model"] as const;
    await trx
      .insertInto("usage_member_snapshots")
      .columns([...memberKey, "day", ...SUM_COLUMNS])
      .expression(
        trx
          .selectFrom("usage_member_day_totals")
          .select((eb) => [
            ...memberKey,
            "day",
            ...SUM_COLUMNS.map((column) =>
              eb.fn.sum(column).over((over) => over.partitionBy([...memberKey]).orderBy("day")).as(column),
            ),
          ]),
      )
      .execute();
  });
}

/** The sums of ledger rows, in `SUM_COLUMNS` order. */
export function sumsOfRows(eb: ExpressionBuilder<UsageDatabase, "usage_calls">) {
  return [
    eb.fn.countAll().as("calls"),
    eb.fn.sum(eb.case().when("outcome", "<>", "ok").then(1).else(0).end()).as("failures"),
    eb.fn.sum("music_seconds").as("music_seconds"),
    eb.fn.sum("input_tokens").as("input_tokens"),
    eb.fn.sum("output_tokens").as("output_tokens"),
    eb.fn.sum("audio_tokens").as("audio_tokens"),
    eb.fn.coalesce(eb.fn.sum("bytes_delivered"), sql.lit(0)).as("bytes_delivered"),
  ] as const;
}
