import { INTERRUPTED_OUTCOME } from "../../usage/call-ledger.js";
import { TimestampStyles, time, type APIEmbed, type APIEmbedField } from "discord.js";
import type { MessageKey } from "../../i18n/index.js";
import type { UsageChartLabels, UsageChartMetric } from "../../reports/usage-chart.js";
import type {
  Allowance,
  Feature,
  GuildQuotaSettings,
  QuotaSettingName,
  QuotaSettings,
  QuotaStatus,
  ReportPeriod,
  TopEntry,
  UsageReport,
  UsageTotals,
} from "../../usage/index.js";
import type { LocalTranslate } from "../failure-text.js";
import { discordLimits, ellipsize } from "../limits.js";
import { escapeUserMarkdown } from "../markdown.js";
import { embedCharacterCount } from "../song/layout.js";
import { formatCompact, formatCost, formatInteger, formatPercent } from "../../i18n/format.js";

/*
 * How the usage reports and limits look in Discord: pure functions from the usage store's figures
 * to embeds, every text through i18n and every embed within Discord's limits. Numbers follow the
 * user's Discord locale; durations and units come from the message catalog.
 */

/** A translator and the Discord locale (`interaction.locale`) numbers are written in. */
export type Formatting = { t: LocalTranslate; locale: string | undefined };

/** Colour of the report embeds. */
const reportColor = 0x5865f2;

/** Name of the chart attachment, referenced by the report embed as `attachment://usage.png`. */
export const USAGE_CHART_FILE_NAME = "usage.png";

/** At most this many members or servers are listed; the rest are counted ("…and 12 more"). */
export const TOP_LIST_LENGTH = 10;

// ---------------------------------------------------------------------------------------------
// Numbers, money, durations, times

// The figures themselves are written by the one formatting module, shared with the catalogs.
export { formatCompact, formatCost, formatInteger, formatMegabytes, formatPercent } from "../../i18n/format.js";

/** Music time, whole seconds: `45 s`, `12 min 05 s`, `1 h 02 min` (seconds dropped past an hour). */
export function formatMusicDuration(seconds: number, f: Formatting): string {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return f.t("usage.duration.seconds", { seconds: total });
  if (total < 3600) return f.t("usage.duration.minutes", { minutes: Math.floor(total / 60), seconds: total % 60 });
  const minutes = Math.round(total / 60);
  return f.t("usage.duration.hours", { hours: formatInteger(Math.floor(minutes / 60), f.locale), minutes: minutes % 60 });
}

/** A Discord timestamp (`<t:1718000000:R>`): each reader sees it in their own time zone and language. */
export function discordTimestamp(at: Date, style: "relative" | "dateTime" = "relative"): string {
  return time(Math.floor(at.getTime() / 1000), style === "relative" ? TimestampStyles.RelativeTime : TimestampStyles.ShortDateTime);
}

const periodKeys = {
  today: "usage.period.today",
  "7d": "usage.period.7d",
  "30d": "usage.period.30d",
  month: "usage.period.month",
  all: "usage.period.all",
} as const satisfies Record<ReportPeriod, MessageKey>;

export function periodLabel(period: ReportPeriod, t: LocalTranslate): string {
  return t(periodKeys[period]);
}

/** The chart's words in the user's language, and its title. */
export function chartText(period: ReportPeriod, t: LocalTranslate): { title: string; labels: UsageChartLabels } {
  return {
    title: t("usage.chart.title", { period: periodLabel(period, t) }),
    labels: {
      songs: t("usage.chart.songs"),
      analyses: t("usage.chart.analyses"),
      requests: t("usage.chart.requests"),
      musicSeconds: t("usage.chart.musicSeconds"),
      musicMinutes: t("usage.chart.musicMinutes"),
      musicHours: t("usage.chart.musicHours"),
      tokens: t("usage.chart.tokens"),
      noUsage: t("usage.chart.noUsage"),
    },
  };
}

export const CHART_METRICS = ["requests", "musicSeconds", "tokens"] as const satisfies readonly UsageChartMetric[];

// ---------------------------------------------------------------------------------------------
// Lists within a length

/**
 * Joins lines up to `max` characters and `maxLines` lines; what does not fit is counted in a last
 * line from `more(n)`. The result is never longer than `max`.
 */
export function fitLines(lines: readonly string[], max: number, more: (count: number) => string, maxLines = Number.POSITIVE_INFINITY): string {
  const kept: string[] = [];
  for (const line of lines) {
    const candidate = [...kept, line];
    const rest = lines.length - candidate.length;
    const text = candidate.join("\n") + (rest > 0 ? `\n${more(rest)}` : "");
    if (candidate.length > maxLines || text.length > max) break;
    kept.push(line);
  }
  const rest = lines.length - kept.length;
  const text = rest > 0 ? [...kept, more(rest)].join("\n") : kept.join("\n");
  return ellipsize(text, max);
}

function field(name: string, value: string, inline = false): APIEmbedField {
  return {
    name: ellipsize(name, discordLimits.embedFieldName),
    // A field's value may not be empty.
    value: ellipsize(value === "" ? "\u200b" : value, discordLimits.embedFieldValue),
    inline,
  };
}

/** Names that someone typed (a server's) shown as written, on one line, short enough for a list. */
function displayName(name: string): string {
  return escapeUserMarkdown(ellipsize(name.replace(/\s+/g, " ").trim(), 60));
}

// ---------------------------------------------------------------------------------------------
// The /usage report (a server, or all servers)

export type UsageReportView = {
  kind: "server" | "all-servers";
  report: UsageReport;
  /** Biggest spenders first: members (`kind: "server"`) or guilds (`"all-servers"`, `"dm"` = direct messages). */
  top: readonly TopEntry[];
  /** The server's name, for a `"server"` report's title. */
  guildName?: string | undefined;
  /** Names of the guilds the bot is still in, by id, for the top-servers list. */
  guildNames?: ReadonlyMap<string, string> | undefined;
  /** Most frequent error codes of failed calls, if known. */
  failureCodes?: readonly { code: string; count: number }[] | undefined;
  /** Whether the chart image is attached (as {@link USAGE_CHART_FILE_NAME}). */
  chartAttached: boolean;
  /** Lines added to the description: the chart failed, the CSV was cut… */
  notes?: readonly string[] | undefined;
};

/** Whether any of the report's cost is known: false when every model used has no price. */
export function hasPricedUsage(report: UsageReport): boolean {
  return report.unpricedModels.length === 0 || report.total.estimatedCost > 0;
}

function modelList(models: readonly string[]): string {
  return models.map((model) => `\`${model.replaceAll("`", "'")}\``).join(", ");
}

/** Calls, music or tokens, and cost of one feature, one figure a line. */
function featureLines(feature: Feature, totals: UsageTotals, currency: string | undefined, f: Formatting): string {
  const { t, locale } = f;
  const lines = [t("usage.report.calls", { count: totals.calls, formatted: formatInteger(totals.calls, locale) })];
  if (feature === "song" || totals.musicSeconds > 0) {
    lines.push(t("usage.report.music", { duration: formatMusicDuration(totals.musicSeconds, f) }));
  }
  if (feature !== "song") {
    const tokens = totals.inputTokens + totals.outputTokens + totals.audioTokens;
    lines.push(t("usage.report.tokens", { tokens: formatCompact(tokens, locale) }));
  }
  if (currency !== undefined) lines.push(formatCost(totals.estimatedCost, currency, locale));
  return lines.join("\n");
}

const featureNameKeys = {
  song: "usage.report.songs",
  analysis: "usage.report.analyses",
  "follow-up": "usage.report.followUps",
} as const satisfies Record<Feature, MessageKey>;

function featureFields(report: UsageReport, withCost: boolean, f: Formatting): APIEmbedField[] {
  const currency = withCost && hasPricedUsage(report) ? report.currency : undefined;
  return (Object.keys(featureNameKeys) as Feature[]).map((feature) =>
    field(f.t(featureNameKeys[feature]), featureLines(feature, report.byFeature[feature], currency, f), true),
  );
}

function totalsValue(total: UsageTotals, f: Formatting): string {
  const { t, locale } = f;
  const calls = t("usage.report.calls", { count: total.calls, formatted: formatInteger(total.calls, locale) });
  const music = t("usage.report.music", { duration: formatMusicDuration(total.musicSeconds, f) });
  const tokens = t("usage.report.tokenBreakdown", {
    input: formatCompact(total.inputTokens, locale),
    output: formatCompact(total.outputTokens, locale),
    audio: formatCompact(total.audioTokens, locale),
  });
  return `${calls} · ${music}\n${tokens}`;
}

/** The estimated cost, or why there is none, and which models it leaves out. */
export function costValue(report: UsageReport, f: Formatting): string {
  const { t, locale } = f;
  if (!hasPricedUsage(report)) return t("usage.report.noPrice", { models: modelList(report.unpricedModels) });
  const cost = `**${formatCost(report.total.estimatedCost, report.currency, locale)}**`;
  if (report.unpricedModels.length === 0) return cost;
  return `${cost}\n${t("usage.report.unpricedModels", { models: modelList(report.unpricedModels) })}`;
}

export function failuresValue(total: UsageTotals, codes: readonly { code: string; count: number }[] | undefined, f: Formatting): string {
  const { t, locale } = f;
  if (total.failures === 0) return t("usage.report.noFailures");
  const summary = t("usage.report.failuresValue", {
    failures: formatInteger(total.failures, locale),
    calls: formatInteger(total.calls, locale),
    percent: formatPercent(total.calls === 0 ? 0 : total.failures / total.calls, locale),
  });
  if (!codes || codes.length === 0) return summary;
  // Interrupted calls may have been charged, unlike the others: an admin reads them apart.
  const interrupted = codes.find((entry) => entry.code === INTERRUPTED_OUTCOME);
  const others = codes.filter((entry) => entry.code !== INTERRUPTED_OUTCOME);
  const interruptedLine = interrupted ? `\n${t("usage.report.interrupted", { count: formatInteger(interrupted.count, locale) })}` : "";
  if (others.length === 0) return `${summary}${interruptedLine}`;
  const list = others
    .slice(0, 5)
    .map((entry) => t("usage.report.failureCode", { code: entry.code.replaceAll("`", "'").slice(0, 60), count: formatInteger(entry.count, locale) }));
  return `${summary}${interruptedLine}\n${list.join(", ")}`;
}

/** Who an entry of a top list is: a member mention, or a server's name and id. */
function whoOf(entry: TopEntry, view: Pick<UsageReportView, "kind" | "guildNames">, t: LocalTranslate): string {
  // Mentions render as names inside embeds and never ping (every reply sets allowedMentions).
  if (view.kind === "server") return `<@${entry.id}>`;
  if (entry.id === "dm") return t("usage.report.directMessages");
  const name = view.guildNames?.get(entry.id);
  return name === undefined ? `\`${entry.id}\`` : `**${displayName(name)}** (\`${entry.id}\`)`;
}

function topValue(view: UsageReportView, withCost: boolean, f: Formatting, max: number): string {
  const { t, locale } = f;
  if (view.top.length === 0) return t("usage.report.nobody");
  const lines = view.top.map((entry, index) => {
    const figures = [
      ...(withCost ? [formatCost(entry.estimatedCost, view.report.currency, locale)] : []),
      t("usage.report.calls", { count: entry.calls, formatted: formatInteger(entry.calls, locale) }),
      ...(entry.musicSeconds > 0 ? [formatMusicDuration(entry.musicSeconds, f)] : []),
    ].join(" · ");
    return t("usage.report.entry", { rank: index + 1, who: whoOf(entry, view, t), figures });
  });
  return fitLines(lines, max, (count) => t("usage.report.andMore", { count }), TOP_LIST_LENGTH);
}

function periodDescription(report: UsageReport, notes: readonly string[] | undefined, t: LocalTranslate): string {
  const since = report.from === null ? t("usage.report.allTime") : t("usage.report.since", { from: discordTimestamp(report.from, "dateTime") });
  return ellipsize([since, ...(notes ?? [])].join("\n"), discordLimits.embedDescription);
}

/**
 * The admins' report: totals per feature, music, tokens, estimated cost, failures, top members or
 * servers, the chart as the embed's image. One embed within every Discord limit: the top list
 * gets whatever room the rest leaves.
 */
export function usageReportEmbed(view: UsageReportView, f: Formatting): APIEmbed {
  const { t } = f;
  const { report } = view;
  const period = periodLabel(report.period, t);
  const title =
    view.kind === "server"
      ? t("usage.report.title.server", { guild: displayName(view.guildName ?? ""), period })
      : t("usage.report.title.allServers", { period });
  const withCost = hasPricedUsage(report);

  const embed: APIEmbed = {
    title: ellipsize(title, discordLimits.embedTitle),
    color: reportColor,
    description: periodDescription(report, view.notes, t),
    fields: [
      ...featureFields(report, true, f),
      field(t("usage.report.totals"), totalsValue(report.total, f)),
      field(t("usage.report.cost"), costValue(report, f), true),
      field(t("usage.report.failures"), failuresValue(report.total, view.failureCodes, f), true),
    ],
    footer: { text: t("usage.report.footer") },
  };
  if (view.chartAttached) embed.image = { url: `attachment://${USAGE_CHART_FILE_NAME}` };

  const topName = t(view.kind === "server" ? "usage.report.topMembers" : "usage.report.topServers");
  const room = discordLimits.embedTotalCharacters - embedCharacterCount(embed) - topName.length;
  const top = field(topName, topValue(view, withCost, f, Math.max(1, Math.min(discordLimits.embedFieldValue, room))));
  embed.fields = [...(embed.fields ?? []), top];
  return embed;
}

// ---------------------------------------------------------------------------------------------
// A member's own usage and quota (/usage me)

export type MemberUsageView = { usage: UsageReport; quota: QuotaStatus };

function allowanceLine(what: string, allowance: Allowance, format: (value: number) => string, t: LocalTranslate): string {
  if (allowance.limit === null || allowance.remaining === null) return t("usage.quota.noLimit", { what, used: format(allowance.used) });
  return t("usage.quota.left", { what, left: format(allowance.remaining), limit: format(allowance.limit) });
}

/** The member's usage in the period (no costs: those are the admins'), and what is left of the quotas. */
export function memberUsageEmbed(view: MemberUsageView, f: Formatting): APIEmbed {
  const { t, locale } = f;
  const { usage, quota } = view;
  const count = (value: number) => formatInteger(value, locale);
  const music = (value: number) => formatMusicDuration(value, f);
  const money = (value: number) => formatCost(value, quota.guild.currency, locale);

  const today = [
    allowanceLine(t("usage.quota.songs"), quota.member.songs, count, t),
    allowanceLine(t("usage.quota.music"), quota.member.musicSeconds, music, t),
    allowanceLine(t("usage.quota.analyses"), quota.member.analyses, count, t),
    t("usage.quota.resets", { when: discordTimestamp(quota.member.resetsAt) }),
  ];
  if (quota.nextSongAt) today.push(t("usage.quota.nextSong", { when: discordTimestamp(quota.nextSongAt) }));

  const month = [allowanceLine(t("usage.quota.music"), quota.guild.musicSeconds, music, t)];
  // A cost line only when there is a budget: without one, the server's spending is the admins' business.
  if (quota.guild.cost.limit !== null) month.push(allowanceLine(t("usage.quota.cost"), quota.guild.cost, money, t));
  month.push(t("usage.quota.resets", { when: discordTimestamp(quota.guild.resetsAt) }));

  return {
    title: ellipsize(t("usage.report.title.member", { period: periodLabel(usage.period, t) }), discordLimits.embedTitle),
    color: reportColor,
    description: periodDescription(usage, undefined, t),
    fields: [
      ...featureFields(usage, false, f),
      field(t("usage.quota.leftToday"), today.join("\n")),
      field(t("usage.quota.serverThisMonth"), month.join("\n")),
    ],
    footer: { text: t("usage.quota.footer") },
  };
}

// ---------------------------------------------------------------------------------------------
// /limits

export const limitNameKeys = {
  userDailySongs: "limits.name.userDailySongs",
  userDailyMusicSeconds: "limits.name.userDailyMusicSeconds",
  userDailyAnalyses: "limits.name.userDailyAnalyses",
  guildMonthlyMusicSeconds: "limits.name.guildMonthlyMusicSeconds",
  guildMonthlyCost: "limits.name.guildMonthlyCost",
  songCooldownSeconds: "limits.name.songCooldownSeconds",
} as const satisfies Record<QuotaSettingName, MessageKey>;

export function limitLabel(name: QuotaSettingName, t: LocalTranslate): string {
  return t(limitNameKeys[name]);
}

/** A limit's value in words: `10 songs`, `20 min (1,200 s)`, `CNY 50.00`, `Unlimited`, `No cooldown`. */
export function formatLimitValue(name: QuotaSettingName, value: number | null, currency: string, f: Formatting): string {
  const { t, locale } = f;
  if (value === null) return t("limits.unlimited");
  switch (name) {
    case "userDailySongs":
      return t("limits.songs", { count: value, formatted: formatInteger(value, locale) });
    case "userDailyAnalyses":
      return t("limits.analyses", { count: value, formatted: formatInteger(value, locale) });
    case "userDailyMusicSeconds":
    case "guildMonthlyMusicSeconds": {
      const duration = formatMusicDuration(value, f);
      // Admins type seconds, so the seconds are shown beside the friendlier duration.
      return value < 60 ? duration : t("limits.seconds", { duration, seconds: formatInteger(value, locale) });
    }
    case "guildMonthlyCost":
      return formatCost(value, currency, locale);
    case "songCooldownSeconds":
      return value === 0 ? t("limits.noCooldown") : formatMusicDuration(value, f);
  }
}

/** The guild's effective limits, each marked as the default or as this server's own setting. */
export function limitsEmbed(settings: GuildQuotaSettings, defaults: QuotaSettings, currency: string, f: Formatting): APIEmbed {
  const { t } = f;
  const names = Object.keys(limitNameKeys) as QuotaSettingName[];
  return {
    title: t("limits.title"),
    color: reportColor,
    description: t("limits.description"),
    fields: names.map((name) => {
      const value = `**${formatLimitValue(name, settings.effective[name], currency, f)}**`;
      const overridden = settings.overrides[name] !== undefined;
      const origin = overridden
        ? t("limits.overridden", { default: formatLimitValue(name, defaults[name], currency, f) })
        : t("limits.default");
      return field(limitLabel(name, t), `${value}\n${origin}`, true);
    }),
  };
}
