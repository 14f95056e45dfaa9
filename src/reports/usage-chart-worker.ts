/**
 * Worker thread of `renderDailyUsageChart`: renders one chart off the bot's event loop, replies
 * once, and exits. Started only by `usage-chart.ts`.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { WorkerData, WorkerReply } from "./usage-chart.js";
import { renderDailyUsageChartInProcess } from "./usage-chart-render.js";

if (isMainThread || parentPort === null) throw new Error("usage-chart-worker runs only as a worker thread");

const { points, options } = (workerData as WorkerData).request;
let reply: WorkerReply;
try {
  reply = { png: await renderDailyUsageChartInProcess(points, options) };
} catch (error) {
  reply = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}
parentPort.postMessage(reply);
