import { createWriteStream, existsSync } from "node:fs";
import { once } from "node:events";
import { resolve } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { parseArgs } from "node:util";
import {
  failureCodes,
  LEDGER_CSV_COLUMNS,
  REPORT_PERIODS,
  ledgerRows,
  openUsageStore,
  parseUsageConfig,
  toCsv,
  topSpenders,
  usageReport,
  type DatabaseTarget,
  type LedgerRow,
  type ReportPeriod,
  type ReportScope,
  type UsageStore,
} from "./usage/index.js";
import { guildNamesOf } from "./usage/guild-names.js";
import { formatUsageReportText } from "./usage/report-text.js";

/**
 * `npm run report`: the figures of the `/usage` report, from a terminal, for operators.
 *
 * Reads the bot's environment (`.env` in the working directory, then the process environment) but
 * only the usage store's part of it, so it runs without DISCORD_TOKEN or DASHSCOPE_API_KEY.
 * Standard output carries only the report (or the CSV), so it can be redirected; messages go to
 * standard error. Exit codes: 0 done, 1 the report could not be made (settings, database),
 * 2 the command line was wrong.
 */

const USAGE = `usage: npm run --silent report -- [--since today|7d|30d|month|all] [--guild ID|dm] [--format table|csv] [--output FILE]

  --since   period to report (UTC days): today, 7d, 30d (default), month (this month), all
  --guild   one guild's figures and top members; without it, all guilds and the top guilds.
            "dm" means calls made outside any guild
  --format  table (default): totals per feature, music seconds, tokens, estimated cost,
            failures, top members or guilds. csv: every ledger row of the period
  --output  write to FILE instead of standard output
  --help    show this text

Reads DATABASE_URL and PRICES_JSON from .env or the environment, as the bot does.
Use npm's --silent (or node dist/src/report-cli.js) when redirecting: npm prints its own banner
on standard output otherwise.
`;

const PAGE_ROWS = 10_000;
const SNOWFLAKE = /^\d{17,20}$/;

/** The command line was wrong: exit code 2. */
class CommandLineError extends Error {}

type ReportRequest = {
  period: ReportPeriod;
  /** `undefined`: every guild; `null`: calls outside any guild. */
  guildId: string | null | undefined;
  format: "table" | "csv";
  output: string | undefined;
};

function parseCommandLine(argv: string[]): ReportRequest | "help" {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        since: { type: "string" },
        guild: { type: "string" },
        format: { type: "string" },
        output: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new CommandLineError(describeParseError(error));
  }
  if (values.help) return "help";

  const since = values.since ?? "30d";
  if (!(REPORT_PERIODS as readonly string[]).includes(since)) {
    throw new CommandLineError(`--since must be one of ${REPORT_PERIODS.join(", ")}; got ${JSON.stringify(since)}`);
  }
  let guildId: string | null | undefined;
  if (values.guild !== undefined) {
    const guild = values.guild.trim();
    if (guild !== "dm" && !SNOWFLAKE.test(guild)) {
      throw new CommandLineError(`--guild must be a Discord server id (17–20 digits) or "dm"; got ${JSON.stringify(values.guild)}`);
    }
    guildId = guild === "dm" ? null : guild;
  }
  const format = values.format ?? "table";
  if (format !== "table" && format !== "csv") {
    throw new CommandLineError(`--format must be table or csv; got ${JSON.stringify(format)}`);
  }
  if (values.output !== undefined && values.output.trim() === "") throw new CommandLineError("--output needs a file name");
  return { period: since as ReportPeriod, guildId, format, output: values.output };
}

/** parseArgs' own messages are long and suggest things that make no sense here. */
function describeParseError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${quoted}`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      // `npm run report --since 30d` (no `--`) lets npm take the option and leaves its value here.
      return `unexpected argument ${JSON.stringify(quoted)}; with npm, put -- before the options: npm run report -- --since 30d`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return `${quoted.replace(/ <value>$/, "")} needs a value`;
    default:
      return message.split("\n")[0] ?? message;
  }
}

/** Where the figures come from, without the password a PostgreSQL URL may hold. */
function describeTarget(target: DatabaseTarget): string {
  if (target.dialect === "sqlite") return `SQLite ${target.path === ":memory:" ? ":memory:" : resolve(target.path)}`;
  try {
    const url = new URL(target.connectionString);
    return `PostgreSQL ${url.host}${url.pathname}`;
  } catch {
    return "PostgreSQL";
  }
}

/** Writes to the output, waiting when it is full (a CSV of a million rows is ~150 MB). */
async function write(output: Writable, text: string): Promise<void> {
  if (!output.write(text)) await once(output, "drain");
}

async function writeTable(store: UsageStore, request: ReportRequest, sourceLabel: string, output: Writable): Promise<void> {
  const scope: ReportScope = request.guildId === undefined ? "all-guilds" : { guildId: request.guildId };
  const topBy = request.guildId === undefined ? "guild" : "user";
  const [report, top, failures] = await Promise.all([
    usageReport(store, scope, request.period),
    topSpenders(store, scope === "all-guilds" ? "all-guilds" : { guildId: scope.guildId }, request.period, { by: topBy }),
    failureCodes(store, scope, request.period),
  ]);
  // Names as the bot last saw them (it keeps them as it connects and as servers are renamed).
  const guildIds = topBy === "guild" ? top.map((entry) => entry.id) : request.guildId ? [request.guildId] : [];
  const names = await guildNamesOf(store, guildIds);
  const named = (id: string) => {
    const name = names.get(id);
    if (name === undefined) return id;
    // Discord allows 100 characters; a column that wide would push the figures off the screen.
    const oneLine = name.replace(/\s+/g, " ").trim();
    return `${oneLine.length > 40 ? `${oneLine.slice(0, 39)}…` : oneLine} (${id})`;
  };
  const scopeLabel =
    request.guildId === undefined ? "all guilds" : request.guildId === null ? "calls outside any guild" : `guild ${named(request.guildId)}`;
  const labelledTop = topBy === "guild" ? top.map((entry) => ({ ...entry, id: named(entry.id) })) : top;
  await write(output, formatUsageReportText({ report, top: labelledTop, topBy, scopeLabel, sourceLabel, failureCodes: failures }));
}

/** Every ledger row of the period, oldest first, one page at a time, under a single header. */
async function writeCsv(store: UsageStore, request: ReportRequest, output: Writable): Promise<number> {
  const scope: ReportScope = request.guildId === undefined ? "all-guilds" : { guildId: request.guildId };
  let after: LedgerRow | undefined;
  let count = 0;
  for (;;) {
    const page = await ledgerRows(store, scope, request.period, after === undefined ? { limit: PAGE_ROWS } : { limit: PAGE_ROWS, after });
    const csv = toCsv(page, LEDGER_CSV_COLUMNS);
    // toCsv always starts with the header line; only the first page keeps it.
    await write(output, count === 0 ? csv : csv.slice(csv.indexOf("\r\n") + 2));
    count += page.length;
    after = page.at(-1);
    if (page.length < PAGE_ROWS) return count;
  }
}

/**
 * One line, whatever was thrown: no stack; the causes appended (the store wraps a refused
 * connection in "migration failed"); something even for an AggregateError without a message
 * (node-postgres when `localhost` resolves to both ::1 and 127.0.0.1 and both refuse).
 */
function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (current instanceof AggregateError && current.message === "" && current.errors.length > 0) current = current.errors[0];
    if (current instanceof Error) {
      const text = current.message || (current as NodeJS.ErrnoException).code || current.name;
      parts.push(text.split("\n")[0] ?? text);
      current = current.cause;
    } else {
      parts.push(String(current));
      break;
    }
  }
  return parts.join(": ");
}

async function runReport(argv: string[]): Promise<number> {
  let request: ReportRequest | "help";
  try {
    request = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    process.stderr.write(`report: ${error.message} (see --help)\n`);
    return 2;
  }
  if (request === "help") {
    process.stdout.write(USAGE);
    return 0;
  }

  const { config: loadEnvFile } = await import("dotenv");
  loadEnvFile({ quiet: true });
  const parsed = parseUsageConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(`report: fix these settings (see .env.example): ${parsed.problems.join("; ")}\n`);
    return 1;
  }
  const target = parsed.config.database;
  if (target.dialect === "sqlite") {
    // Opening a missing file would create an empty ledger and print zeros: more likely the wrong folder.
    if (target.path === ":memory:") {
      process.stderr.write("report: DATABASE_URL names an in-memory database, which holds no usage to report\n");
      return 1;
    }
    if (!existsSync(target.path)) {
      process.stderr.write(
        `report: no usage database at ${resolve(target.path)}; run this in the bot's folder or set DATABASE_URL as the bot has it\n`,
      );
      return 1;
    }
  }

  let output: Writable = process.stdout;
  if (request.output !== undefined) {
    const file = createWriteStream(request.output);
    try {
      await once(file, "open");
    } catch (error) {
      process.stderr.write(`report: cannot write ${request.output}: ${describeError(error)}\n`);
      return 1;
    }
    output = file;
  }

  const sourceLabel = describeTarget(target);
  let store: UsageStore | undefined;
  try {
    store = await openUsageStore({
      target,
      prices: parsed.config.prices,
      quotaDefaults: parsed.config.quotaDefaults,
      reservationTtlMs: parsed.config.reservationTtlMs,
      poolSize: 2,
      onBackgroundError: (error) => process.stderr.write(`report: database: ${describeError(error)}\n`),
    });
    if (request.format === "table") {
      await writeTable(store, request, sourceLabel, output);
    } else {
      const rows = await writeCsv(store, request, output);
      if (request.output !== undefined) process.stderr.write(`report: wrote ${rows} rows to ${request.output}\n`);
    }
    if (output !== process.stdout) {
      output.end();
      await finished(output);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`report: ${describeError(error)} (${sourceLabel})\n`);
    if (output !== process.stdout) output.destroy();
    return 1;
  } finally {
    await store?.close().catch(() => {});
  }
}

// `npm run report -- --format csv | head` closes the pipe early; that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

runReport(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`report: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);
