import { Writable } from "node:stream";
import { createLogger } from "../../src/log.js";

/**
 * Helpers shared by the tests of /healthz and /metrics.
 */

/** A logger that keeps its lines in memory instead of printing them. */
export function quietLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { logger: createLogger({ level: "debug", secrets: [], destination }), lines };
}

/** The value of one sample line of Prometheus' text format, e.g. `dashtune_songs_total{outcome="ok"}`; undefined if absent. */
export function metricSample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
