import type { ReportPeriod } from "./periods.js";
import type { TopEntry, UsageReport, UsageTotals } from "./reports.js";
import { FEATURES } from "./schema.js";

/*
 * The usage report as plain text for a terminal (`npm run report`): aligned columns, no colours,
 * no box drawing, so it survives `less`, a log file and an e-mail. Pure.
 */

/** How a period reads in a heading. */
export const PERIOD_LABELS: Record<ReportPeriod, string> = {
  today: "today (UTC)",
  "7d": "the last 7 days (UTC)",
  "30d": "the last 30 days (UTC)",
  month: "this month (UTC)",
  all: "all time",
};

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const seconds = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
// Token prices are fractions of a cent per call, so small costs keep four decimals.
const money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 4 });

/**
 * Columns padded to their widest cell and two spaces apart; the first column is aligned left,
 * the others (figures) right. Trailing spaces are trimmed.
 */
export function formatTextTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? "";
        return column === 0 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** `2025-06-18 12:00 UTC` */
function utcMinute(at: Date): string {
  return `${at.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export type UsageReportTextInput = {
  report: UsageReport;
  /** Top members of a guild, or top guilds (`"dm"`: calls outside any guild) across all guilds. */
  top: readonly TopEntry[];
  topBy: "user" | "guild";
  /** What the report covers, e.g. `all guilds` or `guild 1234…`. */
  scopeLabel: string;
  /** Where the figures were read, e.g. `SQLite /srv/dashtune/data/dashtune.sqlite`. */
  sourceLabel: string;
  /** Calls that did not end `ok`, by outcome (see `failureCodes`). */
  failureCodes?: readonly { code: string; count: number }[] | undefined;
};

/**
 * The figures of the `/usage` report: a heading, totals per feature (calls, failures, music
 * seconds, tokens, estimated cost), the unpriced models, and the top members or guilds.
 */
export function formatUsageReportText(input: UsageReportTextInput): string {
  const { report, top, topBy } = input;
  const cost = `est. cost (${report.currency})`;
  const range = report.from === null ? `until ${utcMinute(report.to)}` : `${utcMinute(report.from)} – ${utcMinute(report.to)}`;
  const totalsRow = (label: string, t: UsageTotals): string[] => [
    label,
    integer.format(t.calls),
    integer.format(t.failures),
    seconds.format(t.musicSeconds),
    integer.format(t.inputTokens),
    integer.format(t.outputTokens),
    integer.format(t.audioTokens),
    money.format(t.estimatedCost),
  ];
  const lines = [
    `Usage of ${input.scopeLabel}, ${PERIOD_LABELS[report.period]}: ${range}`,
    `Read from ${input.sourceLabel}. Costs are estimates from the configured prices (PRICES_JSON).`,
    "",
    formatTextTable(
      ["feature", "calls", "failures", "music seconds", "input tokens", "output tokens", "audio tokens", cost],
      [...FEATURES.map((feature) => totalsRow(feature, report.byFeature[feature])), totalsRow("total", report.total)],
    ),
  ];
  const failures = input.failureCodes ?? [];
  if (failures.length > 0) {
    lines.push("", `Failures by outcome: ${failures.map((entry) => `${entry.code} × ${integer.format(entry.count)}`).join(", ")}`);
    if (failures.some((entry) => entry.code === "interrupted")) {
      lines.push("  interrupted: the call's outcome is unknown (a restart, a broken connection); DashScope may have charged for it");
    }
  }
  if (report.unpricedModels.length > 0) {
    lines.push("", `Models without a price (counted as zero in the costs): ${report.unpricedModels.join(", ")}`);
  }
  lines.push("", topBy === "user" ? "Top members by estimated cost" : "Top guilds by estimated cost (dm: outside any guild)");
  if (top.length === 0) {
    lines.push("  no calls in this period");
  } else {
    lines.push(
      formatTextTable(
        [topBy === "user" ? "member" : "guild", "calls", "failures", "music seconds", cost],
        top.map((entry) => [
          entry.id,
          integer.format(entry.calls),
          integer.format(entry.failures),
          seconds.format(entry.musicSeconds),
          money.format(entry.estimatedCost),
        ]),
      ),
    );
  }
  return `${lines.join("\n")}\n`;
}
