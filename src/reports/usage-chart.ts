/**
 * The PNG bar chart of daily usage attached to the admins' `/usage` report: the API, input checks,
 * and the worker thread the chart is drawn in (`usage-chart-render.ts` draws it).
 *
 * How it is drawn, and why these libraries:
 * - Apache ECharts (Apache-2.0, an Apache top-level project, released every few months) lays the
 *   chart out and writes it as an SVG string with its documented server-side mode (`ssr: true`):
 *   pure JavaScript, no DOM, no canvas, no install script.
 * - resvg (`@resvg/resvg-js`, MPL-2.0, Rust) turns that SVG into a PNG. Its native binary comes
 *   inside a per-platform npm package (an optional dependency), so `npm install` downloads nothing
 *   else and runs no script.
 * - Text is drawn with Arimo (OFL-1.1), shipped as TTF files by `@expo-google-fonts/arimo` and
 *   handed to resvg by path with system fonts turned off, so the chart looks the same on a
 *   developer laptop, a CI machine with no fonts and `node:*-slim`. Arimo is metric-compatible
 *   with Arial, and ECharts' server-side text measurement (used to place and thin out labels) is
 *   a table of Arial's glyph widths: with this font, its estimates are exact.
 * - Chinese and Japanese (titles, labels, server and member names) are drawn with Noto Sans SC
 *   (OFL-1.1, `@expo-google-fonts/noto-sans-sc`, TTF: resvg reads TTF/OTF, not the WOFF2 that the
 *   @fontsource packages ship), named after Arimo in every text's font list so resvg takes each
 *   glyph Arimo lacks from it. Its Simplified Chinese set also holds the Traditional hanzi, the
 *   Japanese kanji and the kana (Hangul and emoji it lacks: see `drawableText`). Two of its nine
 *   weights are loaded, regular and bold (10.5 MB each; the package takes 92 MB on disk, and an
 *   image may delete the other weights). Loading them adds about 30 ms to a render that takes a
 *   fresh worker 0.3–0.5 s. resvg takes a missing glyph from the first loaded face that has it,
 *   whatever its weight, so a bold title with CJK in it names Noto Sans SC first (its Latin is
 *   drawn by Noto Sans SC too, one typeface). ECharts measures a character outside its Arial
 *   table as one em wide, which is what a CJK glyph is.
 *
 * Drawing runs in a worker thread started per chart. On the event loop, building the SVG and
 * encoding the PNG kept it busy 20–90 ms per chart (1–3,660 days) and stalled it by up to 200 ms on
 * a busy 2-core machine; through the worker the loop is busy 3–20 ms (`bench/usage-chart.ts`).
 * A fresh worker costs about 0.3–0.5 s per chart (loading ECharts, cold code); `/usage` is rare,
 * so there is no long-lived worker to manage or shut down. ECharts is not loaded on the main thread.
 *
 * Considered and not chosen: Vega-Lite + vega (about 30 packages, same resvg step), and Chart.js on
 * `@napi-rs/canvas` (it loads the system's fonts by default, so a missing embedded font could go
 * unnoticed on a developer machine; Chart.js needs its DOM-less mode and still draws on one thread).
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { ResvgRenderOptions } from "@resvg/resvg-js";

/** What one UTC day used. */
export type DailyUsagePoint = {
  /** `YYYY-MM-DD` (UTC). */
  day: string;
  songs: number;
  analyses: number;
  musicSeconds: number;
  tokens: number;
};

export type UsageChartMetric = "requests" | "musicSeconds" | "tokens";

/** The unit the music axis is drawn in, chosen from the largest day. */
export type MusicUnit = "seconds" | "minutes" | "hours";

/**
 * Words drawn in the chart. English by default; the report passes its locale's text from `i18n/`.
 * Day labels are ISO dates and numbers are formatted with `locale`, so nothing else needs words.
 * Plain strings (no functions): they are sent to the rendering worker.
 */
export type UsageChartLabels = {
  songs: string;
  analyses: string;
  /** Axis name for `metric: "requests"`. */
  requests: string;
  /** Axis names for `metric: "musicSeconds"`, by the unit chosen from the busiest day. */
  musicSeconds: string;
  musicMinutes: string;
  musicHours: string;
  /** Axis name for `metric: "tokens"`. */
  tokens: string;
  /** Shown instead of bars when nothing was used in the period. */
  noUsage: string;
};

export const DEFAULT_USAGE_CHART_LABELS: UsageChartLabels = {
  songs: "Songs",
  analyses: "Analyses",
  requests: "Requests",
  musicSeconds: "Music (seconds)",
  musicMinutes: "Music (minutes)",
  musicHours: "Music (hours)",
  tokens: "Tokens",
  noUsage: "No usage in this period",
};

export type UsageChartOptions = {
  title: string;
  metric: UsageChartMetric;
  /** Pixels, 320–4096; default 1000. */
  width?: number;
  /** Pixels, 200–4096; default 500. */
  height?: number;
  labels?: Partial<UsageChartLabels>;
  /** BCP 47 tag for axis numbers (`1.2K`); default `"en"`. */
  locale?: string;
};

/**
 * Longest range drawn (ten years). Gaps are filled with zero days, so one stray date far in the
 * past would otherwise make the chart arbitrarily slow; past this the caller has a bug.
 */
export const MAX_CHART_DAYS = 3660;

export const USAGE_CHART_FONT_FAMILY = "Arimo";
/** The font family of the CJK font file, as its name table gives it. */
export const USAGE_CHART_CJK_FONT_FAMILY = "Noto Sans SC";
/** What every text of the chart asks for: Arimo, and for the glyphs Arimo lacks, Noto Sans SC. */
export const USAGE_CHART_FONT_STACK = `${USAGE_CHART_FONT_FAMILY}, ${USAGE_CHART_CJK_FONT_FAMILY}`;
/** For bold text with CJK in it: Noto Sans SC's own bold face for all of it (see above). */
export const USAGE_CHART_CJK_FONT_STACK = `${USAGE_CHART_CJK_FONT_FAMILY}, ${USAGE_CHART_FONT_FAMILY}`;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u{3000}-\u{303F}\u{FF00}-\u{FFEF}]/u;

/** The font list for a bold text: CJK first when the text holds any. */
export function boldFontStack(text: string): string {
  return CJK.test(text) ? USAGE_CHART_CJK_FONT_STACK : USAGE_CHART_FONT_STACK;
}

const require = createRequire(import.meta.url);

/**
 * Font settings given to resvg on every render: only the shipped Arimo and Noto Sans SC files, never
 * the system's fonts. Resolved when this module loads, so a missing font package fails at boot,
 * not on `/usage`.
 */
export const USAGE_CHART_FONT_OPTIONS = {
  loadSystemFonts: false,
  fontFiles: [
    require.resolve("@expo-google-fonts/arimo/400Regular/Arimo_400Regular.ttf"),
    require.resolve("@expo-google-fonts/arimo/700Bold/Arimo_700Bold.ttf"),
    require.resolve("@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf"),
    require.resolve("@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf"),
  ],
  defaultFontFamily: USAGE_CHART_FONT_FAMILY,
  sansSerifFamily: USAGE_CHART_FONT_FAMILY,
} satisfies ResvgRenderOptions["font"];

// resvg's native binary ships in a per-platform optional dependency (@resvg/resvg-js-linux-x64-gnu
// here). Load it now, so that an install without it (`npm prune --omit=optional`, `npm ci
// --omit=optional`) fails at boot with this message rather than on the first `/usage`.
try {
  require("@resvg/resvg-js");
} catch (error) {
  throw new Error(
    "usage chart: resvg's native binary for this platform is missing; install optional dependencies (no --omit=optional)",
    { cause: error },
  );
}

/** A render takes well under a second; past this the worker is stopped and the call fails. */
const RENDER_TIMEOUT_MS = 30_000;
const DAY_MS = 86_400_000;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** What `usage-chart-worker` is given and sends back. */
export type WorkerRequest = { points: DailyUsagePoint[]; options: UsageChartOptions };
/** `entry` is for `ts-worker-bootstrap.mjs`: the worker module it imports. */
export type WorkerData = { entry: string; request: WorkerRequest };
export type WorkerReply = { png: Uint8Array } | { error: string };

// Built code (dist/) starts the compiled worker. Under tsx or vitest this module is TypeScript
// source, so the worker is too: a small .mjs bootstrap registers tsx's loader (a devDependency,
// present wherever .ts runs) inside the worker, then imports it, which works the same on every
// supported Node line.
const RUNNING_TYPESCRIPT = import.meta.url.endsWith(".ts");
const WORKER_ENTRY = new URL(RUNNING_TYPESCRIPT ? "./usage-chart-worker.ts" : "./usage-chart-worker.js", import.meta.url);
const WORKER_URL = RUNNING_TYPESCRIPT ? new URL("./ts-worker-bootstrap.mjs", import.meta.url) : WORKER_ENTRY;

/**
 * Renders the daily usage of a period as a PNG bar chart (default 1000×500), in a worker thread.
 *
 * `points` should hold every day of the period, oldest first; missing days between the first and the
 * last are drawn as zero, duplicates are added up, and negative or non-finite counts count as zero.
 * An empty list draws the title and "No usage in this period".
 *
 * Input is checked on the calling thread first, so bad input rejects with the errors below. Each
 * call starts a worker thread that exits once the PNG is sent back (about 0.3–0.5 s in all); the
 * event loop stays free meanwhile. Other failures (a crashed or stuck worker, 30 s) reject with
 * an `Error`: the report should then go out without its chart.
 *
 * @throws {TypeError} a `day` that is not a real `YYYY-MM-DD` date
 * @throws {RangeError} a size out of bounds, or days spanning more than {@link MAX_CHART_DAYS}
 */
export async function renderDailyUsageChart(points: DailyUsagePoint[], options: UsageChartOptions): Promise<Buffer> {
  resolveOptions(options);
  fillDays(points);
  const workerData: WorkerData = { entry: WORKER_ENTRY.href, request: { points, options } };
  const worker = new Worker(WORKER_URL, { workerData });
  return new Promise<Buffer>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
      void worker.terminate();
    };
    const timer = setTimeout(
      () => settle(() => reject(new Error(`usage chart: rendering took over ${RENDER_TIMEOUT_MS} ms`))),
      RENDER_TIMEOUT_MS,
    );
    worker.once("message", (reply: WorkerReply) =>
      settle(() =>
        "png" in reply
          ? resolve(Buffer.from(reply.png.buffer, reply.png.byteOffset, reply.png.byteLength))
          : reject(new Error(`usage chart: rendering failed: ${reply.error}`)),
      ),
    );
    worker.once("error", (error) => settle(() => reject(error)));
    worker.once("exit", (code) =>
      settle(() => reject(new Error(`usage chart: rendering worker exited with code ${code} and no image`))),
    );
  });
}

export type DayTotals = { day: string; songs: number; analyses: number; musicSeconds: number; tokens: number };

/** One entry per day from the first to the last point, oldest first, gaps as zeros. */
export function fillDays(points: readonly DailyUsagePoint[]): DayTotals[] {
  const byDay = new Map<number, DayTotals>();
  for (const point of points) {
    const index = dayIndex(point.day);
    const totals = byDay.get(index) ?? { day: point.day, songs: 0, analyses: 0, musicSeconds: 0, tokens: 0 };
    totals.songs += count(point.songs);
    totals.analyses += count(point.analyses);
    totals.musicSeconds += count(point.musicSeconds);
    totals.tokens += count(point.tokens);
    byDay.set(index, totals);
  }
  if (byDay.size === 0) return [];

  const indexes = [...byDay.keys()];
  const first = Math.min(...indexes);
  const last = Math.max(...indexes);
  if (last - first + 1 > MAX_CHART_DAYS) {
    throw new RangeError(
      `usage chart: days span ${last - first + 1} days (${isoDay(first)} to ${isoDay(last)}), at most ${MAX_CHART_DAYS}`,
    );
  }
  const days: DayTotals[] = [];
  for (let index = first; index <= last; index++) {
    days.push(byDay.get(index) ?? { day: isoDay(index), songs: 0, analyses: 0, musicSeconds: 0, tokens: 0 });
  }
  return days;
}

export type ResolvedOptions = UsageChartOptions & {
  labels: UsageChartLabels;
  width: number;
  height: number;
  locale: string;
};

/**
 * Emoji (and what joins and styles them) have no glyph in the shipped fonts, so resvg would draw
 * each as an empty box; server names are full of them. `©` and `®` are drawn by Arimo and stay.
 */
const UNDRAWABLE = /\p{Extended_Pictographic}|[\u{1F1E6}-\u{1F1FF}\u{1F3FB}-\u{1F3FF}\u{200D}\u{20E3}\u{FE0F}]/gu;
const DRAWN_BY_ARIMO = new Set(["©", "®"]);

/** Text as the chart can draw it: emoji left out, the spaces they leave behind closed up. */
export function drawableText(text: string): string {
  const drawable = text.replace(UNDRAWABLE, (found) => (DRAWN_BY_ARIMO.has(found) ? found : ""));
  return drawable === text ? text : drawable.replace(/\s{2,}/g, " ").trim();
}

/** Options with defaults filled in, texts made drawable; throws on a bad size or locale. */
export function resolveOptions(options: UsageChartOptions): ResolvedOptions {
  const labels = { ...DEFAULT_USAGE_CHART_LABELS, ...options.labels };
  return {
    ...options,
    title: drawableText(options.title),
    width: checkedSize("width", options.width ?? 1000, 320),
    height: checkedSize("height", options.height ?? 500, 200),
    labels: Object.fromEntries(Object.entries(labels).map(([name, text]) => [name, drawableText(text)])) as UsageChartLabels,
    locale: Intl.NumberFormat.supportedLocalesOf(options.locale ?? "en")[0] ?? "en",
  };
}

function dayIndex(day: string): number {
  const ms = ISO_DAY.test(day) ? Date.parse(`${day}T00:00:00Z`) : Number.NaN;
  // Date.parse accepts 2025-02-30 (rolls over); a round trip rejects it.
  if (Number.isNaN(ms) || isoDay(ms / DAY_MS) !== day) {
    throw new TypeError(`usage chart: day ${JSON.stringify(day)} is not a YYYY-MM-DD date`);
  }
  return ms / DAY_MS;
}

function isoDay(index: number): string {
  return new Date(index * DAY_MS).toISOString().slice(0, 10);
}

function count(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

function checkedSize(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min || value > 4096) {
    throw new RangeError(`usage chart: ${name} must be an integer from ${min} to 4096, got ${value}`);
  }
  return value;
}
