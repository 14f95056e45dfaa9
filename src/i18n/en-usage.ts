/** English text of the usage reports and quota commands (kept apart so it can grow on its own). */

const plural = (count: number, one: string, many: string) => (count === 1 ? one : many);
const two = (value: number) => String(value).padStart(2, "0");

export const enUsage = {
  // Who may use what
  "usage.guildOnly": () => "This command works only inside a server.",
  "usage.needsManageServer": () =>
    "Only members with the **Manage Server** permission can see this server's usage report. `/usage me` shows your own usage.",
  "usage.ownersOnly": () => "Only the bot's owners can see usage across all servers.",
  "limits.needsManageServer": () =>
    "Only members with the **Manage Server** permission can see or change this server's limits. `/usage me` shows what is left of yours.",

  // Periods, as they read inside a title: "Usage in X · the last 7 days"
  "usage.period.today": () => "today",
  "usage.period.7d": () => "the last 7 days",
  "usage.period.30d": () => "the last 30 days",
  "usage.period.month": () => "this month",
  "usage.period.all": () => "all time",

  // Durations of music (seconds, minutes and hours are whole numbers, already rounded)
  "usage.duration.seconds": (p: { seconds: number }) => `${p.seconds} s`,
  "usage.duration.minutes": (p: { minutes: number; seconds: number }) =>
    p.seconds === 0 ? `${p.minutes} min` : `${p.minutes} min ${two(p.seconds)} s`,
  "usage.duration.hours": (p: { hours: string; minutes: number }) =>
    p.minutes === 0 ? `${p.hours} h` : `${p.hours} h ${two(p.minutes)} min`,

  // Reports (/usage server, /usage all-servers, /usage me); numbers arrive formatted
  "usage.report.title.server": (p: { guild: string; period: string }) => `Usage in ${p.guild} · ${p.period}`,
  "usage.report.title.allServers": (p: { period: string }) => `Usage across all servers · ${p.period}`,
  "usage.report.title.member": (p: { period: string }) => `Your usage · ${p.period}`,
  "usage.report.since": (p: { from: string }) => `Since ${p.from}.`,
  "usage.report.allTime": () => "Everything recorded so far.",
  "usage.report.footer": () => "Costs are estimates from the configured prices, not the Alibaba Cloud bill. Days are UTC.",
  "usage.report.songs": () => "Songs",
  "usage.report.analyses": () => "Analyses",
  "usage.report.followUps": () => "Follow-up questions",
  "usage.report.calls": (p: { count: number; formatted: string }) => `**${p.formatted}** ${plural(p.count, "call", "calls")}`,
  "usage.report.music": (p: { duration: string }) => `${p.duration} of music`,
  "usage.report.tokens": (p: { tokens: string }) => `${p.tokens} tokens`,
  "usage.report.totals": () => "Totals",
  "usage.report.tokenBreakdown": (p: { input: string; output: string; audio: string }) =>
    `Tokens: ${p.input} input · ${p.output} output · ${p.audio} audio`,
  "usage.report.cost": () => "Estimated cost",
  "usage.report.noPrice": (p: { models: string }) => `No price configured for ${p.models}, so there is no estimate.`,
  "usage.report.unpricedModels": (p: { models: string }) => `Not included, no price configured: ${p.models}`,
  "usage.report.failures": () => "Failures",
  "usage.report.failuresValue": (p: { failures: string; calls: string; percent: string }) =>
    `${p.failures} of ${p.calls} calls (${p.percent})`,
  "usage.report.noFailures": () => "None",
  "usage.report.failureCode": (p: { code: string; count: string }) => `\`${p.code}\` × ${p.count}`,
  "usage.report.interrupted": (p: { count: string }) =>
    `⚠️ ${p.count} interrupted: the bot lost track of the call (a restart, a broken connection), and DashScope may have charged for it.`,
  "usage.report.topMembers": () => "Top members",
  "usage.report.topServers": () => "Top servers",
  "usage.report.nobody": () => "Nobody used the bot in this period.",
  "usage.report.entry": (p: { rank: number; who: string; figures: string }) => `${p.rank}. ${p.who} · ${p.figures}`,
  "usage.report.andMore": (p: { count: number }) => `…and ${p.count} more`,
  "usage.report.directMessages": () => "Direct messages",
  "usage.report.chartFailed": () => "The chart could not be drawn this time; the figures are complete.",
  "usage.report.csvAttached": (p: { rows: number; formatted: string }) =>
    `The CSV export holds all ${p.formatted} ${plural(p.rows, "row", "rows")} of the period.`,
  "usage.report.csvCut": (p: { rows: string; total: string; limitMb: string }) =>
    `The CSV export holds only the oldest ${p.rows} of ${p.total} rows: a file here can be at most ${p.limitMb} MB. Pick a shorter period for the rest.`,

  // The chart's words (drawn into the PNG)
  "usage.chart.title": (p: { period: string }) => `Daily usage · ${p.period} (UTC)`,
  "usage.chart.songs": () => "Songs",
  "usage.chart.analyses": () => "Analyses",
  "usage.chart.requests": () => "Requests",
  "usage.chart.musicSeconds": () => "Music (seconds)",
  "usage.chart.musicMinutes": () => "Music (minutes)",
  "usage.chart.musicHours": () => "Music (hours)",
  "usage.chart.tokens": () => "Tokens",
  "usage.chart.noUsage": () => "No usage in this period",

  // What is left of a member's quota (/usage me)
  "usage.quota.leftToday": () => "Left today",
  "usage.quota.serverThisMonth": () => "This server this month",
  "usage.quota.songs": () => "Songs",
  "usage.quota.music": () => "Music",
  "usage.quota.analyses": () => "Analyses and follow-ups",
  "usage.quota.cost": () => "Estimated cost",
  "usage.quota.left": (p: { what: string; left: string; limit: string }) => `${p.what}: **${p.left}** of ${p.limit} left`,
  "usage.quota.noLimit": (p: { what: string; used: string }) => `${p.what}: no limit (${p.used} used)`,
  "usage.quota.resets": (p: { when: string }) => `Resets ${p.when}.`,
  "usage.quota.nextSong": (p: { when: string }) => `Your next song can start ${p.when}.`,
  "usage.quota.footer": () => "Quotas count finished calls and calls in progress; failed calls are given back. Days and months are UTC.",

  // /limits
  "limits.name.userDailySongs": () => "Songs per member per day",
  "limits.name.userDailyMusicSeconds": () => "Music per member per day",
  "limits.name.userDailyAnalyses": () => "Analyses per member per day",
  "limits.name.guildMonthlyMusicSeconds": () => "Music per server per month",
  "limits.name.guildMonthlyCost": () => "Cost budget per server per month",
  "limits.name.songCooldownSeconds": () => "Cooldown between a member's songs",
  "limits.title": () => "Limits in this server",
  "limits.description": () =>
    "Days and months are UTC. Change a limit with `/limits set`; the value `default` puts it back to the bot's default.",
  "limits.default": () => "Default",
  "limits.overridden": (p: { default: string }) => `Set for this server (default: ${p.default})`,
  "limits.unlimited": () => "Unlimited",
  "limits.noCooldown": () => "No cooldown",
  "limits.songs": (p: { count: number; formatted: string }) => `${p.formatted} ${plural(p.count, "song", "songs")}`,
  "limits.analyses": (p: { count: number; formatted: string }) => `${p.formatted} ${plural(p.count, "analysis", "analyses")}`,
  "limits.seconds": (p: { duration: string; seconds: string }) => `${p.duration} (${p.seconds} s)`,
  "limits.saved": (p: { name: string; value: string }) => `**${p.name}** is now **${p.value}** in this server.`,
  "limits.savedDefault": (p: { name: string; value: string }) => `**${p.name}** is back to the bot's default: **${p.value}**.`,
  "limits.value.notANumber": (p: { value: string }) =>
    `I don't understand the value “${p.value}”. Give a number such as \`20\`, or \`unlimited\`, or \`default\`.`,
  "limits.value.notWhole": (p: { name: string }) => `**${p.name}** must be a whole number.`,
  "limits.value.negative": (p: { name: string }) => `**${p.name}** can't be negative.`,
  "limits.value.tooLarge": (p: { name: string; max: string }) => `**${p.name}** can be at most ${p.max}.`,
  "limits.value.notUnlimited": (p: { name: string }) =>
    `**${p.name}** can't be unlimited: give a number of seconds (\`0\` turns the cooldown off), or \`default\`.`,
} satisfies Record<string, (params: never) => string>;

/**
 * What a translation of the usage text must be: every key, each taking exactly English's
 * parameters (a translation may ignore one, e.g. a count English needs only for its plural).
 */
export type UsageCatalog = { [K in keyof typeof enUsage]: (typeof enUsage)[K] };
