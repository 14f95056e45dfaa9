import type { Job, JobStore } from "./job-store.js";

/** What a waiting or working job shows its requester. */
export type JobProgress =
  | { phase: "queued"; position: number; requeued: boolean }
  /** The bot is shutting down; the job keeps its place for the next start. */
  | { phase: "restarting" }
  | { phase: "starting" }
  /** A song being composed; `audioSeconds` once a stream is under way. */
  | { phase: "composing"; audioSeconds: number | undefined }
  | { phase: "finishing" }
  | { phase: "preparing" }
  | { phase: "listening"; text: string }
  | { phase: "pieces"; done: number; total: number };

export type ProgressEditor = (job: Job, progress: JobProgress, elapsedMs: number) => Promise<void>;

/**
 * A queued job's place is shown by the process that accepted it, but any process may claim the
 * job, and may even finish it, before that process's next look at the queue (at most a second). A
 * place edited in after that would overwrite the other process's message, even its last one; so a
 * queued job's edit first checks that the job is still queued.
 */
export function editingOnlyWhileQueued(jobs: Pick<JobStore, "get">, edit: ProgressEditor): ProgressEditor {
  return async (job, progress, elapsedMs) => {
    if (progress.phase === "queued" || progress.phase === "restarting") {
      const current = await jobs.get(job.id);
      if (current?.state !== "queued") return;
    }
    await edit(job, progress, elapsedMs);
  };
}

export type ProgressBoard = {
  /** Sets what a job shows; edited on the next tick when it changed. */
  set(job: Job, progress: JobProgress): void;
  /** Stops showing a job, and waits for its edit under way so the caller's next edit is the last. */
  remove(jobId: string): Promise<void>;
  /** Jobs on the board. */
  readonly size: number;
  stop(): Promise<void>;
};

type Entry = { job: Job; progress: JobProgress; key: string; shownKey: string | undefined; shownAt: number; inFlight: Promise<void> | undefined; since: number };

/**
 * Progress edits for every job a process shows, within one budget: Discord rate-limits edits
 * (discord.js queues past 50 requests/s for the whole bot), and final deliveries must not wait
 * behind progress. A job's message is edited when what it shows changed (a new place in the
 * queue, a new phase, more audio), and otherwise at most every `heartbeatMs` so that elapsed time
 * moves; never more than `editsPerSecond` edits in all, the longest-unchanged first.
 */
export function createProgressBoard(options: {
  edit: ProgressEditor;
  tickMs: number;
  heartbeatMs: number;
  editsPerSecond: number;
  onError: (job: Job, error: unknown) => void;
  now?: () => number;
}): ProgressBoard {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const perTick = Math.max(1, Math.floor((options.editsPerSecond * options.tickMs) / 1000));

  const tick = () => {
    const at = now();
    const due = [...entries.values()]
      .filter((entry) => !entry.inFlight && (entry.key !== entry.shownKey || at - entry.shownAt >= options.heartbeatMs))
      // Changes first, then whoever has waited longest for an edit.
      .sort((a, b) => Number(b.key !== b.shownKey) - Number(a.key !== a.shownKey) || a.shownAt - b.shownAt)
      .slice(0, perTick);
    for (const entry of due) {
      entry.shownKey = entry.key;
      entry.shownAt = at;
      entry.inFlight = options
        .edit(entry.job, entry.progress, at - entry.since)
        .catch((error: unknown) => options.onError(entry.job, error))
        .finally(() => {
          entry.inFlight = undefined;
        });
    }
  };
  const timer = setInterval(tick, options.tickMs);
  timer.unref?.();

  return {
    set(job, progress) {
      const existing = entries.get(job.id);
      const key = JSON.stringify(progress);
      if (existing) {
        existing.job = job;
        existing.progress = progress;
        existing.key = key;
        return;
      }
      entries.set(job.id, { job, progress, key, shownKey: undefined, shownAt: 0, inFlight: undefined, since: job.createdAt.getTime() });
    },
    async remove(jobId) {
      const entry = entries.get(jobId);
      entries.delete(jobId);
      await entry?.inFlight;
    },
    get size() {
      return entries.size;
    },
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...entries.values()].map((entry) => entry.inFlight));
    },
  };
}
