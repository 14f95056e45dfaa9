/**
 * Calendar arithmetic for quotas and reports. Everything is UTC: a "day" for a daily quota and a
 * report runs from 00:00 to 24:00 UTC, a "month" from the 1st 00:00 UTC.
 */

export const DAY_MS = 86_400_000;

/** UTC epoch day of a moment: `floor(ms / 86400000)`; the same expression buckets rows in SQL. */
export function dayKey(at: Date): number {
  return Math.floor(at.getTime() / DAY_MS);
}

/** `yyyymm` of a moment in UTC, e.g. 202506. */
export function monthKey(at: Date): number {
  return at.getUTCFullYear() * 100 + at.getUTCMonth() + 1;
}

export function startOfUtcDay(at: Date): Date {
  return new Date(dayKey(at) * DAY_MS);
}

export function startOfNextUtcDay(at: Date): Date {
  return new Date((dayKey(at) + 1) * DAY_MS);
}

export function startOfUtcMonth(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

export function startOfNextUtcMonth(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
}

/** `YYYY-MM-DD` of a UTC epoch day. */
export function isoDateOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export const REPORT_PERIODS = ["today", "7d", "30d", "month", "all"] as const;
/** Today (UTC), the last 7 or 30 UTC days including today, this UTC month, or everything. */
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

/** The moments a report period covers: from `from` (inclusive; `null` = the beginning) up to `to`. */
export function periodRange(period: ReportPeriod, now: Date): { from: Date | null; to: Date } {
  const today = dayKey(now);
  switch (period) {
    case "today":
      return { from: new Date(today * DAY_MS), to: now };
    case "7d":
      return { from: new Date((today - 6) * DAY_MS), to: now };
    case "30d":
      return { from: new Date((today - 29) * DAY_MS), to: now };
    case "month":
      return { from: startOfUtcMonth(now), to: now };
    case "all":
      return { from: null, to: now };
  }
}
