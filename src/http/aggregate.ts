import { AggregatorRegistry, type Registry } from "prom-client";

/** One shard's `metrics.registry.getMetricsAsJSON()`, as it arrives over the sharding IPC channel. */
export type ShardMetricsJson = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;

/**
 * One `/metrics` for a bot that runs as several shard processes: the manager process asks each
 * shard for `metrics.registry.getMetricsAsJSON()` and serves the registry this returns.
 *
 * Counters and histograms are summed across processes; a metric's own `aggregator` says otherwise
 * where a sum would be wrong (prom-client averages the event-loop figures; `dashtune_jobs` takes
 * the maximum, because every shard reads the same shared queue).
 */
export function aggregateShardMetrics(perShard: readonly ShardMetricsJson[]): Registry {
  return AggregatorRegistry.aggregate([...perShard]);
}
