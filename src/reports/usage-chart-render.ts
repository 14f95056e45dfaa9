/**
 * Draws the daily usage chart: ECharts lays it out as SVG, resvg turns that into a PNG with the
 * shipped font. Runs in `usage-chart-worker.ts`; import it elsewhere only in tests and benchmarks.
 * Why these libraries: see `usage-chart.ts`.
 */
import { createRequire } from "node:module";
import { renderAsync } from "@resvg/resvg-js";
import type {
  BarSeriesOption,
  ComposeOption,
  GraphicComponentOption,
  GridComponentOption,
  LegendComponentOption,
  TitleComponentOption,
  XAXisComponentOption,
  YAXisComponentOption,
} from "echarts";
import {
  boldFontStack,
  fillDays,
  resolveOptions,
  USAGE_CHART_FONT_OPTIONS,
  USAGE_CHART_FONT_STACK,
  type DailyUsagePoint,
  type DayTotals,
  type MusicUnit,
  type ResolvedOptions,
  type UsageChartLabels,
  type UsageChartMetric,
  type UsageChartOptions,
} from "./usage-chart.js";

// ECharts' single-file CommonJS build: it loads in about 80 ms, its ES modules (hundreds of files)
// in about 400 ms, and every chart pays that once, in a fresh worker.
const echarts = createRequire(import.meta.url)("echarts") as typeof import("echarts");

type ChartOption = ComposeOption<
  | BarSeriesOption
  | GraphicComponentOption
  | GridComponentOption
  | LegendComponentOption
  | TitleComponentOption
  | XAXisComponentOption
  | YAXisComponentOption
>;

/** Above this many bars ECharts draws each series as one path: a quarter of the SVG, faster. */
const LARGE_SERIES_THRESHOLD = 60;
/** Up to this many days every label is a day (`MM-DD`); beyond, labels mark month starts. */
const DAY_LABEL_MAX_DAYS = 62;
/** Room one month-start label (`2025-01`) needs, in pixels, so labels never touch. */
const MONTH_LABEL_MIN_SPACING = 64;

/*
 * A dark card of its own, in Discord's darkest surface colour: the chart reads the same on the dark
 * theme (#313338, the card a shade darker) and the light one (#FFFFFF, a dark card on white),
 * where a transparent chart would need text that contrasts with both and so fits neither.
 * Text contrast on the card: 16:1 for titles, 9:1 for muted labels; bars are Discord's own colours.
 */
const BACKGROUND_COLOR = "#1E1F22";
const COLORS = { songs: "#5865F2", analyses: "#F0B232", music: "#5865F2", tokens: "#3BA55D" } as const;
const TEXT_COLOR = "#F2F3F5";
const MUTED_TEXT_COLOR = "#B5BAC1";
const GRID_LINE_COLOR = "#3F4147";

/** `renderDailyUsageChart` on the calling thread: what the worker runs (and tests call directly). */
export async function renderDailyUsageChartInProcess(
  points: DailyUsagePoint[],
  options: UsageChartOptions,
): Promise<Buffer> {
  const svg = buildDailyUsageChartSvg(points, options);
  // renderAsync rasterises on libuv's thread pool; asPng() encodes on this thread.
  const image = await renderAsync(svg, { font: USAGE_CHART_FONT_OPTIONS, fitTo: { mode: "original" } });
  return image.asPng();
}

/** The chart as an SVG string, before rasterising (exported for tests and the benchmark). */
export function buildDailyUsageChartSvg(points: DailyUsagePoint[], options: UsageChartOptions): string {
  const resolved = resolveOptions(options);
  const days = fillDays(points);

  const { width, height } = resolved;
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width, height });
  try {
    chart.setOption(chartOption(days, resolved));
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function chartOption(days: DayTotals[], options: ResolvedOptions): ChartOption {
  const { labels, width } = options;
  const textStyle = { fontFamily: USAGE_CHART_FONT_STACK, color: TEXT_COLOR };
  const { series, axisName, divisor, integer } = seriesOf(days, options.metric, labels);
  const hasLegend = series.length > 1;

  const title: TitleComponentOption = {
    text: options.title,
    subtext: days.length === 0 ? "" : dateRange(days),
    left: 16,
    top: 12,
    // Long titles (guild names) are cut with an ellipsis before they reach the legend.
    textStyle: {
      ...textStyle,
      fontFamily: boldFontStack(options.title),
      fontSize: 18,
      fontWeight: "bold",
      width: width - (hasLegend ? 280 : 32),
      overflow: "truncate",
    },
    subtextStyle: { ...textStyle, color: MUTED_TEXT_COLOR, fontSize: 12 },
  };
  const noUsage: GraphicComponentOption = {
    type: "text",
    left: "center",
    top: "middle",
    silent: true,
    style: { text: labels.noUsage, fontFamily: USAGE_CHART_FONT_STACK, fontSize: 20, fill: MUTED_TEXT_COLOR },
  };
  const base: ChartOption = { animation: false, backgroundColor: BACKGROUND_COLOR, textStyle, title };

  if (days.length === 0) return { ...base, graphic: [noUsage] };

  const nothingUsed = series.every((s) => s.values.every((v) => v === 0));
  const compact = new Intl.NumberFormat(options.locale, { notation: "compact", maximumFractionDigits: 1 });
  const plotWidth = width - 96;

  return {
    ...base,
    legend: hasLegend ? { show: true, top: 16, right: 16, itemWidth: 14, itemHeight: 14, textStyle } : { show: false },
    grid: { left: 16, right: 24, top: 72, bottom: 16, outerBoundsMode: "same", outerBoundsContain: "all" },
    xAxis: {
      type: "category",
      data: days.map((d) => d.day),
      axisTick: { alignWithLabel: true, interval: labelInterval(days, plotWidth) },
      axisLabel: {
        ...textStyle,
        color: MUTED_TEXT_COLOR,
        interval: labelInterval(days, plotWidth),
        formatter: dayLabelFormatter(days.length, monthStep(days, plotWidth)),
      },
    },
    yAxis: {
      type: "value",
      name: axisName,
      nameTextStyle: { ...textStyle, color: MUTED_TEXT_COLOR, align: "left" },
      minInterval: integer ? 1 : 0,
      // All-zero data would otherwise give an axis with a single 0 label.
      ...(nothingUsed ? { max: 1 } : {}),
      axisLabel: { ...textStyle, color: MUTED_TEXT_COLOR, formatter: (value: number) => compact.format(value) },
      splitLine: { lineStyle: { color: GRID_LINE_COLOR } },
    },
    series: series.map(
      (s): BarSeriesOption => ({
        type: "bar",
        name: s.name,
        data: s.values.map((v) => v / divisor),
        itemStyle: { color: s.color },
        barMaxWidth: 48,
        large: days.length > LARGE_SERIES_THRESHOLD,
        largeThreshold: LARGE_SERIES_THRESHOLD,
        ...(s.stack === undefined ? {} : { stack: s.stack }),
      }),
    ),
    graphic: nothingUsed ? [noUsage] : [],
  };
}


type Bar = { name: string; color: string; values: number[]; stack: string | undefined };

function seriesOf(
  days: DayTotals[],
  metric: UsageChartMetric,
  labels: UsageChartLabels,
): { series: Bar[]; axisName: string; divisor: number; integer: boolean } {
  const bar = (name: string, color: string, values: number[], stack?: string): Bar => ({ name, color, values, stack });

  switch (metric) {
    case "requests":
      return {
        series: [
          bar(labels.songs, COLORS.songs, days.map((d) => d.songs), "requests"),
          bar(labels.analyses, COLORS.analyses, days.map((d) => d.analyses), "requests"),
        ],
        axisName: labels.requests,
        divisor: 1,
        integer: true,
      };
    case "musicSeconds": {
      const data = days.map((d) => d.musicSeconds);
      const unit = musicUnit(Math.max(0, ...data));
      const name = unit === "hours" ? labels.musicHours : unit === "minutes" ? labels.musicMinutes : labels.musicSeconds;
      return {
        series: [bar(name, COLORS.music, data)],
        axisName: name,
        divisor: unit === "hours" ? 3600 : unit === "minutes" ? 60 : 1,
        integer: unit === "seconds",
      };
    }
    case "tokens":
      return {
        series: [bar(labels.tokens, COLORS.tokens, days.map((d) => d.tokens))],
        axisName: labels.tokens,
        divisor: 1,
        integer: true,
      };
  }
}

/** Seconds up to 2 minutes on the busiest day, minutes up to 2 hours, hours beyond. */
export function musicUnit(maxSeconds: number): MusicUnit {
  if (maxSeconds >= 2 * 3600) return "hours";
  if (maxSeconds >= 120) return "minutes";
  return "seconds";
}

/**
 * Which days get a label and a tick. Short ranges: ECharts thins day labels out by their measured
 * width (`"auto"`). Long ranges: the first of every month, or of every 3rd, 6th or 12th month when
 * monthly labels would be closer than {@link MONTH_LABEL_MIN_SPACING}.
 */
function labelInterval(days: DayTotals[], plotWidth: number): "auto" | ((index: number, value: string) => boolean) {
  if (days.length <= DAY_LABEL_MAX_DAYS) return "auto";
  const step = monthStep(days, plotWidth);
  return (_index, value) => value.endsWith("-01") && (Number(value.slice(5, 7)) - 1) % step === 0;
}

function monthStep(days: DayTotals[], plotWidth: number): number {
  const monthStarts = days.filter((d) => d.day.endsWith("-01")).length;
  for (const step of [1, 3, 6, 12]) {
    if ((monthStarts / step) * MONTH_LABEL_MIN_SPACING <= plotWidth) return step;
  }
  return 12;
}

function dayLabelFormatter(dayCount: number, step: number): (value: string) => string {
  if (dayCount <= DAY_LABEL_MAX_DAYS) return (value) => value.slice(5); // MM-DD; the year is in the subtitle
  if (step === 12) return (value) => value.slice(0, 4); // YYYY
  return (value) => value.slice(0, 7); // YYYY-MM
}

function dateRange(days: DayTotals[]): string {
  const first = days[0]!.day;
  const last = days[days.length - 1]!.day;
  return first === last ? first : `${first} – ${last}`;
}
