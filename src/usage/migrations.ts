import { sql, type CreateTableBuilder, type Kysely } from "kysely";
import { Migrator, NO_MIGRATIONS, type Migration, type MigrationResultSet } from "kysely/migration";
import type { UsageDb } from "./db.js";

/*
 * Versioned migrations, listed here in code (no folder loading): the list is what runs, in key
 * order, at startup. Never edit a migration that has shipped; add the next one.
 *
 * The DDL is the same for SQLite and PostgreSQL: `text`, `integer`, `bigint` (epoch ms) and
 * `double precision` mean the same thing to both.
 */

// Migrations must not depend on the current table types, which describe the latest schema.
type AnyDb = Kysely<any>;

const ledger: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("usage_calls")
      .addColumn("request_id", "text", (c) => c.primaryKey())
      .addColumn("occurred_at", "bigint", (c) => c.notNull())
      .addColumn("guild_id", "text")
      .addColumn("channel_id", "text")
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("feature", "text", (c) => c.notNull())
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("outcome", "text", (c) => c.notNull())
      .addColumn("music_seconds", "double precision", (c) => c.notNull().defaultTo(0))
      .addColumn("input_tokens", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("output_tokens", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("audio_tokens", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("latency_ms", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("bytes_delivered", "bigint")
      .execute();
    // A guild's rows of a period (CSV export) and its top members for a period shorter than all
    // time. The figures those sums need follow the key, so the sums are read from the index alone,
    // without a lookup of each row.
    await db.schema
      .createIndex("usage_calls_guild_time")
      .on("usage_calls")
      .columns([
        "guild_id",
        "occurred_at",
        "user_id",
        "model",
        "outcome",
        "music_seconds",
        "input_tokens",
        "output_tokens",
        "audio_tokens",
        "bytes_delivered",
      ])
      .execute();
    // A member's own usage and rows.
    await db.schema
      .createIndex("usage_calls_guild_user_time")
      .on("usage_calls")
      .columns(["guild_id", "user_id", "occurred_at"])
      .execute();
    // The bot owner's CSV export across guilds.
    await db.schema.createIndex("usage_calls_time").on("usage_calls").column("occurred_at").execute();

    // Running sums kept in the same transaction as each row, so that a report over months of a
    // million rows reads a few thousand sums instead (see reports.ts). `guild_key` is the guild id,
    // or "dm" for calls outside any guild (a primary key column cannot be NULL).
    const sums = <TB extends string, C extends string>(table: CreateTableBuilder<TB, C>) =>
      table
        .addColumn("calls", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("failures", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("music_seconds", "double precision", (c) => c.notNull().defaultTo(0))
        .addColumn("input_tokens", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("output_tokens", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("audio_tokens", "bigint", (c) => c.notNull().defaultTo(0))
        .addColumn("bytes_delivered", "bigint", (c) => c.notNull().defaultTo(0));
    await sums(
      db.schema
        .createTable("usage_daily_totals")
        .addColumn("guild_key", "text", (c) => c.notNull())
        .addColumn("day", "integer", (c) => c.notNull())
        .addColumn("feature", "text", (c) => c.notNull())
        .addColumn("model", "text", (c) => c.notNull()),
    )
      .addPrimaryKeyConstraint("usage_daily_totals_pk", ["guild_key", "day", "feature", "model"])
      .execute();
    // Totals of every guild for a period (bot owners).
    await db.schema.createIndex("usage_daily_totals_day").on("usage_daily_totals").column("day").execute();
    await sums(
      db.schema
        .createTable("usage_member_totals")
        .addColumn("guild_key", "text", (c) => c.notNull())
        .addColumn("user_id", "text", (c) => c.notNull())
        .addColumn("feature", "text", (c) => c.notNull())
        .addColumn("model", "text", (c) => c.notNull()),
    )
      .addPrimaryKeyConstraint("usage_member_totals_pk", ["guild_key", "user_id", "feature", "model"])
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable("usage_member_totals").execute();
    await db.schema.dropTable("usage_daily_totals").execute();
    await db.schema.dropTable("usage_calls").execute();
  },
};

const quotas: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("usage_guild_settings")
      .addColumn("guild_key", "text", (c) => c.primaryKey())
      .addColumn("overrides", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .addColumn("updated_by", "text")
      .execute();
    await db.schema
      .createTable("usage_quota_user_day")
      .addColumn("guild_key", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("day", "integer", (c) => c.notNull())
      .addColumn("songs", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("music_seconds", "double precision", (c) => c.notNull().defaultTo(0))
      .addColumn("analyses", "integer", (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint("usage_quota_user_day_pk", ["guild_key", "user_id", "day"])
      .execute();
    await db.schema
      .createTable("usage_quota_guild_month")
      .addColumn("guild_key", "text", (c) => c.notNull())
      .addColumn("month", "integer", (c) => c.notNull())
      .addColumn("music_seconds", "double precision", (c) => c.notNull().defaultTo(0))
      .addColumn("cost", "double precision", (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint("usage_quota_guild_month_pk", ["guild_key", "month"])
      .execute();
    await db.schema
      .createTable("usage_quota_reservations")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("guild_key", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("feature", "text", (c) => c.notNull())
      .addColumn("model", "text")
      .addColumn("day", "integer", (c) => c.notNull())
      .addColumn("month", "integer", (c) => c.notNull())
      .addColumn("music_seconds", "double precision", (c) => c.notNull().defaultTo(0))
      .addColumn("cost", "double precision", (c) => c.notNull().defaultTo(0))
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .addColumn("finished_at", "bigint")
      .execute();
    // The holds that count against a guild's quotas right now.
    await db.schema
      .createIndex("usage_quota_reservations_held")
      .on("usage_quota_reservations")
      .columns(["guild_key", "status", "expires_at"])
      .execute();
    // A member's last song, for the cooldown.
    await db.schema
      .createIndex("usage_quota_reservations_member")
      .on("usage_quota_reservations")
      .columns(["guild_key", "user_id", "feature", "created_at"])
      .execute();
    // Sweeping old finished reservations.
    await db.schema
      .createIndex("usage_quota_reservations_created")
      .on("usage_quota_reservations")
      .column("created_at")
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable("usage_quota_reservations").execute();
    await db.schema.dropTable("usage_quota_guild_month").execute();
    await db.schema.dropTable("usage_quota_user_day").execute();
    await db.schema.dropTable("usage_guild_settings").execute();
  },
};

/** Every migration of the usage store, by name; names sort in the order they must run. */
/** State the bot keeps across restarts: what the song buttons act on, and each server's settings. */
const botState: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("bot_song_records")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("requester_id", "text", (c) => c.notNull())
      .addColumn("guild_id", "text")
      .addColumn("channel_id", "text")
      .addColumn("input_json", "text", (c) => c.notNull())
      .addColumn("title", "text", (c) => c.notNull())
      .addColumn("result_lyrics", "text")
      .addColumn("request_id", "text")
      .addColumn("audio_url", "text")
      .addColumn("file_name", "text", (c) => c.notNull())
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("bot_song_records_created").on("bot_song_records").column("created_at").execute();
    await db.schema
      .createTable("bot_guild_settings")
      .addColumn("guild_id", "text", (c) => c.primaryKey())
      .addColumn("analysis_replies_public", "integer", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable("bot_guild_settings").execute();
    await db.schema.dropTable("bot_song_records").execute();
  },
};

/*
 * Per guild, member, UTC day, feature and model: what a guild's top members and a member's own
 * figures for a period other than "all" read, instead of summing up to a month of one guild's
 * rows (a second and more for a busy guild on SQLite, where the query blocks the event loop).
 * Kept in the same transaction as each ledger row (ledger.ts), like the totals of 0001.
 */
const memberDayTotals: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("usage_member_day_totals")
      .addColumn("guild_key", "text", (c) => c.notNull())
      .addColumn("day", "integer", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("feature", "text", (c) => c.notNull())
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("calls", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("failures", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("music_seconds", "double precision", (c) => c.notNull().defaultTo(0))
      .addColumn("input_tokens", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("output_tokens", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("audio_tokens", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("bytes_delivered", "bigint", (c) => c.notNull().defaultTo(0))
      // Day before member: a guild's top members of a period read one range of the key.
      .addPrimaryKeyConstraint("usage_member_day_totals_pk", ["guild_key", "day", "user_id", "feature", "model"])
      .execute();
    // A guild's top members of a period: with every figure the sum needs in the index, it is
    // read from the index alone (an index-only scan on PostgreSQL), without a lookup per row.
    // A busy guild's month can hold hundreds of thousands of these rows (a member's day rarely
    // has many calls), and the lookups were most of the query's time.
    await db.schema
      .createIndex("usage_member_day_totals_top")
      .on("usage_member_day_totals")
      .columns([
        "guild_key",
        "day",
        "user_id",
        "model",
        "calls",
        "failures",
        "music_seconds",
        "input_tokens",
        "output_tokens",
        "audio_tokens",
        "bytes_delivered",
      ])
      .execute();
    // A member's own figures and daily series.
    await db.schema
      .createIndex("usage_member_day_totals_member")
      .on("usage_member_day_totals")
      .columns(["guild_key", "user_id", "day"])
      .execute();
    // Existing ledgers already have rows: sum them in. Plain SQL with the day length written out,
    // so that this migration does not change when the code's constants or types do.
    await sql`
      insert into usage_member_day_totals
        (guild_key, day, user_id, feature, model, calls, failures, music_seconds,
         input_tokens, output_tokens, audio_tokens, bytes_delivered)
      select coalesce(guild_id, 'dm'), occurred_at / 86400000, user_id, feature, model,
        count(*),
        sum(case when outcome <> 'ok' then 1 else 0 end),
        sum(music_seconds),
        sum(input_tokens),
        sum(output_tokens),
        sum(audio_tokens),
        coalesce(sum(bytes_delivered), 0)
      from usage_calls
      group by coalesce(guild_id, 'dm'), occurred_at / 86400000, user_id, feature, model
    `.execute(db);
  },
  async down(db: AnyDb) {
    await db.schema.dropTable("usage_member_day_totals").execute();
  },
};

/*
 * Durable jobs (src/jobs/) and analysis conversations. `bot_jobs_queue` serves claiming (the oldest
 * queued job of a kind) and counting what runs; `bot_jobs_lease` finds jobs whose process died.
 */
const jobs: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("bot_jobs")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("guild_id", "text")
      .addColumn("channel_id", "text")
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("user_name", "text", (c) => c.notNull())
      .addColumn("locale", "text", (c) => c.notNull())
      .addColumn("guild_locale", "text")
      .addColumn("application_id", "text", (c) => c.notNull())
      .addColumn("interaction_id", "text", (c) => c.notNull())
      .addColumn("interaction_token", "text", (c) => c.notNull())
      .addColumn("token_expires_at", "bigint", (c) => c.notNull())
      .addColumn("ephemeral", "integer", (c) => c.notNull())
      .addColumn("attachment_limit_bytes", "bigint", (c) => c.notNull())
      .addColumn("input_json", "text", (c) => c.notNull())
      .addColumn("reservation_id", "text")
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("request_id", "text")
      .addColumn("result_json", "text")
      .addColumn("error_code", "text")
      .addColumn("lease_owner", "text")
      .addColumn("lease_expires_at", "bigint")
      .addColumn("created_at", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
    // An interaction becomes at most one job, even if its handler ran twice.
    await db.schema.createIndex("bot_jobs_interaction").unique().on("bot_jobs").column("interaction_id").execute();
    await db.schema.createIndex("bot_jobs_queue").on("bot_jobs").columns(["kind", "state", "created_at"]).execute();
    await db.schema.createIndex("bot_jobs_lease").on("bot_jobs").columns(["state", "lease_expires_at"]).execute();
    await db.schema.createIndex("bot_jobs_user").on("bot_jobs").columns(["user_id", "state"]).execute();
    await db.schema
      .createTable("bot_conversations")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("conversation_json", "text", (c) => c.notNull())
      .addColumn("expires_at", "bigint", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("bot_conversations_expires").on("bot_conversations").column("expires_at").execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable("bot_conversations").execute();
    await db.schema.dropTable("bot_jobs").execute();
  },
};

/** The server names the bot sees, for `npm run report` (guild-names.ts). */
const guildNames: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("guild_names")
      .addColumn("guild_id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("updated_at", "bigint", (c) => c.notNull())
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable("guild_names").execute();
  },
};

/*
 * Per guild, member, feature and model, a running total as of the end of each UTC day on which
 * the member's figures changed: the sums of every call up to and including that day. A period
 * ending now is then "all time now" (usage_member_totals) minus "all time as of the day before the
 * period" (the latest snapshot before it), one lookup per member, model and feature, whatever the
 * number of calls or member-days in the period. 0004's member-day totals made a busy guild's top
 * members of a month read a row per member and day (about 410,000 for 5,000 members), which cost
 * 300 ms on SQLite and 450 ms on PostgreSQL (BENCHMARKS.md); this reads about 20,000.
 * Kept in the same transaction as each ledger row (ledger.ts).
 */
const memberSnapshots: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("usage_member_snapshots")
      .addColumn("guild_key", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull())
      .addColumn("feature", "text", (c) => c.notNull())
      .addColumn("model", "text", (c) => c.notNull())
      .addColumn("day", "integer", (c) => c.notNull())
      .addColumn("calls", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("failures", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("music_seconds", "double precision", (c) => c.notNull().defaultTo(0))
      .addColumn("input_tokens", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("output_tokens", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("audio_tokens", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("bytes_delivered", "bigint", (c) => c.notNull().defaultTo(0))
      // Day last: "the latest snapshot of this member, feature and model before a day" is one
      // backwards step in the key.
      .addPrimaryKeyConstraint("usage_member_snapshots_pk", ["guild_key", "user_id", "feature", "model", "day"])
      .execute();
    // Existing ledgers: running sums of 0004's member-day totals (exact sums of the rows), in
    // plain SQL so that this migration does not change when the code does.
    await sql`
      insert into usage_member_snapshots
        (guild_key, user_id, feature, model, day, calls, failures, music_seconds,
         input_tokens, output_tokens, audio_tokens, bytes_delivered)
      select guild_key, user_id, feature, model, day,
        sum(calls) over running,
        sum(failures) over running,
        sum(music_seconds) over running,
        sum(input_tokens) over running,
        sum(output_tokens) over running,
        sum(audio_tokens) over running,
        sum(bytes_delivered) over running
      from usage_member_day_totals
      window running as (partition by guild_key, user_id, feature, model order by day)
    `.execute(db);
  },
  async down(db: AnyDb) {
    await db.schema.dropTable("usage_member_snapshots").execute();
  },
};

/*
 * The calls of a period that did not end `ok`, by outcome, for the reports' failure breakdown
 * (`interrupted` among them: calls whose outcome is unknown and may have been charged). A partial
 * index holds only those rows, so a busy guild's month of successful calls is never read for it.
 */
const failureIndex: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createIndex("usage_calls_failures")
      .on("usage_calls")
      .columns(["guild_id", "occurred_at", "outcome"])
      .where(sql.ref("outcome"), "<>", "ok")
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex("usage_calls_failures").execute();
  },
};

/**
 * The id of a job's public reply message, so that a reply whose interaction token ran out (a long
 * wait in the queue) can still be removed with the bot's own token instead of being left on its last
 * progress line when the result goes to the channel.
 */
const jobReplyMessage: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable("bot_jobs").addColumn("reply_message_id", "text").execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable("bot_jobs").dropColumn("reply_message_id").execute();
  },
};

export const usageMigrations: Readonly<Record<string, Migration>> = {
  "0001_ledger": ledger,
  "0002_quotas": quotas,
  "0003_bot_state": botState,
  "0004_member_day_totals": memberDayTotals,
  "0005_jobs": jobs,
  "0006_guild_names": guildNames,
  "0007_member_snapshots": memberSnapshots,
  "0008_failure_index": failureIndex,
  "0009_job_reply_message": jobReplyMessage,
};

export const MIGRATION_TABLE = "usage_migration";
export const MIGRATION_LOCK_TABLE = "usage_migration_lock";

function usageMigrator(db: UsageDb, schema: string | undefined): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...usageMigrations }) },
    // Own bookkeeping tables, so another part of the bot could keep its own migrations in the same database.
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
}

/**
 * Brings the store's schema up to date. Safe to call from several processes at once: Kysely takes
 * a lock (an advisory lock on PostgreSQL) around the run.
 * Throws with the failing migration's name if one fails; the ones before it stay applied.
 */
export async function migrateUsageDb(db: UsageDb, options: { schema?: string | undefined } = {}): Promise<string[]> {
  const { error, results } = await usageMigrator(db, options.schema).migrateToLatest();
  return checked(error, results);
}

/**
 * Brings the schema to exactly the named migration (applying or undoing what lies between). For
 * tests and tooling, e.g. to build a database as an older release left it.
 */
export async function migrateUsageDbTo(
  db: UsageDb,
  migrationName: string,
  options: { schema?: string | undefined } = {},
): Promise<string[]> {
  if (!(migrationName in usageMigrations)) throw new Error(`no usage store migration named ${migrationName}`);
  const { error, results } = await usageMigrator(db, options.schema).migrateTo(migrationName);
  return checked(error, results);
}

/** Undoes every migration (tests and tooling only). */
export async function resetUsageDb(db: UsageDb, options: { schema?: string | undefined } = {}): Promise<string[]> {
  const { error, results } = await usageMigrator(db, options.schema).migrateTo(NO_MIGRATIONS);
  return checked(error, results);
}

function checked(error: unknown, results: MigrationResultSet["results"]): string[] {
  const failed = results?.find((result) => result.status === "Error");
  if (error !== undefined) {
    const name = failed ? ` (${failed.migrationName})` : "";
    throw new Error(`usage store migration failed${name}`, { cause: error });
  }
  return (results ?? []).filter((result) => result.status === "Success").map((result) => result.migrationName);
}
