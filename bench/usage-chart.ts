/**
 * Usage-chart benchmark, for 1, 30, 366 and 3,660 days:
 * - the bot's path, `renderDailyUsageChart` (a fresh worker thread per chart), and the same drawing
 *   on the calling thread (`renderDailyUsageChartInProcess`), each with: time to the PNG; how long
 *   the event loop was busy per chart (event-loop utilisation: the time the main thread cannot
 *   answer Discord); the longest event-loop stall seen (this one also counts time the OS gave the
 *   CPU to others, so it is noisy on a shared machine);
 * - building the SVG with ECharts alone, on the calling thread;
 * - the PNG's size.
 *
 *   npx tsx bench/usage-chart.ts [--runs 10] [--out /tmp]
 *
 * Under tsx the worker also loads tsx's TypeScript loader (a few hundred ms more per chart than the
 * built bot): to time the compiled worker, build first and name the output folder,
 * `npm run build && npx tsx bench/usage-chart.ts --dist dist`.
 * --out writes one PNG per size there, to look at. Not part of the test suite.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type * as RenderModule from "../src/reports/usage-chart-render.js";
import type * as ChartModule from "../src/reports/usage-chart.js";
import type { DailyUsagePoint, UsageChartMetric } from "../src/reports/usage-chart.js";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    out: { type: "string" },
    dist: { type: "string" },
  },
});
const runs = Number(args.runs);
const base = args.dist === undefined ? "../src/reports/" : pathToFileURL(resolve(args.dist, "src/reports")).href + "/";
const { renderDailyUsageChart } = (await import(`${base}usage-chart.js`)) as typeof ChartModule;
const { buildDailyUsageChartSvg, renderDailyUsageChartInProcess } = (await import(
  `${base}usage-chart-render.js`
)) as typeof RenderModule;

function series(count: number): DailyUsagePoint[] {
  const t0 = Date.parse("2025-01-01T00:00:00Z") - (count - 1) * 86_400_000;
  return Array.from({ length: count }, (_, i) => ({
    day: new Date(t0 + i * 86_400_000).toISOString().slice(0, 10),
    songs: Math.round(8 + 6 * Math.sin(i / 5) + (i % 3)),
    analyses: Math.round(3 + 3 * Math.cos(i / 4)),
    musicSeconds: (i * 997) % 5400,
    tokens: 40_000 + ((i * 7919) % 900_000),
  }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

type Measured = { median: number; busy: number; stall: number };

/** Runs `work` `runs` times: median duration, mean event-loop busy time, longest stall. */
async function measure(work: () => unknown): Promise<Measured> {
  const times: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const elu = performance.eventLoopUtilization();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
  }
  const busy = performance.eventLoopUtilization(elu).active / runs;
  loop.disable();
  return { median: median(times), busy, stall: loop.max / 1e6 };
}

const ms = (n: number) => `${n.toFixed(0)} ms`.padStart(7);
const row = (m: Measured) => `${ms(m.median)} ${ms(m.busy)} ${ms(m.stall)}`;

console.log(
  `node ${process.version}, ${args.dist === undefined ? "TypeScript source via tsx" : `built code in ${args.dist}`}, ` +
    `${runs} runs each after a warm-up`,
);
console.log("                     worker (the bot's path)     on the calling thread     SVG only");
console.log("days  metric          total    busy   stall     total    busy   stall      total      PNG");
for (const count of [1, 30, 366, 3660]) {
  for (const metric of ["requests", "tokens"] as UsageChartMetric[]) {
    const points = series(count);
    const options = { title: `Usage of the last ${count} days`, metric };
    await renderDailyUsageChartInProcess(points, options);
    await renderDailyUsageChart(points, options);

    const worker = await measure(() => renderDailyUsageChart(points, options));
    const inProcess = await measure(() => renderDailyUsageChartInProcess(points, options));
    const svg = await measure(() => buildDailyUsageChartSvg(points, options));
    const png = await renderDailyUsageChart(points, options);
    console.log(
      `${String(count).padStart(4)}  ${metric.padEnd(8)} ${row(worker)}   ${row(inProcess)}   ${ms(svg.median)}  ` +
        `${(png.length / 1024).toFixed(1).padStart(6)} KB`,
    );
    if (args.out !== undefined) writeFileSync(join(args.out, `usage-chart-${count}-${metric}.png`), png);
  }
}
console.log("total: median time to the PNG; busy: mean event-loop busy time per chart; stall: longest event-loop delay");
