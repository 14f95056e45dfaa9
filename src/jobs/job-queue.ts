/**
 * Runs long jobs (song generations) with a bound on how many run at once and at most one job per
 * owner (a user), so one person can't queue a server's whole DashScope budget at once.
 */

export class JobRejectedError extends Error {
  override readonly name = "JobRejectedError";
  constructor(readonly reason: "owner-busy" | "shutting-down") {
    super(reason === "owner-busy" ? "this owner already has a job queued or running" : "the queue is shutting down");
  }
}

export type JobQueue = {
  /**
   * Runs `work` when a slot frees up. `onQueued` is told the 1-based position while it waits.
   * Rejects with JobRejectedError when the owner already has a job, or when shutting down.
   */
  run<T>(ownerKey: string, work: () => Promise<T>, hooks?: { onQueued?: (position: number) => void }): Promise<T>;
  hasJob(ownerKey: string): boolean;
  readonly running: number;
  readonly waiting: number;
  /** Refuse new jobs, drop waiting ones, and wait (up to `timeoutMs`) for running ones to end. */
  shutdown(timeoutMs: number): Promise<{ unfinished: number }>;
};

type Waiter = { ownerKey: string; start: () => void; reject: (error: Error) => void; onQueued?: ((position: number) => void) | undefined };

export function createJobQueue(options: { concurrency: number }): JobQueue {
  const owners = new Set<string>();
  const waiting: Waiter[] = [];
  const runningJobs = new Set<Promise<unknown>>();
  let closing = false;

  const announcePositions = () => waiting.forEach((waiter, index) => waiter.onQueued?.(index + 1));

  const startNext = () => {
    while (runningJobs.size < options.concurrency && waiting.length > 0) {
      waiting.shift()?.start();
    }
    announcePositions();
  };

  return {
    run(ownerKey, work, hooks) {
      if (closing) return Promise.reject(new JobRejectedError("shutting-down"));
      if (owners.has(ownerKey)) return Promise.reject(new JobRejectedError("owner-busy"));
      owners.add(ownerKey);
      return new Promise((resolve, reject) => {
        const start = () => {
          // The owner is freed before the caller resumes, so it can start its next job at once.
          const finish = () => {
            runningJobs.delete(job);
            owners.delete(ownerKey);
            startNext();
          };
          const job: Promise<void> = work().then(
            (value) => {
              finish();
              resolve(value);
            },
            (error: unknown) => {
              finish();
              reject(error);
            },
          );
          runningJobs.add(job);
        };
        const rejectWaiter = (error: Error) => {
          owners.delete(ownerKey);
          reject(error);
        };
        if (runningJobs.size < options.concurrency) {
          start();
        } else {
          waiting.push({ ownerKey, start, reject: rejectWaiter, onQueued: hooks?.onQueued });
          hooks?.onQueued?.(waiting.length);
        }
      });
    },
    hasJob: (ownerKey) => owners.has(ownerKey),
    get running() {
      return runningJobs.size;
    },
    get waiting() {
      return waiting.length;
    },
    async shutdown(timeoutMs) {
      closing = true;
      for (const waiter of waiting.splice(0)) waiter.reject(new JobRejectedError("shutting-down"));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref?.();
      });
      await Promise.race([Promise.allSettled([...runningJobs]), timedOut]);
      clearTimeout(timer);
      return { unfinished: runningJobs.size };
    },
  };
}
