import type { ChildProcess } from "node:child_process";
import { REST, Routes, ShardingManager, Status, type APIGatewayBotInfo, type Client, type Shard } from "discord.js";
import type { Kysely } from "kysely";
import type { Config } from "./config.js";
import { discordRestOptions } from "./discord/rest-options.js";
import { databaseCheck, runHealthChecks, type HealthCheck } from "./http/health.js";
import type { Metrics } from "./http/metrics.js";
import { startHttpServer, type RunningHttpServer } from "./http/server.js";
import { answerIpcQuestions, createIpcAsker, type IpcAsker, type IpcPeer } from "./http/shard-ipc.js";
import { createShardedEndpoints, type AskEveryShard } from "./http/sharded.js";
import type { Logger } from "./log.js";

/**
 * Sharding with `SHARD_COUNT`: a discord.js ShardingManager starts one bot process per shard, each
 * running the whole bot (`startBot`) on the shared PostgreSQL database; discord.js hands each child
 * its shard through the environment (SHARDS, SHARD_COUNT), which its Client reads.
 *
 * With HTTP_PORT set, the manager alone listens: its `/healthz` and `/metrics` ask every shard
 * process over discord.js's IPC channel (src/http/shard-ipc.ts), and each shard answers with
 * `answerManagerQuestions` instead of a listener of its own.
 */

/** What this process is: the whole bot alone, the manager of shard processes, or one of those shards. */
export type ProcessRole = { kind: "single" } | { kind: "manager"; shardCount: number | "auto" } | { kind: "shard"; shardId: number };

/**
 * Decides the role from the config and the variables a ShardingManager sets in its children
 * (SHARDING_MANAGER, SHARDS); a shard child never starts a manager of its own.
 */
export function processRole(config: Pick<Config, "shardCount">, env: Record<string, string | undefined>): ProcessRole {
  if (env.SHARDING_MANAGER === "true" && env.SHARDS !== undefined) return { kind: "shard", shardId: Number(env.SHARDS) };
  return config.shardCount === 1 ? { kind: "single" } : { kind: "manager", shardCount: config.shardCount };
}

/**
 * True for the one process that registers commands: an unsharded client, or the one running shard 0.
 * Every shard runs `startBot`, and one bulk overwrite is all Discord needs.
 */
export function registersCommands(client: Client): boolean {
  return client.shard === null || client.shard.ids.includes(0);
}

/** Discord's advice for starting shards, from GET /gateway/bot. */
export type GatewayBotAdvice = { recommendedShards: number; maxConcurrency: number };

/**
 * Asks GET /gateway/bot on the configured API. discord.js's own `fetchRecommendedShardCount`
 * always asks discord.com, which would bypass DISCORD_API_URL (a proxy, or the fake in tests).
 */
export async function fetchGatewayBotAdvice(config: Pick<Config, "discordToken" | "discordApiUrl">): Promise<GatewayBotAdvice> {
  const rest = new REST(discordRestOptions(config.discordApiUrl)).setToken(config.discordToken);
  const info = (await rest.get(Routes.gatewayBot())) as APIGatewayBotInfo;
  return { recommendedShards: info.shards, maxConcurrency: info.session_start_limit.max_concurrency };
}

/** Gap between starting two shards of one rate-limit bucket: Discord allows one IDENTIFY per 5 s there. */
const SAME_BUCKET_SPAWN_DELAY_MS = 5500;
/** How long one shard may take from fork to READY (migrations, ffmpeg lookup, login). */
const SHARD_READY_TIMEOUT_MS = 120_000;
/** After a shard's own grace period, how much longer the manager waits before it kills the process. */
const KILL_MARGIN_MS = 15_000;

export type ShardProcesses = {
  readonly shardCount: number;
  /** The one health and metrics listener for every shard, when HTTP_PORT is set. */
  readonly http: RunningHttpServer | undefined;
  /**
   * Resolves once every shard is ready. If one cannot become ready at the first start, every shard
   * is stopped and it rejects: a shard that fails at boot would fail the same way in a respawn loop.
   */
  readonly ready: Promise<void>;
  /** Stops respawning, sends SIGTERM to every shard process and waits until all have exited; closes the listener. */
  stop(graceMs: number): Promise<void>;
};

/**
 * Creates the ShardingManager and starts the shard processes one after another (see `ready`); it
 * resolves as soon as they are on their way, so a stop signal can be handled during the start. A
 * shard process that dies later is respawned by discord.js (`respawn: true`).
 */
export async function startShardProcesses(options: {
  config: Pick<Config, "discordToken" | "discordApiUrl" | "shardCount" | "http">;
  logger: Logger;
  /** The bot's entry file: dist/src/main.js when built, src/main.ts under tsx. */
  entryFile: string;
  /** Node flags for each shard process, e.g. `["--import", "tsx"]` to run the .ts entry. */
  execArgv: string[];
  /** Grace period each shard gets to finish its work on stop. */
  graceMs: number;
}): Promise<ShardProcesses> {
  const { config, logger } = options;
  const advice = await fetchGatewayBotAdvice(config);
  const shardCount = config.shardCount === "auto" ? advice.recommendedShards : config.shardCount;
  logger.info({ shardCount, recommended: advice.recommendedShards, maxConcurrency: advice.maxConcurrency }, "starting shard processes");

  const manager = new ShardingManager(options.entryFile, {
    totalShards: shardCount,
    token: config.discordToken,
    respawn: true,
    mode: "process",
    execArgv: options.execArgv,
  });
  let stopping = false;
  const askers = new Map<number, IpcAsker>();
  const askEveryShard: AskEveryShard = (question, timeoutMs) =>
    Promise.all(
      Array.from({ length: shardCount }, async (_, shardId) => {
        const shard = manager.shards.get(shardId);
        const asker = askers.get(shardId);
        if (!shard || !asker || !isRunning(shard.process)) return { shardId, ok: false, problem: "not running" } as const;
        // discord.js's own flag: the child said `_ready` and has not since said `_disconnect` or
        // `_reconnecting`. Asking a process that is still booting would only wait for the timeout.
        if (!shard.ready) return { shardId, ok: false, problem: "not ready" } as const;
        return { shardId, ...(await asker.ask(question, timeoutMs)) };
      }),
    );
  // Bound before any shard starts: a port that is taken stops the manager, not a shard in a respawn loop.
  let http: RunningHttpServer | undefined;
  if (config.http) {
    const httpLogger = logger.child({ component: "http" });
    const endpoints = createShardedEndpoints({ askEveryShard, logger: httpLogger });
    http = await startHttpServer({ ...config.http, checks: endpoints.health, metrics: endpoints.metrics, logger: httpLogger });
    logger.info({ url: http.url }, "health and metrics of every shard listening (/healthz, /metrics)");
  }

  manager.on("shardCreate", (shard: Shard) => {
    askers.set(shard.id, createIpcAsker(shard));
    const log = logger.child({ shard: shard.id });
    // Process mode: `shard.process` is the child while these events run (cleared only after "death").
    shard.on("spawn", () => {
      log.info({ pid: shard.process?.pid }, "shard process started");
      // A shard the manager's spawn loop starts after a stop began must not outlive the stop.
      if (stopping) shard.process?.kill("SIGTERM");
    });
    shard.on("ready", () => log.info("shard ready"));
    shard.on("death", () => {
      const exit = { pid: shard.process?.pid, exitCode: shard.process?.exitCode, signal: shard.process?.signalCode };
      if (stopping) log.info(exit, "shard process stopped");
      else log.warn(exit, "shard process died; starting it again");
    });
    shard.on("error", (error: unknown) => log.error({ err: error }, "shard process error"));
  });

  const stop = async (graceMs: number): Promise<void> => {
    stopping = true;
    // `Shard` reads `manager.respawn` when its process exits, so this stops every later respawn.
    manager.respawn = false;
    await Promise.all([...manager.shards.values()].map((shard) => stopShardProcess(shard, graceMs + KILL_MARGIN_MS)));
    await http?.close();
  };

  // Shards in different buckets (id % max_concurrency) may identify at once; otherwise 5 s apart.
  const delay = advice.maxConcurrency >= shardCount ? 0 : SAME_BUCKET_SPAWN_DELAY_MS;
  const ready = manager.spawn({ amount: shardCount, delay, timeout: SHARD_READY_TIMEOUT_MS }).then(
    () => undefined,
    async (error: unknown) => {
      await stop(options.graceMs);
      throw error;
    },
  );
  // Whoever awaits `ready` sees the error; this keeps an unobserved failure from crashing the process.
  ready.catch(() => undefined);
  return { shardCount, http, ready, stop };
}

function isRunning(child: ChildProcess | null): child is ChildProcess {
  return child !== null && child.exitCode === null && child.signalCode === null;
}

/** SIGTERM, then SIGKILL if the process is still there after `deadlineMs`. */
async function stopShardProcess(shard: Shard, deadlineMs: number): Promise<void> {
  const child = shard.process;
  if (!isRunning(child)) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
  await exited;
  clearTimeout(timer);
}

/** Every gateway shard of this client is connected (READY or resumed). */
export function discordConnectedCheck(client: Client): HealthCheck {
  return { name: "discord", check: () => client.isReady() && client.ws.shards.every((shard) => shard.status === Status.Ready) };
}

/** What a shard process answers the manager from: parts of `RunningBot`. */
export type AnsweringBot = { client: Client; metrics: Metrics; usageStore: { db: Kysely<any> } };

/**
 * The shard side of the manager's `/healthz` and `/metrics`: answers its questions on `peer`
 * (`parentProcessPeer(process)`). Installed before `startBot` resolves, so a shard that is still
 * starting says so at once instead of leaving the manager to wait for its timeout; `runningBot`
 * returns the bot once it has started.
 */
export function answerManagerQuestions(peer: IpcPeer, runningBot: () => AnsweringBot | undefined): () => void {
  return answerIpcQuestions(peer, {
    metrics: () => {
      const bot = runningBot();
      if (!bot) throw new Error("the bot is still starting");
      return bot.metrics.registry.getMetricsAsJSON();
    },
    health: () => {
      const bot = runningBot();
      if (!bot) return { healthy: false, starting: true };
      return runHealthChecks([discordConnectedCheck(bot.client), databaseCheck(bot.usageStore.db)]);
    },
  });
}
