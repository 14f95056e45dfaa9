import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export type BotProcess = {
  readonly child: ChildProcess;
  /** Every JSON log line the process wrote, parsed. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves when a log line matches (rejects after `timeoutMs`). */
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends the signal and waits for the process to end; returns its exit code (null when killed). */
  kill(signal: NodeJS.Signals): Promise<number | null>;
};

/**
 * Runs the real bot (`src/main.ts`, as `npm start` runs the built file) in a child process with the
 * given environment, so a test can kill it the way a crash or an out-of-memory kill would.
 */
export async function spawnBot(env: Record<string, string>, options: { readyTimeoutMs?: number } = {}): Promise<BotProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_FORMAT: "json", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Array<Record<string, unknown>> = [];
  const listeners = new Set<() => void>();
  let buffered = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log line (a warning printed by Node, say).
      }
    }
    for (const listener of listeners) listener();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const waitForLog: BotProcess["waitForLog"] = (predicate, timeoutMs = 20_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = logs.find(predicate);
        if (!found) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`bot process: no matching log line within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      const onExit = () => {
        if (check()) return;
        cleanup();
        reject(new Error(`bot process exited before a matching log line; stderr: ${stderr.slice(-2000)}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        listeners.delete(listener);
        child.off("exit", onExit);
      };
      const listener = () => void check();
      listeners.add(listener);
      child.once("exit", onExit);
      check();
    });

  await waitForLog((line) => line.msg === "commands registered", options.readyTimeoutMs ?? 30_000);
  return {
    child,
    logs,
    waitForLog,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
