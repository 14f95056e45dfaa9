import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { Logger } from "../log.js";
import { aggregateShardMetrics } from "./aggregate.js";
import { HEALTH_CHECK_TIMEOUT_MS } from "./health.js";
import type { HealthAnswer } from "./server.js";
import type { IpcAnswer, ShardQuestion, ShardQuestions } from "./shard-ipc.js";

/**
 * `/healthz` and `/metrics` of a sharding manager: one endpoint for the whole bot, made at each
 * request from every shard process's answer over IPC. Knows nothing of discord.js: the manager
 * (src/shards.ts) passes `askEveryShard`.
 */

/**
 * One shard's answer, or why there is none: besides the IPC problems, `not running` (no process,
 * e.g. between a death and its respawn) and `not ready` (a process that has not told the manager
 * it is connected to Discord: still booting, or reconnecting; it is not asked).
 */
export type ShardAnswer<T> = { shardId: number } & (IpcAnswer<T> | { ok: false; problem: "not running" | "not ready"; message?: string });

/** Asks every shard (0 … count−1) at once; resolves with one answer per shard, never rejects. */
export type AskEveryShard = <Q extends ShardQuestion>(question: Q, timeoutMs: number) => Promise<Array<ShardAnswer<ShardQuestions[Q]>>>;

/** A shard's health checks run for up to HEALTH_CHECK_TIMEOUT_MS; this leaves room for the IPC round trip. */
export const SHARD_HEALTH_TIMEOUT_MS = HEALTH_CHECK_TIMEOUT_MS + 1000;
/** Below Prometheus' default scrape timeout (10 s), so a hung shard costs its figures, not the whole scrape. */
export const SHARD_METRICS_TIMEOUT_MS = 5000;

export type ShardedEndpoints = {
  /**
   * 200 only when every shard answers healthy. The body has, per shard id, the process's state
   * (`ok`, `starting`, `not ready`, `not running`, `timeout`, `failed`, `unreachable`) and, when it
   * answered, its own checks: `{"status":"ok","shards":{"0":{"process":"ok","discord":"ok","database":"ok"},…}}`.
   */
  health(): Promise<HealthAnswer>;
  /** Every answering shard's metrics aggregated, plus the manager's own process metrics and `dashtune_shards_unreachable`. */
  metrics(): Promise<Registry>;
};

export function createShardedEndpoints(options: {
  askEveryShard: AskEveryShard;
  logger: Logger;
  healthTimeoutMs?: number | undefined;
  metricsTimeoutMs?: number | undefined;
  /** prom-client's default process and Node metrics of the manager process itself. Default: on. */
  defaultMetrics?: boolean | undefined;
}): ShardedEndpoints {
  const { askEveryShard, logger } = options;
  const managerRegistry = new Registry();
  const unreachable = new Gauge({
    name: "dashtune_shards_unreachable",
    help: "Shard processes whose metrics are missing from this scrape: not running, starting, or no answer in time",
    registers: [managerRegistry],
  });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: managerRegistry });

  const warnAbout = (answer: ShardAnswer<unknown>, what: string) => {
    // A dead or starting shard is already in the manager's log; a hung or failing one is news.
    if (!answer.ok && answer.problem !== "not running" && answer.problem !== "not ready") {
      logger.warn({ shard: answer.shardId, problem: answer.problem, detail: answer.message }, `shard gave no ${what}`);
    }
  };

  return {
    async health() {
      const answers = await askEveryShard("health", options.healthTimeoutMs ?? SHARD_HEALTH_TIMEOUT_MS);
      const shards: Record<string, Record<string, string>> = {};
      for (const answer of answers) {
        warnAbout(answer, "health answer");
        shards[answer.shardId] = !answer.ok
          ? { process: answer.problem }
          : "starting" in answer.value
            ? { process: "starting" }
            : { process: "ok", ...answer.value.checks };
      }
      const healthy = answers.length > 0 && answers.every((answer) => answer.ok && answer.value.healthy);
      return { healthy, body: { shards } };
    },
    async metrics() {
      const answers = await askEveryShard("metrics", options.metricsTimeoutMs ?? SHARD_METRICS_TIMEOUT_MS);
      const perShard = [];
      for (const answer of answers) {
        warnAbout(answer, "metrics");
        if (answer.ok) perShard.push(answer.value);
      }
      unreachable.set(answers.length - perShard.length);
      return aggregateShardMetrics([...perShard, await managerRegistry.getMetricsAsJSON()]);
    },
  };
}
