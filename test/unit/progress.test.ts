import { afterEach, describe, expect, it, vi } from "vitest";
import { formatElapsed } from "../../src/discord/progress.js";
import type { Job } from "../../src/jobs/job-store.js";
import { createProgressBoard, type JobProgress } from "../../src/jobs/progress-board.js";

afterEach(() => vi.useRealTimers());

const jobNamed = (id: string) => ({ id, createdAt: new Date(0) }) as Job;
const queued = (position: number): JobProgress => ({ phase: "queued", position, requeued: false });

describe("the progress board", () => {
  it("edits a reply when what it shows changes, otherwise only at the heartbeat", async () => {
    vi.useFakeTimers();
    const edits: string[] = [];
    const board = createProgressBoard({
      edit: async (job, progress) => void edits.push(`${job.id}:${JSON.stringify(progress)}`),
      tickMs: 1000,
      heartbeatMs: 5000,
      editsPerSecond: 10,
      onError: () => {},
      now: () => Date.now(),
    });
    board.set(jobNamed("a"), queued(2));
    await vi.advanceTimersByTimeAsync(1000);
    expect(edits).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(edits).toHaveLength(1);
    board.set(jobNamed("a"), queued(1));
    await vi.advanceTimersByTimeAsync(1000);
    expect(edits).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(5000);
    expect(edits).toHaveLength(3);
    await board.stop();
  });

  it("keeps all edits within its budget, changes first", async () => {
    vi.useFakeTimers();
    const edited: string[] = [];
    const board = createProgressBoard({
      edit: async (job) => void edited.push(job.id),
      tickMs: 1000,
      heartbeatMs: 60_000,
      editsPerSecond: 2,
      onError: () => {},
      now: () => Date.now(),
    });
    for (const id of ["a", "b", "c", "d"]) board.set(jobNamed(id), queued(1));
    await vi.advanceTimersByTimeAsync(1000);
    expect(edited).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(new Set(edited)).toEqual(new Set(["a", "b", "c", "d"]));
    await board.stop();
  });

  it("waits, when a job leaves it, for that job's edit under way, so the final message is never overwritten", async () => {
    vi.useFakeTimers();
    let finishEdit!: () => void;
    let editDone = false;
    const board = createProgressBoard({
      edit: () => new Promise<void>((resolve) => (finishEdit = () => ((editDone = true), resolve()))),
      tickMs: 10,
      heartbeatMs: 1000,
      editsPerSecond: 100,
      onError: () => {},
      now: () => Date.now(),
    });
    board.set(jobNamed("a"), queued(1));
    await vi.advanceTimersByTimeAsync(10);
    const removed = board.remove("a");
    let removeResolved = false;
    void removed.then(() => (removeResolved = true));
    await vi.advanceTimersByTimeAsync(50);
    expect(removeResolved).toBe(false);
    finishEdit();
    await removed;
    expect(editDone).toBe(true);
    await board.stop();
  });

  it("formats elapsed time as m:ss", () => {
    expect(formatElapsed(0)).toBe("0:00");
    expect(formatElapsed(65_400)).toBe("1:05");
  });
});
