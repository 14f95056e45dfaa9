/**
 * Startup time: how long a command (default `npm start`) takes from launch until the bot logs
 * "connected to Discord", against the local fake Discord and fake DashScope.
 *
 *   npx tsx bench/startup.ts [--runs 5] [--command "npm start"] [--warm]
 *
 * --warm: run the command once first and don't count it (a first `npm start` after a change
 * compiles; the figure that matters is the start once built).
 * Prints each run, the median and the spread, and the load average: the machine is shared, so the
 * figures are comparable only with others taken in the same conditions.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { startFakeDashScope } from "../test/fakes/dashscope/index.js";
import { startFakeDiscord } from "../test/fakes/discord/index.js";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    command: { type: "string", default: "npm start" },
    warm: { type: "boolean", default: false },
  },
});

const READY_LINE = "connected to Discord";

async function timeOneStart(command: string, env: Record<string, string>): Promise<number> {
  const started = performance.now();
  const child = spawn(command, { shell: true, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  try {
    return await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${READY_LINE}" within 120 s:\n${output.slice(-2000)}`)), 120_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(READY_LINE)) {
          clearTimeout(timer);
          resolve(performance.now() - started);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before "${READY_LINE}":\n${output.slice(-2000)}`));
      });
    });
  } finally {
    // The whole process group: `npm start` runs node as a child of a shell.
    if (child.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid, "SIGTERM");
      await exited;
    }
  }
}

async function main(): Promise<void> {
  const [discord, dashscope] = await Promise.all([startFakeDiscord(), startFakeDashScope()]);
  const dataDir = await mkdtemp(join(tmpdir(), "dashtune-startup-bench-"));
  const env = {
    DISCORD_TOKEN: discord.token,
    DISCORD_API_URL: discord.restUrl,
    DASHSCOPE_API_KEY: dashscope.apiKey,
    DASHSCOPE_HTTP_BASE_URL: dashscope.baseUrl,
    DATABASE_URL: `sqlite:${join(dataDir, "ledger.sqlite")}`,
    DEV_GUILD_ID: discord.guilds[0]?.id ?? "",
    LOG_FORMAT: "json",
  };
  try {
    if (args.warm) await timeOneStart(args.command, env);
    const times: number[] = [];
    for (let run = 1; run <= Number(args.runs); run++) {
      const ms = await timeOneStart(args.command, env);
      times.push(ms);
      process.stdout.write(`  run ${run}: ${(ms / 1000).toFixed(2)} s\n`);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    process.stdout.write(
      `startup "${args.command}" to "${READY_LINE}": median ${(median / 1000).toFixed(2)} s, ` +
        `min ${((sorted[0] ?? 0) / 1000).toFixed(2)} s, max ${((sorted.at(-1) ?? 0) / 1000).toFixed(2)} s over ${times.length} runs; ` +
        `load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} on ${availableParallelism()} cores\n`,
    );
  } finally {
    await Promise.allSettled([discord.close(), dashscope.close()]);
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`startup benchmark failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
