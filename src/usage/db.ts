import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type SqliteDatabase,
  type SqliteStatement,
} from "kysely";
import pg from "pg";
import type { UsageDatabase } from "./schema.js";

export type UsageDb = Kysely<UsageDatabase>;
export type UsageDialect = "sqlite" | "postgres";

/** Where the usage store lives, resolved from `DATABASE_URL`. */
export type DatabaseTarget =
  | { dialect: "sqlite"; /** a file path (relative to the working directory), or `:memory:` */ path: string }
  | { dialect: "postgres"; connectionString: string };

/** The embedded store used when `DATABASE_URL` is empty: a file under `./data/`. */
export const DEFAULT_SQLITE_PATH = "./data/dashtune.sqlite";

/**
 * Reads `DATABASE_URL`: empty means the embedded SQLite file under `./data/`; `postgres://…` or
 * `postgresql://…` means PostgreSQL; `sqlite:<path>` (or `file:<path>`, or `sqlite::memory:`) picks
 * another SQLite file. Anything else is an error that names the accepted forms.
 */
export function resolveDatabaseTarget(url: string | undefined): DatabaseTarget {
  const value = url?.trim() ?? "";
  if (value === "") return { dialect: "sqlite", path: DEFAULT_SQLITE_PATH };
  if (/^postgres(ql)?:\/\//i.test(value)) return { dialect: "postgres", connectionString: value };
  const sqlite = /^(?:sqlite|file):(?:\/\/)?(.+)$/i.exec(value);
  if (sqlite?.[1]) {
    return { dialect: "sqlite", path: sqlite[1] };
  }
  throw new Error(
    "DATABASE_URL must be empty (embedded SQLite under ./data/), postgres://…, or sqlite:<path>",
  );
}

export type OpenUsageDbOptions = {
  /**
   * PostgreSQL only: keep every table in this schema (created if missing) by setting the
   * connection's `search_path`. Tests use it to isolate parallel runs.
   */
  schema?: string | undefined;
  /** PostgreSQL only: pool size. Default 10. */
  poolSize?: number | undefined;
  /**
   * Errors that happen away from any call: a PostgreSQL pooled connection dropping while idle
   * (which would otherwise crash the process), or the SQLite checkpointer failing (the store then
   * checkpoints on the main thread again and keeps working).
   */
  onBackgroundError?: ((error: Error) => void) | undefined;
  /** SQLite file only: how often the background thread checkpoints the WAL. Default 1000 ms. */
  checkpointIntervalMs?: number | undefined;
  /**
   * SQLite file only: told when the log outgrew 64 MB under sustained writing and the main thread
   * checkpointed it, blocking for `ms`. Worth a debug log line.
   */
  onForcedCheckpoint?: ((info: { walBytes: number; ms: number }) => void) | undefined;
  /** SQLite file only: log size past which the main thread checkpoints. Default 64 MB. */
  walLimitBytes?: number | undefined;
};

export type OpenedUsageDb = {
  db: UsageDb;
  dialect: UsageDialect;
  /** Closes the SQLite file or ends the PostgreSQL pool. */
  close(): Promise<void>;
};

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openUsageDb(target: DatabaseTarget, options: OpenUsageDbOptions = {}): Promise<OpenedUsageDb> {
  if (target.dialect === "sqlite") {
    const database = openSqliteFile(target.path);
    const checkpointer =
      target.path === ":memory:"
        ? undefined
        : startCheckpointer(database, target.path, options);
    const db = new Kysely<UsageDatabase>({ dialect: sqliteDialect(database) });
    return {
      db,
      dialect: "sqlite",
      async close() {
        await checkpointer?.stop();
        await db.destroy();
      },
    };
  }

  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new Error(`schema must be a lower-case SQL identifier, got ${JSON.stringify(schema)}`);
  }
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: options.poolSize ?? 10,
    types: { getTypeParser: numericTypeParser },
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  pool.on("error", (error) => options.onBackgroundError?.(error));
  if (schema !== undefined) {
    try {
      await pool.query(`create schema if not exists ${schema}`);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }
  const db = new Kysely<UsageDatabase>({ dialect: new PostgresDialect({ pool }) });
  // Kysely's destroy ends the pool.
  return { db, dialect: "postgres", close: () => db.destroy() };
}

const PG_INT8 = 20;
const PG_NUMERIC = 1700;

/**
 * node-postgres returns `bigint` and `numeric` as strings. Our bigints are epoch milliseconds, counts
 * and sums, all far below 2^53, so they are parsed as numbers — for this pool only, not through
 * the process-wide `pg.types`.
 */
function numericTypeParser(oid: number, format?: "text" | "binary"): (value: string) => unknown {
  if (oid === PG_INT8 || oid === PG_NUMERIC) return Number;
  // pg-types' overloads don't accept a union format; every query here uses text.
  return pg.types.getTypeParser(oid, format as "text");
}

function openSqliteFile(path: string): Database.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const database = new Database(path);
  // WAL: readers don't block the writer and a commit appends to the log instead of rewriting pages.
  // synchronous=NORMAL: in WAL mode a commit no longer waits for fsync (durability is kept across
  // application crashes; only an OS crash or power loss can drop the last commits).
  database.exec("pragma journal_mode = WAL");
  database.exec("pragma synchronous = NORMAL");
  database.exec("pragma busy_timeout = 5000");
  database.exec("pragma foreign_keys = ON");
  // After a checkpoint the next writer starts the log over; this trims the file back to 16 MB.
  database.exec("pragma journal_size_limit = 16777216");
  return database;
}

/*
 * In WAL mode a commit only appends to the log; the log is copied into the database file by a
 * checkpoint, which SQLite runs by default inside the commit that crosses 1,000 pages — copying
 * megabytes and fsyncing, on the main thread. That made one ledger write in a few hundred block
 * the event loop for milliseconds (and far longer on slow disks, e.g. an SD card). So the main
 * connection does not checkpoint; a worker thread with its own connection does, every second,
 * in PASSIVE mode: it neither waits for nor blocks the writer. Each round repeats the pass (each
 * copying what was written during the previous one) until it has caught up, because the log only
 * starts over when a writer finds it fully copied.
 *
 * Under writing that never pauses — a bulk import, not a bot's trickle of calls — the worker
 * never catches up and the log would grow without end. Past WAL_LIMIT_BYTES it tells the main
 * thread, which then checkpoints once itself, between two writes: as the only writer it is sure
 * to finish, and that one write waits (reported through `onForcedCheckpoint`).
 */
const WAL_LIMIT_BYTES = 64 * 1024 * 1024;

const CHECKPOINTER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
// Statements are prepared once and live as long as the thread.
const db = new Database(workerData.path, { fileMustExist: true });
db.exec("pragma busy_timeout = 5000");
const passive = db.prepare("pragma wal_checkpoint(PASSIVE)");
const truncate = db.prepare("pragma wal_checkpoint(TRUNCATE)");
const pageSizeStatement = db.prepare("pragma page_size").pluck();
const pageSize = pageSizeStatement.get();
// Frames in the log since it last started over (its file keeps its size when it starts over).
let frames = 0;
// Returns whether every frame of the log is now in the database file.
const checkpoint = (statement) => {
  try {
    const { log, checkpointed } = statement.get();
    frames = log;
    return log === checkpointed;
  } catch (error) {
    parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
    return false;
  }
};
const timer = setInterval(() => {
  for (let pass = 0; pass < 5 && !checkpoint(passive); pass++);
  const walBytes = frames * pageSize;
  if (walBytes > workerData.walLimitBytes) parentPort.postMessage({ overLimit: walBytes });
}, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message !== "stop") return;
  clearInterval(timer);
  checkpoint(truncate);
  db.close();
  parentPort.close();
});
`;

function startCheckpointer(
  database: Database.Database,
  path: string,
  options: OpenUsageDbOptions,
): { stop(): Promise<void> } {
  const intervalMs = options.checkpointIntervalMs ?? 1000;
  const onError = options.onBackgroundError;
  const worker = new Worker(CHECKPOINTER_SOURCE, {
    eval: true,
    workerData: {
      path,
      intervalMs,
      walLimitBytes: options.walLimitBytes ?? WAL_LIMIT_BYTES,
      driver: createRequire(import.meta.url).resolve("better-sqlite3"),
    },
  });
  // A store that is never closed must not keep the process alive.
  worker.unref();
  database.exec("pragma wal_autocheckpoint = 0");
  let stopped = false;
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const fallBack = (error: Error) => {
    onError?.(error);
    // Without the worker the log would grow for ever: checkpoint in commits again.
    if (!stopped && database.open) database.exec("pragma wal_autocheckpoint = 1000");
  };
  worker.on("error", fallBack);
  const checkpointHere = database.prepare("pragma wal_checkpoint(PASSIVE)");
  worker.on("message", (message: { error?: string; overLimit?: number }) => {
    if (message.error) onError?.(new Error(`SQLite checkpoint failed: ${message.error}`));
    // A message arrives between two event-loop turns, so no write of ours is half done; a
    // transaction left open by someone else is waited out until the next message.
    if (message.overLimit && !stopped && database.open && !database.inTransaction) {
      const started = performance.now();
      try {
        checkpointHere.get();
      } catch (error) {
        onError?.(error as Error);
      }
      options.onForcedCheckpoint?.({ walBytes: message.overLimit, ms: performance.now() - started });
    }
  });
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      // Keep the process alive until the worker's last checkpoint is done: unreferenced, a
      // process with nothing else to do would exit in the middle of `await exited`.
      worker.ref();
      worker.postMessage("stop");
      await exited;
    },
  };
}

/**
 * Kysely's SQLite driver prepares every statement anew. Our queries have a fixed set of shapes
 * (values are always parameters), so each is prepared once and kept: a ledger write costs an
 * execution, not a parse and plan.
 */
function withStatementCache(database: Database.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sqlText) {
      let statement = cache.get(sqlText);
      if (!statement) {
        statement = database.prepare(sqlText);
        cache.set(sqlText, statement);
      }
      return statement;
    },
  };
}

/**
 * SQLite with `BEGIN IMMEDIATE`: the write lock is taken when the transaction starts, not at its
 * first write, so a read-then-write transaction (quota checks) can never fail half-way with
 * SQLITE_BUSY if another process opens the same file. Within this process Kysely's driver already
 * serializes everything over its one connection.
 */
function sqliteDialect(database: Database.Database): Dialect {
  const base = new SqliteDialect({ database: withStatementCache(database) });
  return {
    createAdapter: () => base.createAdapter(),
    createQueryCompiler: () => base.createQueryCompiler(),
    createIntrospector: (db) => base.createIntrospector(db),
    createDriver(): Driver {
      const driver = base.createDriver();
      return {
        init: () => driver.init(),
        acquireConnection: () => driver.acquireConnection(),
        async beginTransaction(connection: DatabaseConnection) {
          await connection.executeQuery(CompiledQuery.raw("begin immediate"));
        },
        commitTransaction: (connection) => driver.commitTransaction(connection),
        rollbackTransaction: (connection) => driver.rollbackTransaction(connection),
        releaseConnection: (connection) => driver.releaseConnection(connection),
        destroy: () => driver.destroy(),
      };
    },
  };
}
