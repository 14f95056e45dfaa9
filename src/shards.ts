import { REST, Routes, ShardingManager, type APIGatewayBotInfo, type Client, type Shard } from "discord.js";
import type { Config } from "./config.js";
import { discordRestOptions } from "./discord/rest-options.js";
import type { Logger } from "./log.js";

/**
 * Sharding with `SHARD_COUNT`: a discord.js ShardingManager starts one bot process per shard, each
 * running the whole bot (`startBot`) on the shared PostgreSQL database; discord.js hands each child
 * its shard through the environment (SHARDS, SHARD_COUNT), which its Client reads.
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
  /**
   * Resolves once every shard is ready. If one cannot become ready at the first start, every shard
   * is stopped and it rejects: a shard that fails at boot would fail the same way in a respawn loop.
   */
  readonly ready: Promise<void>;
  /** Stops respawning, sends SIGTERM to every shard process and waits until all have exited. */
  stop(graceMs: number): Promise<void>;
};

/**
 * Creates the ShardingManager and starts the shard processes one after another (see `ready`); it
 * resolves as soon as they are on their way, so a stop signal can be handled during the start. A
 * shard process that dies later is respawned by discord.js (`respawn: true`).
 */
export async function startShardProcesses(options: {
  config: Pick<Config, "discordToken" | "discordApiUrl" | "shardCount">;
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
  manager.on("shardCreate", (shard: Shard) => {
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
  return { shardCount, ready, stop };
}

/** SIGTERM, then SIGKILL if the process is still there after `deadlineMs`. */
async function stopShardProcess(shard: Shard, deadlineMs: number): Promise<void> {
  const child = shard.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
  await exited;
  clearTimeout(timer);
}
