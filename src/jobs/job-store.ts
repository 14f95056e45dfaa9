import { randomUUID } from "node:crypto";
import { sql, type Selectable, type Transaction } from "kysely";
import type { BotJobTable, UsageDatabase } from "../usage/schema.js";
import type { UsageStore } from "../usage/store.js";

/*
 * Durable jobs: every accepted song or analysis request is a row of `bot_jobs`, so paid work
 * survives a crash, a restart and a process taken over by another.
 *
 * Every unfinished job has a lease: the process that holds it (`lease_owner`) and until when. A
 * queued job's lease belongs to the process that shows its place in the queue; a running or
 * billed job's to the process doing the work. Each process renews all its leases in one statement
 * every few seconds; a lease that runs out means its process died, and a live process adopts the
 * job (recovery). Every change a process makes to a job it is working on is fenced on
 * `lease_owner`, so a process that stalled past its lease cannot overwrite what the adopter did.
 *
 * Claiming the next queued job is atomic and holds the concurrency of its kind across processes:
 * on PostgreSQL a transaction-scoped advisory lock per kind serializes the count of running jobs
 * and the claim (`FOR UPDATE SKIP LOCKED` picks the row); on SQLite `BEGIN IMMEDIATE` does, and
 * one process owns the queue.
 */

export const JOB_KINDS = ["song", "analysis"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATES = ["queued", "running", "billed", "delivered", "failed", "cancelled", "interrupted"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** States in which a job still has work to do, and a lease. */
export const UNFINISHED_STATES = ["queued", "running", "billed"] as const satisfies readonly JobState[];

export type Job = {
  id: string;
  kind: JobKind;
  state: JobState;
  guildId: string | null;
  channelId: string | null;
  userId: string;
  userName: string;
  locale: string;
  guildLocale: string | null;
  applicationId: string;
  interactionId: string;
  /** Secret: edits the requester's reply until `tokenExpiresAt`. Never logged. */
  interactionToken: string;
  tokenExpiresAt: Date;
  ephemeral: boolean;
  /** The reply's message id, given with the acknowledgement; what is left to reach it once the token is gone. */
  replyMessageId: string | null;
  attachmentLimitBytes: number;
  input: unknown;
  reservationId: string | null;
  attempts: number;
  requestId: string | null;
  result: unknown;
  errorCode: string | null;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

export type NewJob = Pick<
  Job,
  | "kind"
  | "guildId"
  | "channelId"
  | "userId"
  | "userName"
  | "locale"
  | "guildLocale"
  | "applicationId"
  | "interactionId"
  | "interactionToken"
  | "tokenExpiresAt"
  | "ephemeral"
  | "replyMessageId"
  | "attachmentLimitBytes"
  | "input"
  | "reservationId"
>;

/** What a process may change on a job it holds. */
export type JobPatch = Partial<Pick<Job, "state" | "requestId" | "result" | "errorCode">>;

export type JobStore = {
  /** Adds a queued job watched by `owner`. Rejects a second job for the same interaction. */
  insert(job: NewJob, owner: string): Promise<Job>;
  get(id: string): Promise<Job | undefined>;
  /** Claims the oldest queued job of `kind` when fewer than `concurrency` run (across processes). */
  claimNext(kind: JobKind, owner: string, concurrency: number): Promise<Job | undefined>;
  /** Renews every lease `owner` holds; returns how many. */
  renewLeases(owner: string): Promise<number>;
  /** Changes a job `owner` holds; false when it no longer holds it (adopted by another process). */
  update(id: string, owner: string, patch: JobPatch): Promise<boolean>;
  /** Cancels a job that is still queued; undefined when it is not (running, finished, unknown). */
  cancelQueued(id: string): Promise<Job | undefined>;
  /**
   * Adopts unfinished jobs whose lease ran out (their process died), or with `everyOtherOwner`
   * every unfinished job held by another process (SQLite: one process owns the queue, so at start
   * every other holder is dead). Returns them as they were before adoption.
   */
  adopt(owner: string, options?: { everyOtherOwner?: boolean }): Promise<Job[]>;
  /** Ends `owner`'s leases now, so that another process may adopt its jobs at once. */
  releaseLeases(owner: string, states?: readonly JobState[]): Promise<number>;
  /** 1-based places of the queued jobs of `kind`, oldest first. */
  queuePositions(kind: JobKind): Promise<Map<string, number>>;
  /**
   * The requester's job of `kind` that is waiting or making its paid call, if any: one at a time per
   * user. A billed job is only being posted, so it no longer counts.
   */
  unfinishedJobOf(userId: string, kind: JobKind): Promise<Job | undefined>;
  /** How many jobs are in each state (metrics, health). */
  countByState(): Promise<Record<JobState, number>>;
  /** Removes finished jobs older than `keepMs` (the interaction token in them is long dead). */
  pruneFinished(keepMs: number): Promise<number>;
};

type JobRow = Selectable<BotJobTable>;

/** Distinct per kind, so songs and analyses never wait on each other's claim. */
const ADVISORY_LOCK_KEYS: Record<JobKind, number> = { song: 7_391_001, analysis: 7_391_002 };

function fromRow(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind as JobKind,
    state: row.state as JobState,
    guildId: row.guild_id,
    channelId: row.channel_id,
    userId: row.user_id,
    userName: row.user_name,
    locale: row.locale,
    guildLocale: row.guild_locale,
    applicationId: row.application_id,
    interactionId: row.interaction_id,
    interactionToken: row.interaction_token,
    tokenExpiresAt: new Date(Number(row.token_expires_at)),
    ephemeral: row.ephemeral === 1,
    replyMessageId: row.reply_message_id,
    attachmentLimitBytes: Number(row.attachment_limit_bytes),
    input: JSON.parse(row.input_json) as unknown,
    reservationId: row.reservation_id,
    attempts: row.attempts,
    requestId: row.request_id,
    result: row.result_json === null ? null : (JSON.parse(row.result_json) as unknown),
    errorCode: row.error_code,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at === null ? null : new Date(Number(row.lease_expires_at)),
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}

export function createJobStore(store: UsageStore, options: { leaseMs: number }): JobStore {
  const { db } = store;
  const now = () => store.now().getTime();
  const leaseEnd = () => now() + options.leaseMs;

  async function claimWithin(trx: Transaction<UsageDatabase>, kind: JobKind, owner: string, concurrency: number): Promise<Job | undefined> {
    if (store.dialect === "postgres") await sql`select pg_advisory_xact_lock(${ADVISORY_LOCK_KEYS[kind]})`.execute(trx);
    const at = now();
    // A running job whose lease ran out belongs to a dead process: it no longer takes a slot.
    const running = await trx
      .selectFrom("bot_jobs")
      .select((eb) => eb.fn.countAll<number>().as("count"))
      .where("kind", "=", kind)
      .where("state", "=", "running")
      .where("lease_expires_at", ">", at)
      .executeTakeFirstOrThrow();
    if (Number(running.count) >= concurrency) return undefined;
    let next = trx.selectFrom("bot_jobs").select("id").where("kind", "=", kind).where("state", "=", "queued").orderBy("created_at").orderBy("id").limit(1);
    if (store.dialect === "postgres") next = next.forUpdate().skipLocked();
    const candidate = await next.executeTakeFirst();
    if (!candidate) return undefined;
    const row = await trx
      .updateTable("bot_jobs")
      .set((eb) => ({ state: "running", lease_owner: owner, lease_expires_at: leaseEnd(), attempts: eb("attempts", "+", 1), updated_at: at }))
      .where("id", "=", candidate.id)
      .where("state", "=", "queued")
      .returningAll()
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  return {
    async insert(job, owner) {
      const at = now();
      const row = await db
        .insertInto("bot_jobs")
        .values({
          id: randomUUID(),
          kind: job.kind,
          state: "queued",
          guild_id: job.guildId,
          channel_id: job.channelId,
          user_id: job.userId,
          user_name: job.userName,
          locale: job.locale,
          guild_locale: job.guildLocale,
          application_id: job.applicationId,
          interaction_id: job.interactionId,
          interaction_token: job.interactionToken,
          token_expires_at: job.tokenExpiresAt.getTime(),
          ephemeral: job.ephemeral ? 1 : 0,
          reply_message_id: job.replyMessageId,
          attachment_limit_bytes: job.attachmentLimitBytes,
          input_json: JSON.stringify(job.input),
          reservation_id: job.reservationId,
          attempts: 0,
          request_id: null,
          result_json: null,
          error_code: null,
          lease_owner: owner,
          lease_expires_at: leaseEnd(),
          created_at: at,
          updated_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return fromRow(row);
    },
    async get(id) {
      const row = await db.selectFrom("bot_jobs").selectAll().where("id", "=", id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    claimNext(kind, owner, concurrency) {
      return db.transaction().execute((trx) => claimWithin(trx, kind, owner, concurrency));
    },
    async renewLeases(owner) {
      const result = await db
        .updateTable("bot_jobs")
        .set({ lease_expires_at: leaseEnd() })
        .where("lease_owner", "=", owner)
        .where("state", "in", UNFINISHED_STATES)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async update(id, owner, patch) {
      const result = await db
        .updateTable("bot_jobs")
        .set({
          ...(patch.state === undefined ? {} : { state: patch.state }),
          ...(patch.requestId === undefined ? {} : { request_id: patch.requestId }),
          ...(patch.result === undefined ? {} : { result_json: JSON.stringify(patch.result) }),
          ...(patch.errorCode === undefined ? {} : { error_code: patch.errorCode }),
          // A finished job holds no lease: nobody is to adopt it.
          ...(patch.state !== undefined && !(UNFINISHED_STATES as readonly string[]).includes(patch.state) ? { lease_owner: null, lease_expires_at: null } : {}),
          updated_at: now(),
        })
        .where("id", "=", id)
        .where("lease_owner", "=", owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async cancelQueued(id) {
      const row = await db
        .updateTable("bot_jobs")
        .set({ state: "cancelled", lease_owner: null, lease_expires_at: null, updated_at: now() })
        .where("id", "=", id)
        .where("state", "=", "queued")
        .returningAll()
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async adopt(owner, adoptOptions = {}) {
      return db.transaction().execute(async (trx) => {
        const at = now();
        let candidates = trx.selectFrom("bot_jobs").selectAll().where("state", "in", UNFINISHED_STATES);
        candidates = adoptOptions.everyOtherOwner
          ? candidates.where((eb) => eb.or([eb("lease_owner", "is", null), eb("lease_owner", "<>", owner)]))
          : // Never from itself: a live process whose renewal came late still holds what it runs.
            candidates.where((eb) => eb.or([eb("lease_owner", "is", null), eb.and([eb("lease_expires_at", "<=", at), eb("lease_owner", "<>", owner)])]));
        if (store.dialect === "postgres") candidates = candidates.forUpdate().skipLocked();
        const rows = await candidates.orderBy("created_at").execute();
        if (rows.length === 0) return [];
        await trx
          .updateTable("bot_jobs")
          .set({ lease_owner: owner, lease_expires_at: leaseEnd(), updated_at: at })
          .where("id", "in", rows.map((row) => row.id))
          .execute();
        return rows.map(fromRow);
      });
    },
    async releaseLeases(owner, states = UNFINISHED_STATES) {
      const result = await db
        .updateTable("bot_jobs")
        .set({ lease_expires_at: now() })
        .where("lease_owner", "=", owner)
        .where("state", "in", states)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async queuePositions(kind) {
      const rows = await db.selectFrom("bot_jobs").select("id").where("kind", "=", kind).where("state", "=", "queued").orderBy("created_at").orderBy("id").execute();
      return new Map(rows.map((row, index) => [row.id, index + 1]));
    },
    async unfinishedJobOf(userId, kind) {
      const row = await db
        .selectFrom("bot_jobs")
        .selectAll()
        .where("user_id", "=", userId)
        .where("kind", "=", kind)
        .where("state", "in", ["queued", "running"])
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async countByState() {
      const rows = await db.selectFrom("bot_jobs").select(["state", (eb) => eb.fn.countAll<number>().as("count")]).groupBy("state").execute();
      const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>;
      for (const row of rows) if ((JOB_STATES as readonly string[]).includes(row.state)) counts[row.state as JobState] = Number(row.count);
      return counts;
    },
    async pruneFinished(keepMs) {
      const result = await db
        .deleteFrom("bot_jobs")
        .where("state", "not in", UNFINISHED_STATES)
        .where("updated_at", "<", now() - keepMs)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
