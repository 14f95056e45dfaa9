import { spawn } from "node:child_process";
import type { Logger } from "pino";
import { AudioToolError } from "./errors.js";

/** At most `max` tasks run at once; the rest wait in arrival order. Waiting honours an abort signal. */
export type Semaphore = {
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly waiting: number;
};

export function createSemaphore(max: number): Semaphore {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxConcurrent must be a positive integer, got ${max}`);
  let active = 0;
  const queue: Array<() => void> = [];

  const release = (): void => {
    const next = queue.shift();
    if (next === undefined) active--;
    else next(); // hand the slot over without letting `active` drop
  };

  const acquire = (signal: AbortSignal | undefined): Promise<void> => {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (active < max) {
      active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = queue.indexOf(grant);
        if (index !== -1) queue.splice(index, 1);
        reject(abortReason(signal));
      };
      const grant = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      queue.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  };

  return {
    async run(task, signal) {
      await acquire(signal);
      try {
        return await task();
      } finally {
        release();
      }
    },
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
  };
}

export function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException("This operation was aborted", "AbortError");
}

export type ToolName = "ffmpeg" | "ffprobe";

export type ToolRun = {
  tool: ToolName;
  binary: string;
  args: readonly string[];
  /** Written to the child's stdin, which is then closed. Without it stdin is /dev/null. */
  stdin?: Buffer | undefined;
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  /** The child is killed, and the run fails, if stdout grows past this. */
  maxOutputBytes: number;
  /** Sees stdout as it arrives (it is still collected), e.g. ffmpeg's segment list. */
  onStdout?: ((chunk: Buffer) => void) | undefined;
  logger: Logger;
};

export type ToolResult = {
  exitCode: number;
  stdout: Buffer;
  /** The end of stderr, capped at a few KiB; enough to classify a failure. */
  stderr: string;
  elapsedMs: number;
};

/** Bytes of stderr kept for error messages; ffmpeg's useful lines are the last ones. */
const STDERR_TAIL_CHARS = 8 * 1024;

/**
 * Runs ffmpeg or ffprobe once: no shell, arguments as an array, input through stdin, stdout
 * collected in memory. Resolves with the exit code (callers decide what a non-zero code means);
 * rejects with `AudioToolError` for `tool-missing`, `timeout` and an oversized output, and with
 * the signal's reason on abort. In every case the child has exited before the promise settles.
 */
export function runTool(run: ToolRun): Promise<ToolResult> {
  const { tool, binary, args, stdin, signal, timeoutMs, maxOutputBytes, logger, onStdout } = run;
  if (signal?.aborted) return Promise.reject(abortReason(signal));

  return new Promise<ToolResult>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(binary, args, {
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      windowsHide: true,
    });

    const chunks: Buffer[] = [];
    let outputBytes = 0;
    let stderrTail = "";
    /** Why we killed the child, if we did; decides how the run settles once it has exited. */
    let killedFor: { kind: "abort" } | { kind: "timeout" } | { kind: "output" } | undefined;
    let spawnError: NodeJS.ErrnoException | undefined;
    let settled = false;

    const kill = (why: NonNullable<typeof killedFor>): void => {
      if (killedFor !== undefined) return;
      killedFor = why;
      // SIGKILL: we want no trailer and no partial file, just the process gone.
      child.kill("SIGKILL");
    };
    const onAbort = (): void => kill({ kind: "abort" });
    const timer = setTimeout(() => kill({ kind: "timeout" }), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });

    child.stdout?.on("data", (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > maxOutputBytes) {
        kill({ kind: "output" });
        return;
      }
      chunks.push(chunk);
      onStdout?.(chunk);
    });
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
    });
    if (child.stdin !== null && stdin !== undefined) {
      // ffmpeg may exit before reading all of stdin (bad input, or we killed it): EPIPE is expected
      // then, and the exit code tells the story.
      child.stdin.on("error", () => {});
      child.stdin.end(stdin);
    }

    child.on("error", (error: NodeJS.ErrnoException) => {
      spawnError = error;
      // A failed spawn may not emit "close"; settle here too (the settled flag keeps it single).
      if (child.pid === undefined) finish(null);
    });
    child.on("close", (code) => finish(code));
    if (child.pid !== undefined) logger.debug({ tool, pid: child.pid, args }, "audio tool started");

    function finish(code: number | null): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      const elapsedMs = Math.round(performance.now() - started);
      const tail = lastLines(stderrTail);
      logger.debug({ tool, pid: child.pid, exitCode: code, killedFor: killedFor?.kind, elapsedMs }, "audio tool exited");

      if (spawnError !== undefined && child.pid === undefined) {
        const missing = spawnError.code === "ENOENT" || spawnError.code === "EACCES" || spawnError.code === "ENOTDIR";
        reject(
          new AudioToolError({
            reason: missing ? "tool-missing" : "failed",
            message: `${tool} could not be started from ${binary}: ${spawnError.code ?? spawnError.message}`,
            tool,
            cause: spawnError,
          }),
        );
        return;
      }
      if (killedFor?.kind === "abort") {
        reject(abortReason(signal));
        return;
      }
      if (killedFor?.kind === "timeout") {
        reject(new AudioToolError({ reason: "timeout", message: `${tool} ran longer than ${timeoutMs} ms and was killed`, tool, stderrTail: tail }));
        return;
      }
      if (killedFor?.kind === "output") {
        reject(
          new AudioToolError({ reason: "failed", message: `${tool} output grew past ${maxOutputBytes} bytes and was killed`, tool, stderrTail: tail }),
        );
        return;
      }
      resolve({ exitCode: code ?? -1, stdout: Buffer.concat(chunks), stderr: stderrTail, elapsedMs });
    }
  });
}

/** The last few non-empty stderr lines: enough for a log line to say what went wrong. */
export function lastLines(text: string, count = 6): string {
  return text
    .split(/\r?\n|\r/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== "")
    .slice(-count)
    .join("\n");
}
