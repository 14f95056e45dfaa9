import { afterEach, describe, expect, it, vi } from "vitest";
import { formatElapsed, startProgressReporter } from "../../src/discord/progress.js";

afterEach(() => vi.useRealTimers());

describe("progress reporter", () => {
  it("edits at most once per interval and skips unchanged text", async () => {
    vi.useFakeTimers();
    const edits: string[] = [];
    let text = "a";
    const reporter = startProgressReporter({ render: () => text, edit: async (t) => void edits.push(t), intervalMs: 1000 });
    await vi.advanceTimersByTimeAsync(999);
    expect(edits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(3000);
    expect(edits).toEqual(["a"]);
    text = "b";
    await vi.advanceTimersByTimeAsync(1000);
    expect(edits).toEqual(["a", "b"]);
    await reporter.stop();
  });

  it("stop waits for an edit under way so the final message is never overwritten", async () => {
    vi.useFakeTimers();
    let finishEdit!: () => void;
    let editDone = false;
    const reporter = startProgressReporter({
      render: () => "x",
      edit: () => new Promise<void>((resolve) => (finishEdit = () => ((editDone = true), resolve()))),
      intervalMs: 10,
    });
    await vi.advanceTimersByTimeAsync(10);
    const stopped = reporter.stop();
    let stopResolved = false;
    void stopped.then(() => (stopResolved = true));
    await vi.advanceTimersByTimeAsync(50);
    expect(stopResolved).toBe(false);
    finishEdit();
    await stopped;
    expect(editDone).toBe(true);
  });

  it("formats elapsed time as m:ss", () => {
    expect(formatElapsed(0)).toBe("0:00");
    expect(formatElapsed(65_400)).toBe("1:05");
  });
});
