import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { GeneratedSong } from "../../src/dashscope/music-types.js";
import { createJobStore, type Job, type JobKind, type JobStore } from "../../src/jobs/job-store.js";
import { createProgressBoard, editingOnlyWhileQueued, type ProgressBoard } from "../../src/jobs/progress-board.js";
import { createJobRunner, newLeaseOwner, type JobKindWork, type JobRunner } from "../../src/jobs/runner.js";
import { createSongJobWork, type SongReplies } from "../../src/jobs/song-job.js";
import { createLogger } from "../../src/log.js";
import type { Metering } from "../../src/usage/metering.js";
import { openUsageStore } from "../../src/usage/index.js";
import { newSongJob } from "../job-fixtures.js";

/**
 * A job's last edit (the song, or why there is none) must stay the last thing its reply shows.
 * Progress edits are sent by the board on its own clock; one still under way when the job ends
 * would land after the final edit and overwrite it (seen on a loaded machine: a delivered song's
 * message turned back into "Preparing the file…"). The progress edits here take 60 ms, and each job
 * ends while one is under way (it waits for the edit to start).
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const silent = createLogger({ level: "silent", secrets: [] });

const song: GeneratedSong = {
  audio: Buffer.from("ID3 not really a song"),
  format: "mp3",
  url: "https://example.invalid/song.mp3",
  expiresAt: undefined,
  audioId: "audio-1",
  lyrics: "[verse]\nla la",
  channels: 2,
  sampleRate: 44_100,
  billedSeconds: 8,
  requestId: "request-1",
  mode: "non-streaming",
};

const metering: Metering = {
  reserve: () => Promise.resolve("reservation"),
  record: (call) => Promise.resolve(call.requestId),
  settle: () => Promise.resolve(),
  release: () => Promise.resolve(),
  delivered: () => Promise.resolve(),
};

const noAnalyses: JobKindWork = {
  concurrency: 1,
  run: () => Promise.reject(new Error("no analyses here")),
  deliverBilled: () => Promise.reject(new Error("no analyses here")),
  interrupt: () => Promise.reject(new Error("no analyses here")),
};

/** A job store on its own SQLite file, and how to close and remove it. */
async function openJobStore(): Promise<{ jobs: JobStore; close(): Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), "dashtune-jobs-"));
  const store = await openUsageStore({ target: { dialect: "sqlite", path: join(directory, "jobs.sqlite") } });
  return {
    jobs: createJobStore(store, { leaseMs: 10_000 }),
    async close() {
      await store.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

describe("a job's final edit is its reply's last", () => {
  let opened: Awaited<ReturnType<typeof openJobStore>>;
  let jobs: JobStore;
  let board: ProgressBoard;
  let runner: JobRunner | undefined;
  /** What the requester's reply shows, edit by edit, as each edit lands. */
  let shown: string[];
  /** Resolves when a progress edit of that phase has started (and is not yet shown). */
  let editStarted: (phase: string) => Promise<void>;

  beforeEach(async () => {
    opened = await openJobStore();
    jobs = opened.jobs;
    shown = [];
    const started: string[] = [];
    editStarted = async (phase) => {
      while (!started.includes(phase)) await sleep(1);
    };
    board = createProgressBoard({
      edit: async (_job, progress) => {
        started.push(progress.phase);
        await sleep(60);
        shown.push(`progress: ${progress.phase}`);
      },
      tickMs: 5,
      heartbeatMs: 10_000,
      editsPerSecond: 1_000,
      onError: () => undefined,
    });
  });

  afterEach(async () => {
    await runner?.stop(1_000);
    runner = undefined;
    await board.stop();
    await opened.close();
  });

  async function runSong(options: { generate: () => Promise<GeneratedSong>; replies: SongReplies }): Promise<Job> {
    const work: Record<JobKind, JobKindWork> = {
      song: createSongJobWork({
        generateSong: () => options.generate(),
        downloadAudio: () => Promise.reject(new Error("not used")),
        metering,
        replies: options.replies,
        model: "fun-music",
        concurrency: 1,
        timeoutMs: 10_000,
      }),
      analysis: noAnalyses,
    };
    const owner = newLeaseOwner();
    runner = createJobRunner({ jobs, owner, work, notices: { restarting: () => Promise.resolve() }, board, leaseMs: 10_000, pollMs: 60_000, soleProcess: true, logger: silent });
    const job = await jobs.insert(newSongJob({ replyMessageId: null }), owner);
    runner.accepted(job);
    await vi.waitFor(async () => expect(["delivered", "failed", "interrupted"]).toContain((await jobs.get(job.id))?.state), { timeout: 5_000, interval: 10 });
    // Long enough for any progress edit still under way to land.
    await sleep(150);
    return job;
  }

  it("shows the song last: progress ends before the edit that shows it", async () => {
    await runSong({
      generate: async () => song,
      replies: {
        async deliver(_job, _input, _song, _log, endProgress) {
          // The file is prepared (a re-encode) while "Preparing the file…" is being shown.
          await editStarted("finishing");
          await endProgress();
          shown.push("song");
          return { bytesDelivered: 1 };
        },
        ended: () => Promise.reject(new Error("the song was made")),
      },
    });
    expect(shown.at(-1)).toBe("song");
    expect(shown).toContain("progress: finishing");
  });

  it("shows why there is no song last, when the call fails while a progress edit is under way", async () => {
    await runSong({
      generate: async () => {
        await editStarted("composing");
        throw new Error("the model refused");
      },
      replies: {
        deliver: () => Promise.reject(new Error("there is no song")),
        async ended() {
          shown.push("ended");
        },
      },
    });
    expect(shown.at(-1)).toBe("ended");
    expect(shown).toContain("progress: composing");
  });
});

describe("a queued job's place, shown by the process that accepted it", () => {
  let opened: Awaited<ReturnType<typeof openJobStore>>;
  let jobs: JobStore;

  beforeEach(async () => {
    opened = await openJobStore();
    jobs = opened.jobs;
  });

  afterEach(async () => {
    await opened.close();
  });

  it("is not edited in once another process has claimed the job (it would overwrite that process's message)", async () => {
    const edits: string[] = [];
    const edit = editingOnlyWhileQueued(jobs, async (job, progress) => void edits.push(`${job.id}: ${progress.phase}`));
    const accepted = await jobs.insert(newSongJob(), "process-a");
    const place = { phase: "queued", position: 1, requeued: false } as const;

    await edit(accepted, place, 0);
    const claimed = await jobs.claimNext("song", "process-b", 1);
    expect(claimed?.id).toBe(accepted.id);
    // Process A still holds the job as it was when it showed it.
    await edit(accepted, place, 1_000);
    // The claiming process's own progress goes on.
    await edit(accepted, { phase: "composing", audioSeconds: undefined }, 1_000);
    expect(edits).toEqual([`${accepted.id}: queued`, `${accepted.id}: composing`]);
  });
});
