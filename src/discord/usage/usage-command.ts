import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import { z } from "zod";
import { UserError } from "../../errors.js";
import { choiceOf, describedAs, type CommandTextKey } from "../../i18n/commands.js";
import type { Logger } from "../../log.js";
import { renderDailyUsageChart, type UsageChartMetric } from "../../reports/usage-chart.js";
import {
  csvField,
  dailySeries,
  ledgerRows,
  memberReport,
  toCsv,
  topSpenders,
  usageReport,
  LEDGER_CSV_COLUMNS,
  REPORT_PERIODS,
  type DailyPoint,
  type LedgerRow,
  type ReportPeriod,
  type ReportScope,
  type UsageStore,
  failureCodes,
} from "../../usage/index.js";
import { discordLimits } from "../limits.js";
import type { HandlerContext, SlashCommand } from "../router.js";
import {
  chartText,
  formatInteger,
  formatMegabytes,
  memberUsageEmbed,
  usageReportEmbed,
  CHART_METRICS,
  USAGE_CHART_FILE_NAME,
  type Formatting,
} from "./layout.js";

/** Period choices; the values are the store's report periods. */
export const PERIOD_CHOICES = (["today", "7d", "30d", "month", "all"] as const satisfies readonly ReportPeriod[]).map((period) =>
  choiceOf(`usage.period.${period}`, period),
);

/** Chart metric choices; the values are the chart renderer's metrics. */
export const METRIC_CHOICES = (["requests", "musicSeconds", "tokens"] as const satisfies readonly UsageChartMetric[]).map((metric) =>
  choiceOf(`usage.metric.${metric}`, metric),
);

function periodOption(description: CommandTextKey) {
  return { type: ApplicationCommandOptionType.String as const, name: "period", ...describedAs(description), choices: PERIOD_CHOICES };
}

function metricOption() {
  return { type: ApplicationCommandOptionType.String as const, name: "metric", ...describedAs("usage.metric"), choices: METRIC_CHOICES };
}

/** `/usage`: no default permission, since `me` is for everyone; `server` and `all-servers` check who asks. */
export const usageCommandDefinition = {
  type: ApplicationCommandType.ChatInput,
  name: "usage",
  ...describedAs("usage.description"),
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "server",
      ...describedAs("usage.server"),
      options: [periodOption("usage.period.report"), metricOption(), { type: ApplicationCommandOptionType.Boolean, name: "csv", ...describedAs("usage.csv") }],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "me",
      ...describedAs("usage.me"),
      options: [periodOption("usage.period.count")],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "all-servers",
      ...describedAs("usage.allServers"),
      options: [periodOption("usage.period.report"), metricOption()],
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const periodSchema = z.enum(REPORT_PERIODS);
const metricSchema = z.enum(CHART_METRICS);

/** The chosen period (options arrive as text from the network, so they are checked). */
function periodOf(interaction: ChatInputCommandInteraction, fallback: ReportPeriod): ReportPeriod {
  return periodSchema.parse(interaction.options.getString("period") ?? fallback);
}

/** Members listed in a report are taken from this many biggest spenders (the rest are counted). */
const TOP_QUERY_LIMIT = 10_000;

/**
 * A CSV is built in memory before it is sent; past this size (or the interaction's upload limit,
 * whichever is smaller) the export is cut. A boosted server's limit can reach hundreds of MB,
 * more than is sensible to hold for one reply.
 */
export const CSV_MAX_BYTES = 25 * 1024 * 1024;
const CSV_PAGE_ROWS = 5_000;

export type LedgerCsv = { data: Buffer; rows: number; complete: boolean };

/**
 * The period's ledger rows as CSV, oldest first, at most `maxBytes` long: rows are read a page at
 * a time (`ledgerRows` with its `after` cursor) and the file stops at the last whole row that fits.
 */
export async function buildLedgerCsv(
  store: UsageStore,
  scope: ReportScope,
  period: ReportPeriod,
  maxBytes: number,
  pageRows = CSV_PAGE_ROWS,
): Promise<LedgerCsv> {
  const header = toCsv<LedgerRow>([], LEDGER_CSV_COLUMNS);
  const chunks = [header];
  let bytes = Buffer.byteLength(header);
  let rows = 0;
  let after: LedgerRow | undefined;
  for (;;) {
    const page = await ledgerRows(store, scope, period, { limit: pageRows, ...(after ? { after } : {}) });
    const body = toCsv(page, LEDGER_CSV_COLUMNS).slice(header.length);
    const pageBytes = Buffer.byteLength(body);
    if (bytes + pageBytes <= maxBytes) {
      chunks.push(body);
      bytes += pageBytes;
      rows += page.length;
    } else {
      // This page overflows: keep its rows one by one while they fit.
      for (const row of page) {
        const line = `${LEDGER_CSV_COLUMNS.map((column) => csvField(row[column])).join(",")}\r\n`;
        const lineBytes = Buffer.byteLength(line);
        if (bytes + lineBytes > maxBytes) return { data: Buffer.from(chunks.join("")), rows, complete: false };
        chunks.push(line);
        bytes += lineBytes;
        rows += 1;
      }
    }
    if (page.length < pageRows) return { data: Buffer.from(chunks.join("")), rows, complete: true };
    after = page[page.length - 1];
  }
}

/** `usage-<guild>-<period>.csv` */
export function csvFileName(guildId: string, period: ReportPeriod): string {
  return `usage-${guildId}-${period}.csv`;
}

export type UsageCommandDeps = {
  store: UsageStore;
  /** Discord user ids of the bot's owners (`OWNER_IDS`): only they may use `/usage all-servers`. */
  ownerIds: ReadonlySet<string>;
  /** Draws the daily chart; tests pass a stand-in. */
  renderChart?: typeof renderDailyUsageChart;
};

export function createUsageCommand(deps: UsageCommandDeps): SlashCommand {
  const { store, ownerIds } = deps;
  const renderChart = deps.renderChart ?? renderDailyUsageChart;

  /** The chart as a PNG, or undefined when drawing failed: the report goes out without it. */
  async function drawChart(points: DailyPoint[], period: ReportPeriod, metric: UsageChartMetric, f: Formatting, log: Logger): Promise<Buffer | undefined> {
    try {
      const { title, labels } = chartText(period, f.t);
      return await renderChart(points, { title, metric, labels, ...(f.locale ? { locale: f.locale } : {}) });
    } catch (error) {
      log.warn({ err: error, period, metric, days: points.length }, "usage chart could not be drawn; sending the report without it");
      return undefined;
    }
  }

  async function serverReport(interaction: ChatInputCommandInteraction, context: HandlerContext): Promise<void> {
    if (!interaction.guildId) throw new UserError("usage.guildOnly");
    // Discord's default permission can be overridden by server admins, so it is checked here too.
    if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) throw new UserError("usage.needsManageServer");
    const guildId = interaction.guildId;
    const period = periodOf(interaction, "30d");
    const metric = metricSchema.parse(interaction.options.getString("metric") ?? "requests");
    const wantsCsv = interaction.options.getBoolean("csv") ?? false;
    const f: Formatting = { t: context.t, locale: interaction.locale };

    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const scope = { guildId };
    const [report, top, series, failures] = await Promise.all([
      usageReport(store, scope, period),
      topSpenders(store, scope, period, { by: "user", limit: TOP_QUERY_LIMIT }),
      dailySeries(store, scope, period),
      failureCodes(store, scope, period),
    ]);
    const csvLimit = Math.min(interaction.attachmentSizeLimit ?? discordLimits.defaultAttachmentBytes, CSV_MAX_BYTES);
    const [chart, csv] = await Promise.all([
      drawChart(series, period, metric, f, context.log),
      wantsCsv ? buildLedgerCsv(store, scope, period, csvLimit) : Promise.resolve(undefined),
    ]);

    const notes: string[] = [];
    if (!chart) notes.push(f.t("usage.report.chartFailed"));
    if (csv?.complete === true) notes.push(f.t("usage.report.csvAttached", { rows: csv.rows, formatted: formatInteger(csv.rows, f.locale) }));
    if (csv?.complete === false) {
      notes.push(
        f.t("usage.report.csvCut", {
          rows: formatInteger(csv.rows, f.locale),
          total: formatInteger(Math.max(report.total.calls, csv.rows), f.locale),
          limitMb: formatMegabytes(csvLimit, f.locale),
        }),
      );
      context.log.info({ rows: csv.rows, bytes: csv.data.length, limit: csvLimit }, "usage CSV cut at the upload limit");
    }

    const embed = usageReportEmbed(
      { kind: "server", report, top, guildName: interaction.guild?.name ?? guildId, chartAttached: chart !== undefined, notes, failureCodes: failures },
      f,
    );
    await interaction.editReply({
      embeds: [embed],
      files: [
        ...(chart ? [{ attachment: chart, name: USAGE_CHART_FILE_NAME }] : []),
        ...(csv ? [{ attachment: csv.data, name: csvFileName(guildId, period) }] : []),
      ],
      allowedMentions: { parse: [] },
    });
    context.log.info({ period, metric, csvRows: csv?.rows, calls: report.total.calls }, "usage report sent");
  }

  async function allServersReport(interaction: ChatInputCommandInteraction, context: HandlerContext): Promise<void> {
    // Anyone may see the command in the list; only the owners get an answer.
    if (!ownerIds.has(interaction.user.id)) throw new UserError("usage.ownersOnly");
    const period = periodOf(interaction, "30d");
    const metric = metricSchema.parse(interaction.options.getString("metric") ?? "requests");
    const f: Formatting = { t: context.t, locale: interaction.locale };

    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const [report, top, series] = await Promise.all([
      usageReport(store, "all-guilds", period),
      topSpenders(store, "all-guilds", period, { by: "guild", limit: TOP_QUERY_LIMIT }),
      dailySeries(store, "all-guilds", period),
    ]);
    const chart = await drawChart(series, period, metric, f, context.log);
    const guildNames = new Map<string, string>();
    for (const entry of top) {
      const name = interaction.client.guilds.cache.get(entry.id)?.name;
      if (name !== undefined) guildNames.set(entry.id, name);
    }
    const embed = usageReportEmbed(
      {
        kind: "all-servers",
        report,
        top,
        guildNames,
        chartAttached: chart !== undefined,
        notes: chart ? [] : [f.t("usage.report.chartFailed")],
      },
      f,
    );
    await interaction.editReply({
      embeds: [embed],
      files: chart ? [{ attachment: chart, name: USAGE_CHART_FILE_NAME }] : [],
      allowedMentions: { parse: [] },
    });
    context.log.info({ period, metric, calls: report.total.calls, guilds: top.length }, "all-servers usage report sent");
  }

  async function ownUsage(interaction: ChatInputCommandInteraction, context: HandlerContext): Promise<void> {
    if (!interaction.guildId) throw new UserError("usage.guildOnly");
    const period = periodOf(interaction, "today");
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    const { usage, quota } = await memberReport(store, { guildId: interaction.guildId, userId: interaction.user.id }, period);
    await interaction.editReply({
      embeds: [memberUsageEmbed({ usage, quota }, { t: context.t, locale: interaction.locale })],
      allowedMentions: { parse: [] },
    });
  }

  return {
    definition: usageCommandDefinition,
    async execute(interaction: ChatInputCommandInteraction, context: HandlerContext) {
      switch (interaction.options.getSubcommand()) {
        case "server":
          return serverReport(interaction, context);
        case "all-servers":
          return allServersReport(interaction, context);
        case "me":
          return ownUsage(interaction, context);
        default:
          throw new Error(`unknown /usage subcommand ${interaction.options.getSubcommand()}`);
      }
    },
  };
}
