/**
 * Main-thread stall measurement shared by the benchmarks: a 1 ms `setInterval` probe whose lateness
 * is what every other callback (Discord's gateway heartbeat, interaction handlers) would have waited,
 * beside Node's own `monitorEventLoopDelay`. On a shared machine the figures also count time the OS
 * gave the CPU to other processes; print the load average beside them.
 */
import { loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";

export type StallFigures = {
  /** Lateness of the probe's ticks, in ms. */
  p50: number;
  p99: number;
  max: number;
  /** `monitorEventLoopDelay`'s longest delay, in ms. */
  histogramMax: number;
  /** Probe ticks over 50 ms late (issue 8's bound). */
  over50: number;
  ticks: number;
};

/** Runs `work` while probing the event loop; returns what `work` returned and the stalls seen. */
export async function withStallProbe<T>(work: () => Promise<T>): Promise<{ value: T; stalls: StallFigures }> {
  const lateness: number[] = [];
  let expected = performance.now() + 1;
  const probe = setInterval(() => {
    const now = performance.now();
    lateness.push(Math.max(0, now - expected));
    expected = now + 1;
  }, 1);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  try {
    const value = await work();
    return { value, stalls: figures(lateness, histogram.max / 1e6) };
  } finally {
    clearInterval(probe);
    histogram.disable();
  }
}

function figures(lateness: number[], histogramMax: number): StallFigures {
  const sorted = [...lateness].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  return { p50: at(50), p99: at(99), max: sorted.at(-1) ?? 0, histogramMax, over50: sorted.filter((ms) => ms > 50).length, ticks: sorted.length };
}

export function formatStalls(stalls: StallFigures): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return `stall p50 ${ms(stalls.p50)}, p99 ${ms(stalls.p99)}, max ${ms(stalls.max)} (histogram max ${ms(stalls.histogramMax)}); ${stalls.over50} of ${stalls.ticks} ticks over 50 ms`;
}

export function loadAverage(): string {
  return `load average ${loadavg().map((n) => n.toFixed(2)).join(" ")}`;
}
