import { existsSync } from "node:fs";
import { renderAsync } from "@resvg/resvg-js";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import {
  buildDailyUsageChartSvg,
  musicUnit,
  renderDailyUsageChartInProcess,
} from "../../src/reports/usage-chart-render.js";
import {
  drawableText,
  fillDays,
  renderDailyUsageChart,
  MAX_CHART_DAYS,
  USAGE_CHART_FONT_OPTIONS,
  type DailyUsagePoint,
} from "../../src/reports/usage-chart.js";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function days(count: number, start = "2025-01-01"): DailyUsagePoint[] {
  const t0 = Date.parse(`${start}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => ({
    day: new Date(t0 + i * 86_400_000).toISOString().slice(0, 10),
    songs: 5 + (i % 7),
    analyses: i % 4,
    musicSeconds: 60 * (i % 11),
    tokens: 1000 * (i % 13),
  }));
}

/** Width and height from the IHDR chunk, which must come first. */
function ihdr(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
  expect(png.toString("latin1", 12, 16)).toBe("IHDR");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

function differingPixels(a: Buffer, b: Buffer): number {
  const pa = PNG.sync.read(a);
  const pb = PNG.sync.read(b);
  expect([pa.width, pa.height]).toEqual([pb.width, pb.height]);
  let count = 0;
  for (let i = 0; i < pa.data.length; i += 4) {
    if (
      pa.data[i] !== pb.data[i] ||
      pa.data[i + 1] !== pb.data[i + 1] ||
      pa.data[i + 2] !== pb.data[i + 2] ||
      pa.data[i + 3] !== pb.data[i + 3]
    ) {
      count++;
    }
  }
  return count;
}

type Box = { left: number; top: number; right: number; bottom: number };
/** Where the title is drawn (left 16, top 12, 18 px bold) and where the legend is (top right), at 1000×500. */
const TITLE_AREA: Box = { left: 10, top: 8, right: 700, bottom: 40 };
const LEGEND_AREA: Box = { left: 700, top: 8, right: 1000, bottom: 40 };

/** Pixels that differ between two PNGs inside a box. */
function differingPixelsIn(a: Buffer, b: Buffer, box: Box): number {
  const pa = PNG.sync.read(a);
  const pb = PNG.sync.read(b);
  let count = 0;
  for (let y = box.top; y < box.bottom; y++) {
    for (let x = box.left; x < box.right; x++) {
      const i = (y * pa.width + x) * 4;
      if ([0, 1, 2, 3].some((c) => pa.data[i + c] !== pb.data[i + c])) count++;
    }
  }
  return count;
}

/** Pixels in a box bright in every channel: the title's colour (#F2F3F5), not the muted labels' (#B5BAC1). */
function brightPixelsIn(png: Buffer, box: Box, threshold = 220): number {
  const image = PNG.sync.read(png);
  let count = 0;
  for (let y = box.top; y < box.bottom; y++) {
    for (let x = box.left; x < box.right; x++) {
      const i = (y * image.width + x) * 4;
      if (image.data[i]! >= threshold && image.data[i + 1]! >= threshold && image.data[i + 2]! >= threshold) count++;
    }
  }
  return count;
}

/** Text of the SVG's <text> elements, in order. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
}

describe("renderDailyUsageChart", () => {
  it("renders in a worker thread the same PNG as on the calling thread", async () => {
    const options = { title: "Usage", metric: "requests" } as const;
    const png = await renderDailyUsageChart(days(30), options);
    expect(ihdr(png)).toEqual({ width: 1000, height: 500 });
    expect(png.equals(await renderDailyUsageChartInProcess(days(30), options))).toBe(true);
  });

  it("rejects bad input on the calling thread, with the error's own type", async () => {
    const point = { day: "2025-13-01", songs: 1, analyses: 0, musicSeconds: 0, tokens: 0 };
    await expect(renderDailyUsageChart([point], { title: "", metric: "requests" })).rejects.toThrow(TypeError);
    await expect(renderDailyUsageChart([], { title: "", metric: "requests", width: 0 })).rejects.toThrow(RangeError);
  });
});

describe("the chart", () => {
  it("is a PNG of 1000×500 by default, and of the size asked for", async () => {
    expect(ihdr(await renderDailyUsageChartInProcess(days(30), { title: "Usage", metric: "requests" }))).toEqual({
      width: 1000,
      height: 500,
    });
    expect(
      ihdr(await renderDailyUsageChartInProcess(days(30), { title: "Usage", metric: "tokens", width: 640, height: 360 })),
    ).toEqual({ width: 640, height: 360 });
  });

  it("differs for different usage and different metrics", async () => {
    const base = await renderDailyUsageChartInProcess(days(30), { title: "Usage", metric: "requests" });
    const busier = days(30).map((p, i) => (i === 10 ? { ...p, songs: p.songs + 40 } : p));
    const other = await renderDailyUsageChartInProcess(busier, { title: "Usage", metric: "requests" });
    const music = await renderDailyUsageChartInProcess(days(30), { title: "Usage", metric: "musicSeconds" });
    expect(differingPixels(base, other)).toBeGreaterThan(1000);
    expect(differingPixels(base, music)).toBeGreaterThan(1000);
  });

  it("is the same twice for the same input", async () => {
    const a = await renderDailyUsageChartInProcess(days(30), { title: "Usage", metric: "requests" });
    const b = await renderDailyUsageChartInProcess(days(30), { title: "Usage", metric: "requests" });
    expect(differingPixels(a, b)).toBe(0);
  });

  it("says there was no usage when given no days", async () => {
    const svg = buildDailyUsageChartSvg([], { title: "Usage", metric: "requests" });
    expect(svgTexts(svg)).toContain("No usage in this period");

    const png = await renderDailyUsageChartInProcess([], { title: "Usage", metric: "requests" });
    expect(ihdr(png)).toEqual({ width: 1000, height: 500 });
    const silent = await renderDailyUsageChartInProcess([], { title: "Usage", metric: "requests", labels: { noUsage: "" } });
    expect(differingPixels(png, silent)).toBeGreaterThan(500);
  });

  it("says there was no usage when every day is zero, and still draws the days", () => {
    const zeros = days(7).map((p) => ({ ...p, songs: 0, analyses: 0 }));
    const texts = svgTexts(buildDailyUsageChartSvg(zeros, { title: "Usage", metric: "requests" }));
    expect(texts).toContain("No usage in this period");
    expect(texts).toContain("01-07");
  });

  it("draws one day", async () => {
    const svg = buildDailyUsageChartSvg(days(1), { title: "Usage", metric: "requests" });
    expect(svgTexts(svg)).toEqual(expect.arrayContaining(["2025-01-01", "01-01", "Songs", "Analyses"]));
    expect(ihdr(await renderDailyUsageChartInProcess(days(1), { title: "Usage", metric: "requests" })).width).toBe(1000);
  });

  it("draws 366 days in under 200 KB, labelling month starts instead of every day", async () => {
    const points = days(366, "2024-01-01");
    const png = await renderDailyUsageChartInProcess(points, { title: "A year of usage", metric: "requests" });
    expect(ihdr(png)).toEqual({ width: 1000, height: 500 });
    expect(png.length).toBeLessThan(200 * 1024);

    const texts = svgTexts(buildDailyUsageChartSvg(points, { title: "A year", metric: "requests" }));
    const monthLabels = texts.filter((t) => /^\d{4}-\d{2}$/.test(t));
    expect(monthLabels).toEqual([
      "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06",
      "2024-07", "2024-08", "2024-09", "2024-10", "2024-11", "2024-12",
    ]);
    expect(texts.filter((t) => /^\d{2}-\d{2}$/.test(t))).toEqual([]);
  });

  it("thins month labels out to quarters or years when months would crowd", () => {
    const texts = svgTexts(buildDailyUsageChartSvg(days(MAX_CHART_DAYS, "2015-01-01"), { title: "", metric: "tokens" }));
    const yearLabels = texts.filter((t) => /^\d{4}$/.test(t));
    expect(yearLabels[0]).toBe("2015");
    expect(yearLabels.length).toBeGreaterThanOrEqual(9);
    expect(texts.filter((t) => /^\d{4}-\d{2}$/.test(t))).toEqual([]);
  });

  it("writes large numbers compactly on the axis", () => {
    const points = days(10).map((p, i) => ({ ...p, tokens: i * 900_000_000 }));
    const texts = svgTexts(buildDailyUsageChartSvg(points, { title: "Tokens", metric: "tokens" }));
    expect(texts.some((t) => /^\d+(\.\d)?B$/.test(t))).toBe(true);
  });

  it("draws music in minutes or hours when seconds would be large numbers", () => {
    expect([musicUnit(90), musicUnit(600), musicUnit(3 * 3600)]).toEqual(["seconds", "minutes", "hours"]);
    const points = days(5).map((p) => ({ ...p, musicSeconds: 5 * 3600 }));
    const texts = svgTexts(buildDailyUsageChartSvg(points, { title: "", metric: "musicSeconds" }));
    expect(texts).toContain("Music (hours)");
    expect(texts).toContain("5");
  });

  it("uses the labels it is given, for other languages", () => {
    const svg = buildDailyUsageChartSvg(days(3), {
      title: "Utilisation",
      metric: "requests",
      labels: { songs: "Chansons", analyses: "Analyses audio", requests: "Requêtes" },
    });
    expect(svgTexts(svg)).toEqual(expect.arrayContaining(["Utilisation", "Chansons", "Analyses audio", "Requêtes"]));
  });

  it("renders a title with markup characters as text", async () => {
    const title = `<b>"Tom & Jerry's"</b> </svg>`;
    const svg = buildDailyUsageChartSvg(days(3), { title, metric: "requests" });
    expect(svg).not.toContain("<b>");
    expect(ihdr(await renderDailyUsageChartInProcess(days(3), { title, metric: "requests" })).width).toBe(1000);
  });

  it("rejects sizes that are not sensible pixel counts, and malformed locales", () => {
    expect(() => buildDailyUsageChartSvg([], { title: "", metric: "requests", locale: "not a locale" })).toThrow(RangeError);
    expect(() => buildDailyUsageChartSvg([], { title: "", metric: "requests", width: 10 })).toThrow(RangeError);
    expect(() => buildDailyUsageChartSvg([], { title: "", metric: "requests", height: 5000 })).toThrow(RangeError);
    expect(() => buildDailyUsageChartSvg([], { title: "", metric: "requests", width: 999.5 })).toThrow(RangeError);
  });
});

describe("the chart's text", () => {
  it("tells resvg to use only the shipped font files, never the system's", () => {
    expect(USAGE_CHART_FONT_OPTIONS.loadSystemFonts).toBe(false);
    expect(USAGE_CHART_FONT_OPTIONS.fontFiles.length).toBeGreaterThan(0);
    for (const file of USAGE_CHART_FONT_OPTIONS.fontFiles) expect(existsSync(file)).toBe(true);
  });

  it("is drawn: a title changes thousands of pixels", async () => {
    const titled = await renderDailyUsageChartInProcess(days(30), { title: "Usage of the last 30 days", metric: "requests" });
    const untitled = await renderDailyUsageChartInProcess(days(30), { title: "", metric: "requests" });
    expect(differingPixels(titled, untitled)).toBeGreaterThan(1500);
  });

  it("comes from the shipped font: without it, the same SVG draws no text at all", async () => {
    // With system fonts off and no font files, resvg has no font: if the chart's text showed up
    // anyway, the test above could be passing on this machine's fonts alone.
    const noFonts = { loadSystemFonts: false, fontFiles: [] };
    const render = async (title: string) =>
      (await renderAsync(buildDailyUsageChartSvg(days(30), { title, metric: "requests" }), { font: noFonts })).asPng();
    expect(differingPixels(await render("Usage of the last 30 days"), await render(""))).toBe(0);
  });
});

describe("Chinese and Japanese in the chart", () => {
  const arimoOnly = { ...USAGE_CHART_FONT_OPTIONS, fontFiles: USAGE_CHART_FONT_OPTIONS.fontFiles.filter((file) => file.includes("arimo")) };
  const withFonts = async (font: typeof USAGE_CHART_FONT_OPTIONS, title: string, labels = {}) =>
    (await renderAsync(buildDailyUsageChartSvg(days(7), { title, metric: "requests", labels }), { font })).asPng();

  it("draws the glyphs of a CJK title: two titles of the same length differ where the title is", async () => {
    // A font without the glyphs draws each character as the same empty box, so two different
    // titles would look alike; with the CJK font they differ in hundreds of pixels.
    for (const [one, other] of [["夏日音乐俱乐部", "秋夜歌声合唱团"], ["ひらがなの歌", "カタカナの曲"], ["日別の使用状況", "每日用量统计表"]]) {
      const drawn = differingPixelsIn(await renderDailyUsageChartInProcess(days(7), { title: one!, metric: "requests" }), await renderDailyUsageChartInProcess(days(7), { title: other!, metric: "requests" }), TITLE_AREA);
      expect(drawn, `${one} / ${other}`).toBeGreaterThan(400);
      expect(differingPixelsIn(await withFonts(arimoOnly, one!), await withFonts(arimoOnly, other!), TITLE_AREA), `${one} without the CJK font`).toBe(0);
    }
  });

  it("writes the title and the legend in the catalog's words, in text bright on the card", async () => {
    const labels = { songs: "歌曲", analyses: "音频分析" };
    const chinese = await renderDailyUsageChartInProcess(days(7), { title: "每日用量 · 最近 7 天（UTC）", metric: "requests", labels });
    const empty = await renderDailyUsageChartInProcess(days(7), { title: "", metric: "requests", labels: { songs: "", analyses: "" } });
    expect(brightPixelsIn(chinese, TITLE_AREA)).toBeGreaterThan(300);
    expect(brightPixelsIn(empty, TITLE_AREA)).toBe(0);
    expect(differingPixelsIn(chinese, empty, LEGEND_AREA)).toBeGreaterThan(150);
    expect(differingPixelsIn(await withFonts(arimoOnly, "x", labels), await withFonts(arimoOnly, "x", { songs: "音乐", analyses: "分析音频" }), LEGEND_AREA)).toBe(0);
  });

  it("draws on a card of its own, the same on Discord's dark and light themes", async () => {
    const image = PNG.sync.read(await renderDailyUsageChartInProcess(days(7), { title: "每日用量", metric: "requests" }));
    for (const [x, y] of [[0, 0], [image.width - 1, 0], [0, image.height - 1], [image.width - 1, image.height - 1]]) {
      const i = (y! * image.width + x!) * 4;
      // Opaque and dark: nothing of the theme shows through, and the light text keeps its contrast.
      expect([...image.data.subarray(i, i + 4)]).toEqual([0x1e, 0x1f, 0x22, 255]);
    }
  });

  it("leaves out emoji, which no shipped font can draw, rather than drawing empty boxes", () => {
    expect(drawableText("夏日音乐俱乐部 🎵")).toBe("夏日音乐俱乐部");
    expect(drawableText("🇯🇵 Tokyo 👩‍🎤 Club ❤️")).toBe("Tokyo Club");
    expect(drawableText("Label© ®")).toBe("Label© ®");
    expect(svgTexts(buildDailyUsageChartSvg(days(3), { title: "Beats 🎧 Lounge", metric: "requests" }))).toContain("Beats Lounge");
  });
});

describe("fillDays", () => {
  it("fills days missing between the first and the last with zeros, oldest first", () => {
    const filled = fillDays([
      { day: "2025-03-04", songs: 2, analyses: 1, musicSeconds: 30, tokens: 100 },
      { day: "2025-02-27", songs: 1, analyses: 0, musicSeconds: 10, tokens: 0 },
    ]);
    expect(filled.map((d) => d.day)).toEqual([
      "2025-02-27", "2025-02-28", "2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04",
    ]);
    expect(filled[1]).toEqual({ day: "2025-02-28", songs: 0, analyses: 0, musicSeconds: 0, tokens: 0 });
    expect(filled[5]!.songs).toBe(2);
  });

  it("adds up a day given twice and counts negative or non-finite numbers as zero", () => {
    const filled = fillDays([
      { day: "2025-01-01", songs: 2, analyses: 1, musicSeconds: 30, tokens: 100 },
      { day: "2025-01-01", songs: 3, analyses: -4, musicSeconds: Number.NaN, tokens: Number.POSITIVE_INFINITY },
    ]);
    expect(filled).toEqual([{ day: "2025-01-01", songs: 5, analyses: 1, musicSeconds: 30, tokens: 100 }]);
  });

  it("rejects days that are not YYYY-MM-DD dates", () => {
    const point = { songs: 1, analyses: 0, musicSeconds: 0, tokens: 0 };
    expect(() => fillDays([{ ...point, day: "2025-02-30" }])).toThrow(TypeError);
    expect(() => fillDays([{ ...point, day: "2025-1-1" }])).toThrow(TypeError);
    expect(() => fillDays([{ ...point, day: "2025-01-01T00:00:00Z" }])).toThrow(TypeError);
  });

  it(`rejects a range longer than ${MAX_CHART_DAYS} days rather than drawing thousands of bars`, () => {
    const point = { songs: 1, analyses: 0, musicSeconds: 0, tokens: 0 };
    expect(() => fillDays([{ ...point, day: "1970-01-01" }, { ...point, day: "2025-01-01" }])).toThrow(RangeError);
  });
});
