import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { TEST_POSTGRES_URL } from "../postgres.js";

/**
 * `SHARD_COUNT=N` end to end: `node --import tsx src/main.ts` becomes a discord.js ShardingManager
 * whose shard processes each run the whole bot, against fakes running in the test process, on one
 * PostgreSQL database made for the test.
 */

const ENTRY = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Starting a tsx process per shard on a busy 2-core machine takes a while; a ceiling, not an expectation. */
export const SHARD_START_MS = 120_000;

/** A snowflake on a chosen shard of 2: its timestamp part's parity is the shard. */
export function guildIdOnShard(shard: 0 | 1, n: number): string {
  return (((300_000_000_000n + BigInt(2 * n + shard)) << 22n) | 5n).toString();
}

export type LogLine = Record<string, unknown> & { msg?: string; shard?: number; pid?: number };

export type LogCollector = { lines: LogLine[]; waitFor(predicate: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine> };

/** The manager's stdout, which its shard processes share (they inherit it), as parsed pino lines. */
export function collectLogs(child: ChildProcess): LogCollector {
  const lines: LogLine[] = [];
  const events = new EventEmitter();
  let partial = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    partial += chunk.toString("utf8");
    const complete = partial.split("\n");
    partial = complete.pop() ?? "";
    for (const text of complete) {
      try {
        lines.push(JSON.parse(text) as LogLine);
        events.emit("line");
      } catch {
        // Not a log line (e.g. a tsx warning); stderr carries the rest.
      }
    }
  });
  return {
    lines,
    waitFor(predicate, what, timeoutMs = SHARD_START_MS) {
      const found = lines.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          events.off("line", check);
          reject(new Error(`timed out waiting for a log line: ${what}; last lines:\n${lines.slice(-15).map((l) => JSON.stringify(l)).join("\n")}`));
        }, timeoutMs);
        const check = () => {
          const line = lines.find(predicate);
          if (!line) return;
          clearTimeout(timer);
          events.off("line", check);
          resolve(line);
        };
        events.on("line", check);
      });
    },
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A database of its own for one test file, dropped by `drop`. */
export async function createTestDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

export type ShardManagerProcess = {
  child: ChildProcess;
  logs: LogCollector;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
};

/** Starts the bot's entry as a shard manager with only the given environment (nothing from the shell or a .env). */
export function spawnShardManager(env: Record<string, string>): ShardManagerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return {
    child,
    logs: collectLogs(child),
    stderr: () => stderr,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
