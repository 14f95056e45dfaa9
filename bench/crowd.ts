/**
 * What the crowd benchmarks share (ack-burst, song-memory, progress-edits): a burst of `/song`
 * from distinct members of the fake Discord's guild, and percentiles of a run's samples.
 */
import { ApplicationCommandOptionType } from "discord.js";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnBot, type BotProcess } from "../test/e2e/bot-process.js";
import { parsedLogs, sandboxEnv, startSandbox } from "../test/e2e/harness.js";
import { startFakeDashScope, type FakeDashScope, type FakeDashScopeOptions } from "../test/fakes/dashscope/index.js";
import { startFakeDiscord, type FakeDiscord, type InteractionHandle } from "../test/fakes/discord/index.js";

const benchDirectory = dirname(fileURLToPath(import.meta.url));

/**
 * Sends `/song` from `count` new members at once (every dispatch started before any is awaited),
 * each with its own prompt. Resolves when the fake has dispatched them all.
 */
export async function sendSongBurst(discord: FakeDiscord, count: number, options: { format?: "mp3" | "wav"; label?: string } = {}): Promise<InteractionHandle[]> {
  const label = options.label ?? "member";
  const users = Array.from({ length: count }, (_, i) => discord.createUser({ username: `${label}${i}` }));
  return Promise.all(
    users.map((user, i) =>
      discord.sendSlashCommand({
        name: "song",
        user,
        options: [
          { type: ApplicationCommandOptionType.String, name: "prompt", value: `calm piano number ${i}` },
          ...(options.format ? [{ type: ApplicationCommandOptionType.String, name: "format", value: options.format }] : []),
        ],
      }),
    ),
  );
}

/** Nearest-rank percentile of `values` (unsorted is fine); `NaN` for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

/** `p50 … / p95 … / p99 … / max …` of `values` in ms. */
export function formatPercentiles(values: readonly number[]): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return `p50 ${ms(percentile(values, 50))}, p95 ${ms(percentile(values, 95))}, p99 ${ms(percentile(values, 99))}, max ${ms(percentile(values, 100))}`;
}

/** Resolves once `done()` holds (checked every `everyMs`), or rejects after `timeoutMs` saying `what`. */
export async function waitUntil(done: () => boolean, what: string, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The real bot against the fakes, in this process or in a child process of its own. */
export type CrowdBot = {
  discord: FakeDiscord;
  dashscope: FakeDashScope;
  /** The bot's JSON log lines so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  /** The bot's process id (this process's when in-process). */
  pid: number;
  close(): Promise<void>;
};

/**
 * Starts the fakes and the bot. `child: true` runs `node --import tsx src/main.ts` with the sandbox's
 * environment (as `npm start` would, with the bot's own defaults: PROGRESS_INTERVAL_SECONDS,
 * PROGRESS_EDITS_PER_SECOND…), so the fakes' work and memory are not the bot's: in production
 * Discord is another machine. In-process is the e2e sandbox (`startBot`), with a 4 s heartbeat.
 */
export async function startCrowdBot(options: {
  child: boolean;
  dashscope: FakeDashScopeOptions;
  env?: Record<string, string>;
}): Promise<CrowdBot> {
  if (!options.child) {
    const sandbox = await startSandbox({ dashscope: options.dashscope, progressIntervalMs: 4_000, env: options.env ?? {} });
    await sandbox.discord.waitForReady();
    return { discord: sandbox.discord, dashscope: sandbox.dashscope, logs: () => parsedLogs(sandbox), pid: process.pid, close: () => sandbox.close() };
  }
  const discord = await startFakeDiscord();
  const dashscope = await startFakeDashScope({ overlongAudio: "refuse", ...options.dashscope });
  const dataDir = await mkdtemp(join(tmpdir(), "dashtune-bench-"));
  const env = sandboxEnv(discord, dashscope, join(dataDir, "ledger.sqlite"), options.env);
  const closeFakes = async () => {
    await Promise.allSettled([discord.close(), dashscope.close()]);
    await rm(dataDir, { recursive: true, force: true });
  };
  let bot: BotProcess;
  try {
    bot = await spawnBot(env, { readyTimeoutMs: 60_000 });
    await discord.waitForReady();
  } catch (error) {
    await closeFakes();
    throw error;
  }
  const pid = bot.child.pid;
  if (pid === undefined) throw new Error("the bot's child process has no pid");
  return {
    discord,
    dashscope,
    logs: () => bot.logs,
    pid,
    async close() {
      // A bot still composing may take its shutdown grace; past 15 s it is killed.
      const killer = setTimeout(() => bot.child.kill("SIGKILL"), 15_000);
      await bot.kill("SIGTERM");
      clearTimeout(killer);
      await closeFakes();
    },
  };
}

/**
 * Runs `bench/<file>` in a child process with `env` (and only PATH and HOME besides), resolving
 * once it prints a line equal to `readyLine`. `stop()` sends SIGTERM and waits for the exit.
 */
export async function spawnBenchChild(file: string, args: string[], env: Record<string, string>, readyLine: string): Promise<{ stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(benchDirectory, file), ...args], {
    cwd: join(benchDirectory, ".."),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
      if (output.split("\n").includes(readyLine)) resolve();
    });
    void exited.then(() => reject(new Error(`${file} exited before printing "${readyLine}"`)));
  });
  return {
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
