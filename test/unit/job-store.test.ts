import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createJobStore, type JobStore, type NewJob } from "../../src/jobs/job-store.js";
import { openUsageStore, type UsageStore } from "../../src/usage/index.js";
import { newSongJob } from "../job-fixtures.js";
import { dropSchema, TEST_POSTGRES_URL, warnPostgresSkipped, whyPostgresIsUnavailable } from "../postgres.js";

const pgSkipReason = await whyPostgresIsUnavailable();
if (pgSkipReason !== null) warnPostgresSkipped("job-store", pgSkipReason);

const LEASE_MS = 10_000;

function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return newSongJob({ userId: `2000000000000${Math.floor(Math.random() * 1e6)}`, interactionId: randomUUID(), ...overrides });
}

type Backend = { name: string; skip: boolean; open(clock: () => Date): Promise<UsageStore>; cleanup(): Promise<void> };

function sqliteBackend(): Backend {
  const dir = mkdtempSync(join(tmpdir(), "dashtune-jobs-"));
  const stores: UsageStore[] = [];
  return {
    name: "sqlite",
    skip: false,
    // One process owns an SQLite queue (its driver is synchronous: a second connection in the same
    // process would wait on the first while blocking it), so "two processes" share one store here.
    async open(clock) {
      const [existing] = stores;
      if (existing) return existing;
      const store = await openUsageStore({ target: { dialect: "sqlite", path: join(dir, "jobs.sqlite") }, now: clock });
      stores.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(stores.splice(0).map((store) => store.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  const schema = `jobs_${randomUUID().replace(/-/g, "")}`;
  const stores: UsageStore[] = [];
  return {
    name: "postgres",
    skip: pgSkipReason !== null,
    async open(clock) {
      // Each store has its own pool: two of them stand for two bot processes.
      const store = await openUsageStore({ target: { dialect: "postgres", connectionString: TEST_POSTGRES_URL }, schema, now: clock });
      stores.push(store);
      return store;
    },
    async cleanup() {
      await Promise.all(stores.splice(0).map((store) => store.close()));
      if (pgSkipReason === null) await dropSchema(schema);
    },
  };
}

for (const makeBackend of [sqliteBackend, postgresBackend]) {
  const probe = makeBackend();
  void probe.cleanup();
  describe.skipIf(probe.skip)(`durable jobs on ${probe.name}`, () => {
    let backend: Backend;
    let now = new Date("2026-12-01T12:00:00Z");
    const clock = () => now;
    const openJobs = async (): Promise<JobStore> => createJobStore(await (backend ??= makeBackend()).open(clock), { leaseMs: LEASE_MS });

    afterEach(async () => {
      await backend?.cleanup();
      backend = undefined as unknown as Backend;
      now = new Date("2026-12-01T12:00:00Z");
    });

    it("claims the oldest queued job first, and never more than the kind's concurrency at once", async () => {
      const jobs = await openJobs();
      const first = await jobs.insert(newJob(), "a");
      now = new Date(now.getTime() + 1);
      const second = await jobs.insert(newJob(), "a");
      const claimed = await jobs.claimNext("song", "a", 1);
      expect(claimed).toMatchObject({ id: first.id, state: "running", leaseOwner: "a", attempts: 1 });
      expect(await jobs.claimNext("song", "a", 1)).toBeUndefined();
      expect(await jobs.claimNext("analysis", "a", 1)).toBeUndefined();
      expect((await jobs.queuePositions("song")).get(second.id)).toBe(1);
    });

    it("holds the concurrency across processes: many claimers on two connections start exactly K jobs", async () => {
      const processA = await openJobs();
      const processB = await openJobs();
      for (let i = 0; i < 10; i++) await processA.insert(newJob(), "a");
      const claims = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? processA : processB).claimNext("song", i % 2 === 0 ? "a" : "b", 3)));
      const started = claims.filter((job) => job !== undefined);
      expect(started).toHaveLength(3);
      expect(new Set(started.map((job) => job?.id)).size).toBe(3);
      expect((await processA.countByState()).running).toBe(3);
    });

    it("refuses a second job for the same interaction", async () => {
      const jobs = await openJobs();
      const job = newJob();
      await jobs.insert(job, "a");
      await expect(jobs.insert(job, "a")).rejects.toThrow();
    });

    it("lets only the lease holder change a job, and ends the lease when the job ends", async () => {
      const jobs = await openJobs();
      const job = await jobs.insert(newJob(), "a");
      await jobs.claimNext("song", "a", 1);
      expect(await jobs.update(job.id, "b", { state: "billed" })).toBe(false);
      expect(await jobs.update(job.id, "a", { state: "billed", requestId: "req-1", result: { url: "https://x" } })).toBe(true);
      expect(await jobs.get(job.id)).toMatchObject({ state: "billed", requestId: "req-1", result: { url: "https://x" }, leaseOwner: "a" });
      expect(await jobs.update(job.id, "a", { state: "delivered" })).toBe(true);
      expect(await jobs.get(job.id)).toMatchObject({ state: "delivered", leaseOwner: null, leaseExpiresAt: null });
    });

    it("hands the jobs of a process whose lease ran out to a live one, once", async () => {
      const dead = await openJobs();
      const live = await openJobs();
      const queued = await dead.insert(newJob(), "dead");
      const running = await dead.insert(newJob(), "dead");
      await dead.claimNext("song", "dead", 5);
      expect(await live.adopt("live")).toEqual([]);

      now = new Date(now.getTime() + LEASE_MS + 1);
      const [adoptedByLive, adoptedAgain] = await Promise.all([live.adopt("live"), dead.adopt("other")]);
      const adopted = [...adoptedByLive, ...adoptedAgain];
      expect(adopted.map((job) => job.id).sort()).toEqual([queued.id, running.id].sort());
      // Returned as they were before adoption: the caller sees which were running.
      expect(adopted.map((job) => job.state).sort()).toEqual(["queued", "running"]);
      expect(await dead.update(running.id, "dead", { state: "delivered" })).toBe(false);
    });

    it("renews a live process's leases so that nobody adopts its jobs", async () => {
      const jobs = await openJobs();
      await jobs.insert(newJob(), "a");
      now = new Date(now.getTime() + LEASE_MS - 1);
      expect(await jobs.renewLeases("a")).toBe(1);
      now = new Date(now.getTime() + LEASE_MS - 1);
      expect(await jobs.adopt("b")).toEqual([]);
    });

    it("never adopts from itself: a live process whose renewal came late keeps what it runs", async () => {
      const jobs = await openJobs();
      const job = await jobs.insert(newJob(), "a");
      await jobs.claimNext("song", "a", 1);
      now = new Date(now.getTime() + LEASE_MS + 1);
      expect(await jobs.adopt("a")).toEqual([]);
      expect((await jobs.adopt("b")).map((adopted) => adopted.id)).toEqual([job.id]);
    });

    it("cancels only a job that is still queued", async () => {
      const jobs = await openJobs();
      const waiting = await jobs.insert(newJob(), "a");
      const running = await jobs.insert(newJob(), "a");
      now = new Date(now.getTime() + 1);
      await jobs.claimNext("song", "a", 1);
      const [claimedFirst] = [await jobs.get(waiting.id)];
      const target = claimedFirst?.state === "queued" ? waiting : running;
      const other = target === waiting ? running : waiting;
      expect(await jobs.cancelQueued(other.id)).toBeUndefined();
      expect(await jobs.cancelQueued(target.id)).toMatchObject({ state: "cancelled", leaseOwner: null });
      expect(await jobs.cancelQueued(target.id)).toBeUndefined();
    });

    it("counts a waiting or composing job as the user's one at a time, but not one being posted", async () => {
      const jobs = await openJobs();
      const job = await jobs.insert(newJob({ userId: "200000000000000777" }), "a");
      expect((await jobs.unfinishedJobOf("200000000000000777", "song"))?.id).toBe(job.id);
      await jobs.claimNext("song", "a", 1);
      expect((await jobs.unfinishedJobOf("200000000000000777", "song"))?.id).toBe(job.id);
      await jobs.update(job.id, "a", { state: "billed" });
      expect(await jobs.unfinishedJobOf("200000000000000777", "song")).toBeUndefined();
    });
  });
}
