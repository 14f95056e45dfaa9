import { describe, expect, it } from "vitest";
import { createJobQueue, JobRejectedError } from "../../src/jobs/job-queue.js";

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("job queue", () => {
  it("runs at most `concurrency` jobs at once and tells waiting jobs their position", async () => {
    const queue = createJobQueue({ concurrency: 1 });
    const first = deferred();
    const positions: number[] = [];
    const a = queue.run("alice", () => first.promise.then(() => "a"));
    const b = queue.run("bob", async () => "b", { onQueued: (position) => positions.push(position) });
    expect(queue.running).toBe(1);
    expect(queue.waiting).toBe(1);
    first.resolve();
    expect(await a).toBe("a");
    expect(await b).toBe("b");
    expect(positions[0]).toBe(1);
  });

  it("refuses a second job for the same owner while the first is under way", async () => {
    const queue = createJobQueue({ concurrency: 2 });
    const gate = deferred();
    const first = queue.run("alice", () => gate.promise);
    await expect(queue.run("alice", async () => 1)).rejects.toBeInstanceOf(JobRejectedError);
    gate.resolve();
    await first;
    await expect(queue.run("alice", async () => 2)).resolves.toBe(2);
  });

  it("frees the owner when a job fails", async () => {
    const queue = createJobQueue({ concurrency: 1 });
    await expect(queue.run("alice", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(queue.hasJob("alice")).toBe(false);
  });

  it("on shutdown refuses new jobs, drops waiting ones and waits for running ones", async () => {
    const queue = createJobQueue({ concurrency: 1 });
    const gate = deferred();
    const running = queue.run("alice", () => gate.promise.then(() => "done"));
    const waiting = queue.run("bob", async () => "never");
    const stopped = queue.shutdown(5_000);
    await expect(waiting).rejects.toMatchObject({ reason: "shutting-down" });
    await expect(queue.run("carol", async () => 1)).rejects.toMatchObject({ reason: "shutting-down" });
    gate.resolve();
    expect(await running).toBe("done");
    expect(await stopped).toEqual({ unfinished: 0 });
  });
});
