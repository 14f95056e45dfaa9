import { randomUUID } from "node:crypto";
import { openUsageDb, type DatabaseTarget, type UsageDb, type UsageDialect } from "./db.js";
import { migrateUsageDb } from "./migrations.js";
import { EXAMPLE_PRICES, type PriceTable } from "./prices.js";
import { DEFAULT_QUOTA_SETTINGS, type QuotaSettings } from "./quota-settings.js";

/**
 * The usage store: one database (SQLite or PostgreSQL) plus what the ledger, quota and report
 * functions need to know. Every function of this module takes it as its first argument.
 */
export type UsageStore = {
  readonly db: UsageDb;
  readonly dialect: UsageDialect;
  readonly prices: PriceTable;
  /** Quota settings of a guild that has overridden none. */
  readonly quotaDefaults: QuotaSettings;
  /** How long a reservation holds quota before it is treated as abandoned (the bot crashed mid-call). */
  readonly reservationTtlMs: number;
  readonly now: () => Date;
  readonly newId: () => string;
  /** Closes the database. */
  close(): Promise<void>;
};

/**
 * Default reservation lifetime: longer than a queued song's wait plus the longest call
 * (MUSIC_TIMEOUT_SECONDS defaults to 600), short enough that a crash frees quota within the hour.
 */
export const DEFAULT_RESERVATION_TTL_MS = 30 * 60_000;

export type OpenUsageStoreOptions = {
  target: DatabaseTarget;
  prices?: PriceTable | undefined;
  quotaDefaults?: QuotaSettings | undefined;
  reservationTtlMs?: number | undefined;
  /** PostgreSQL only: keep the tables in this schema (created if missing). */
  schema?: string | undefined;
  /** PostgreSQL only: pool size (default 10). */
  poolSize?: number | undefined;
  /**
   * Errors away from any call (an idle PostgreSQL connection dropped; the SQLite checkpointer
   * failed), e.g. `(error) => logger.warn({ err: error }, "usage store")`.
   */
  onBackgroundError?: ((error: Error) => void) | undefined;
  /** SQLite file only: how often the WAL is checkpointed in the background (default 1000 ms). */
  checkpointIntervalMs?: number | undefined;
  /** SQLite file only: the log outgrew 64 MB and the main thread checkpointed it; worth a debug line. */
  onForcedCheckpoint?: ((info: { walBytes: number; ms: number }) => void) | undefined;
  /** SQLite file only: log size past which the main thread checkpoints (default 64 MB). */
  walLimitBytes?: number | undefined;
  /** Skip the migrations (they run by default: the schema is brought up to date at startup). */
  migrate?: boolean | undefined;
  now?: (() => Date) | undefined;
  newId?: (() => string) | undefined;
};

/** Opens the database, applies pending migrations, and returns the store. */
export async function openUsageStore(options: OpenUsageStoreOptions): Promise<UsageStore> {
  const opened = await openUsageDb(options.target, {
    schema: options.schema,
    poolSize: options.poolSize,
    onBackgroundError: options.onBackgroundError,
    checkpointIntervalMs: options.checkpointIntervalMs,
    onForcedCheckpoint: options.onForcedCheckpoint,
    walLimitBytes: options.walLimitBytes,
  });
  try {
    if (options.migrate !== false) await migrateUsageDb(opened.db, { schema: options.schema });
  } catch (error) {
    await opened.close();
    throw error;
  }
  return {
    db: opened.db,
    dialect: opened.dialect,
    prices: options.prices ?? EXAMPLE_PRICES,
    quotaDefaults: options.quotaDefaults ?? DEFAULT_QUOTA_SETTINGS,
    reservationTtlMs: options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS,
    now: options.now ?? (() => new Date()),
    newId: options.newId ?? randomUUID,
    close: opened.close,
  };
}
