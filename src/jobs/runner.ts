import { randomBytes } from "node:crypto";
import type { Logger } from "../log.js";
import { JOB_KINDS, type Job, type JobKind, type JobPatch, type JobStore } from "./job-store.js";
import type { JobProgress, ProgressBoard } from "./progress-board.js";

/** What a job's work may do while its process holds it. */
export type JobContext = {
  /** A child logger with the job id, kind and user (never the interaction token). */
  log: Logger;
  /** Changes the job; false when this process no longer holds it (it was adopted elsewhere). */
  update(patch: JobPatch): Promise<boolean>;
  progress(progress: JobProgress): void;
  /**
   * Stops the job's progress edits and waits for one under way, so that the edit that follows (the
   * result, or why there is none) is the last: a late progress edit would overwrite it.
   */
  endProgress(): Promise<void>;
  /** Aborted when the process gives up the job (shutdown past the grace period). */
  signal: AbortSignal;
};

/** The work of one kind of job. Each function ends the job (delivered, failed, interrupted…). */
export type JobKindWork = {
  /** How many run at once, across every process sharing the database. */
  concurrency: number;
  /** A queued job, claimed: make the paid call, record it, deliver. */
  run(job: Job, context: JobContext): Promise<void>;
  /** A billed job whose process died before delivering it: deliver from what was stored. */
  deliverBilled(job: Job, context: JobContext): Promise<void>;
  /** A job that was running (a paid call may have been in flight) when its process died. */
  interrupt(job: Job, context: JobContext, reason: "restart" | "shutdown"): Promise<void>;
};

/** What the runner tells a requester without a job's work: the job moved in or out of the queue. */
export type QueueNotices = {
  /** The process stops; the queued job keeps its place for the next start. */
  restarting(job: Job): Promise<void>;
};

export type JobRunner = {
  /** This process's lease owner id. */
  readonly owner: string;
  /** Shows a newly inserted job and tries to start work. */
  accepted(job: Job): void;
  /** Claims queued jobs up to each kind's concurrency. */
  pump(): Promise<void>;
  /** Adopts jobs of dead processes and recovers them. */
  sweep(): Promise<void>;
  /** Forgets a job that ended outside the runner (cancelled). */
  forget(jobId: string): Promise<void>;
  /** Jobs of this process under way. */
  readonly running: number;
  /**
   * Stops taking jobs; queued ones keep their place (their requesters are told); running ones get
   * `graceMs` to finish, then are interrupted. Returns how many had to be interrupted.
   */
  stop(graceMs: number): Promise<{ interrupted: number }>;
};

export function newLeaseOwner(): string {
  return `${process.pid}-${randomBytes(4).toString("hex")}`;
}

/**
 * Runs durable jobs: claims queued ones up to each kind's concurrency (shared by every process on
 * the database), renews this process's leases, adopts the jobs of processes that died, and shows
 * each job's progress through the board. Discord-free: the work and the notices come in.
 */
export function createJobRunner(options: {
  jobs: JobStore;
  owner: string;
  work: Record<JobKind, JobKindWork>;
  notices: QueueNotices;
  board: ProgressBoard;
  leaseMs: number;
  pollMs: number;
  /** SQLite: this process owns the queue, so at start every other lease holder is dead. */
  soleProcess: boolean;
  logger: Logger;
}): JobRunner {
  const { jobs, owner, work, board, logger } = options;
  const active = new Map<string, { job: Job; done: Promise<void>; abort: AbortController; interrupted: boolean }>();
  let stopping = false;
  let pumping: Promise<void> | undefined;
  let pumpAgain = false;

  const contextFor = (job: Job, abort: AbortController): JobContext => ({
    log: logger.child({ jobId: job.id, kind: job.kind, interactionId: job.interactionId, userId: job.userId, guildId: job.guildId }),
    update: (patch) => jobs.update(job.id, owner, patch),
    progress: (progress) => board.set(job, progress),
    endProgress: () => board.remove(job.id),
    signal: abort.signal,
  });

  /** Runs one step of a job's work in the background, and keeps going when it ends. */
  const launch = (job: Job, step: (context: JobContext) => Promise<void>) => {
    const abort = new AbortController();
    const context = contextFor(job, abort);
    const entry = { job, abort, interrupted: false, done: Promise.resolve() };
    entry.done = step(context)
      .catch((error: unknown) => context.log.error({ err: error }, "job work failed unexpectedly"))
      .finally(async () => {
        await board.remove(job.id);
        active.delete(job.id);
        if (!stopping) void runner.pump();
      });
    active.set(job.id, entry);
  };

  /**
   * Shows each queued job this process watches its current place (edited only when it changed),
   * and stops showing those that left the queue elsewhere (claimed by another process, cancelled).
   */
  const refreshPositions = async () => {
    if (queuedShown.size === 0) return;
    const stillQueued = new Set<string>();
    for (const kind of JOB_KINDS) {
      const positions = await jobs.queuePositions(kind);
      for (const [jobId, position] of positions) {
        stillQueued.add(jobId);
        queuedShown.get(jobId)?.(position);
      }
    }
    for (const jobId of [...queuedShown.keys()]) {
      if (stillQueued.has(jobId) || active.has(jobId)) continue;
      queuedShown.delete(jobId);
      await board.remove(jobId);
    }
  };
  /** Queued jobs this process shows, with a setter for their place. */
  const queuedShown = new Map<string, (position: number) => void>();
  const showQueued = (job: Job, requeued: boolean) => {
    queuedShown.set(job.id, (position) => board.set(job, { phase: "queued", position, requeued }));
  };

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, task: () => Promise<unknown>, what: string) => {
    const timer = setInterval(() => {
      if (stopping) return;
      task().catch((error: unknown) => logger.warn({ err: error }, `${what} failed`));
    }, ms);
    timer.unref?.();
    timers.push(timer);
  };

  const runner: JobRunner = {
    owner,
    accepted(job) {
      showQueued(job, false);
      void runner.pump();
    },
    pump() {
      if (stopping) return Promise.resolve();
      if (pumping) {
        pumpAgain = true;
        return pumping;
      }
      pumping = (async () => {
        do {
          pumpAgain = false;
          for (const kind of JOB_KINDS) {
            for (;;) {
              if (stopping) return;
              const job = await jobs.claimNext(kind, owner, work[kind].concurrency);
              if (!job) break;
              queuedShown.delete(job.id);
              board.set(job, { phase: "starting" });
              launch(job, (context) => work[kind].run(job, context));
            }
          }
          await refreshPositions();
        } while (pumpAgain && !stopping);
      })()
        .catch((error: unknown) => logger.error({ err: error }, "claiming jobs failed"))
        .finally(() => {
          pumping = undefined;
        });
      return pumping;
    },
    async sweep() {
      const adopted = await jobs.adopt(owner, { everyOtherOwner: options.soleProcess && !swept });
      swept = true;
      for (const job of adopted) {
        const log = logger.child({ jobId: job.id, kind: job.kind, previousOwner: job.leaseOwner });
        if (job.state === "queued") {
          log.info("took over a queued job of a stopped process");
          showQueued(job, true);
        } else if (job.state === "billed") {
          log.info("delivering a billed job of a stopped process");
          launch(job, (context) => work[job.kind].deliverBilled(job, context));
        } else {
          log.warn("a job was running when its process stopped: its outcome is unknown");
          launch(job, (context) => work[job.kind].interrupt(job, context, "restart"));
        }
      }
      if (adopted.length > 0) await runner.pump();
    },
    async forget(jobId) {
      queuedShown.delete(jobId);
      await board.remove(jobId);
    },
    get running() {
      return active.size;
    },
    async stop(graceMs) {
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      await pumping;
      // Queued jobs keep their place: say so, then let another process (or the next start) adopt them.
      const queued = [...queuedShown.keys()];
      queuedShown.clear();
      for (const jobId of queued) await board.remove(jobId);
      await Promise.allSettled(
        queued.map(async (jobId) => {
          const job = await jobs.get(jobId);
          if (job?.state === "queued" && job.leaseOwner === owner) await options.notices.restarting(job);
        }),
      );
      await jobs.releaseLeases(owner, ["queued"]);

      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
        timer.unref?.();
      });
      await Promise.race([Promise.allSettled([...active.values()].map((entry) => entry.done)), timedOut]);
      clearTimeout(timer);

      // What is still running now would be cut off by the exit: its call's outcome is unknown.
      const cutOff = [...active.values()];
      for (const entry of cutOff) entry.abort.abort(new Error("the bot is shutting down"));
      await Promise.allSettled(
        cutOff.map(async (entry) => {
          const job = await jobs.get(entry.job.id);
          if (!job || job.leaseOwner !== owner) return;
          const context = contextFor(job, new AbortController());
          if (job.state === "running") await work[job.kind].interrupt(job, context, "shutdown");
        }),
      );
      await jobs.releaseLeases(owner);
      await board.stop();
      return { interrupted: cutOff.length };
    },
  };
  let swept = false;

  every(options.pollMs, () => runner.pump(), "claiming queued jobs");
  every(Math.max(1000, Math.floor(options.leaseMs / 3)), () => jobs.renewLeases(owner), "renewing job leases");
  every(Math.max(1000, Math.floor(options.leaseMs / 2)), () => runner.sweep(), "adopting jobs of stopped processes");
  return runner;
}
