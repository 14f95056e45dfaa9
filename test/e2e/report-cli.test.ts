import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rememberGuildNames } from "../../src/usage/guild-names.js";
import { openUsageStore, recordCall, type CallRecord } from "../../src/usage/index.js";

/*
 * `npm run report` as an operator runs it, minus the build: the CLI is spawned from its TypeScript
 * source through tsx, in a scratch folder (so the repository's .env, if any, is not read), with an
 * environment that holds nothing but PATH, HOME and DATABASE_URL — no Discord token, no DashScope key.
 * The ledger is filled through the store's own API; prices are the example prices (CNY).
 */

const CLI = resolve(import.meta.dirname, "../../src/report-cli.ts");
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

const GUILD_A = "100000000000000001";
const GUILD_B = "100000000000000002";
const ALICE = "200000000000000001";
const BOB = "200000000000000002";
const CAROL = "200000000000000003";
const DAY_MS = 86_400_000;

type CliResult = { code: number; stdout: string; stderr: string };

function runReport(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ["--import", TSX_LOADER, CLI, ...args],
      { cwd: options.cwd, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? options.cwd, ...options.env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** The cells of the table line that starts with `label`. */
function rowOf(output: string, label: string): string[] {
  const line = output.split("\n").find((text) => text.split(/\s+/)[0] === label);
  if (line === undefined) throw new Error(`no line starting with ${label} in:\n${output}`);
  return line.trim().split(/\s+/).slice(1);
}

describe("npm run report", () => {
  let dir: string;
  let databaseUrl: string;
  const report = (...args: string[]) => runReport(args, { cwd: dir, env: { DATABASE_URL: databaseUrl } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dashtune-report-cli-"));
    const path = join(dir, "ledger.sqlite");
    databaseUrl = `sqlite:${path}`;
    const store = await openUsageStore({ target: { dialect: "sqlite", path } });
    // Days back from now, at least a day, so that none of them crosses a period boundary during the run.
    const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);
    const calls: CallRecord[] = [
      { occurredAt: daysAgo(2), guildId: GUILD_A, channelId: "300000000000000001", userId: ALICE, feature: "song", model: "fun-music-v1", outcome: "ok", musicSeconds: 120, latencyMs: 40_000 },
      { occurredAt: daysAgo(1), guildId: GUILD_A, channelId: "300000000000000001", userId: BOB, feature: "song", model: "fun-music-v1", outcome: "ok", musicSeconds: 60, latencyMs: 35_000 },
      { occurredAt: daysAgo(1), guildId: GUILD_A, channelId: "300000000000000001", userId: ALICE, feature: "song", model: "fun-music-v1", outcome: "InternalError", latencyMs: 5_000 },
      { occurredAt: daysAgo(1), guildId: GUILD_A, channelId: "300000000000000001", userId: BOB, feature: "analysis", model: "qwen-audio-turbo", outcome: "ok", inputTokens: 1000, outputTokens: 2000, audioTokens: 4000, latencyMs: 3_000 },
      { occurredAt: daysAgo(3), guildId: GUILD_B, channelId: "300000000000000002", userId: CAROL, feature: "follow-up", model: "qwen-audio-turbo", outcome: "ok", inputTokens: 500, outputTokens: 1000, latencyMs: 2_000 },
      { occurredAt: daysAgo(60), guildId: GUILD_B, channelId: "300000000000000002", userId: CAROL, feature: "song", model: "fun-music-v1", outcome: "ok", musicSeconds: 200, latencyMs: 50_000 },
      { occurredAt: daysAgo(1), guildId: null, channelId: null, userId: ALICE, feature: "analysis", model: "qwen-omni-unpriced", outcome: "ok", inputTokens: 100, outputTokens: 100, audioTokens: 100, latencyMs: 1_000 },
    ];
    for (const [index, call] of calls.entries()) await recordCall(store, { ...call, requestId: `request-${index}` });
    await store.close();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the last 30 days of all guilds: totals per feature, unpriced models and the top guilds", async () => {
    const { code, stdout, stderr } = await report("--since", "30d");

    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("Usage of all guilds, the last 30 days (UTC)");
    //                                  calls failures music  input  output  audio   cost
    expect(rowOf(stdout, "song")).toEqual(["3", "1", "180", "0", "0", "0", "9.00"]);
    expect(rowOf(stdout, "analysis")).toEqual(["2", "0", "0", "1,100", "2,100", "4,100", "0.1094"]);
    expect(rowOf(stdout, "follow-up")).toEqual(["1", "0", "0", "500", "1,000", "0", "0.0047"]);
    expect(rowOf(stdout, "total")).toEqual(["6", "1", "180", "1,600", "3,100", "4,100", "9.1141"]);
    expect(stdout).toContain("Models without a price (counted as zero in the costs): qwen-omni-unpriced");
    expect(stdout).toContain("Top guilds by estimated cost");
    expect(rowOf(stdout, GUILD_A)).toEqual(["4", "1", "180", "9.1094"]);
    expect(rowOf(stdout, GUILD_B)).toEqual(["1", "0", "0", "0.0047"]);
    expect(rowOf(stdout, "dm")).toEqual(["1", "0", "0", "0.00"]);
  });

  it("counts older calls only when asked for all time, and ranks the guilds by what they cost", async () => {
    const { code, stdout } = await report("--since", "all");

    expect(code).toBe(0);
    expect(rowOf(stdout, "total")).toEqual(["7", "1", "380", "1,600", "3,100", "4,100", "19.1141"]);
    const guildOrder = stdout.split("\n").filter((line) => /^(\d{17,20}|dm)\s/.test(line)).map((line) => line.split(/\s+/)[0]);
    expect(guildOrder).toEqual([GUILD_B, GUILD_A, "dm"]);
  });

  it("shows one guild's figures and its top members with --guild", async () => {
    const { code, stdout } = await report("--since", "7d", "--guild", GUILD_A);

    expect(code).toBe(0);
    expect(stdout).toContain(`Usage of guild ${GUILD_A}, the last 7 days (UTC)`);
    expect(rowOf(stdout, "total")).toEqual(["4", "1", "180", "1,000", "2,000", "4,000", "9.1094"]);
    expect(stdout).toContain("Top members by estimated cost");
    expect(rowOf(stdout, ALICE)).toEqual(["2", "1", "120", "6.00"]);
    expect(rowOf(stdout, BOB)).toEqual(["2", "0", "60", "3.1094"]);
    expect(stdout).not.toContain(GUILD_B);
  });

  it("writes the period's ledger rows as CSV, one header and nothing else on standard output", async () => {
    const { code, stdout, stderr } = await report("--since", "30d", "--format", "csv");

    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.split("\r\n");
    expect(lines.at(-1)).toBe("");
    expect(lines[0]).toBe(
      "occurredAt,requestId,guildId,channelId,userId,feature,model,outcome,musicSeconds,inputTokens,outputTokens,audioTokens,latencyMs,bytesDelivered,estimatedCost",
    );
    const rows = lines.slice(1, -1);
    expect(rows).toHaveLength(6);
    expect(rows.map((row) => row.split(",")[1])).toEqual(["request-4", "request-0", "request-1", "request-2", "request-3", "request-6"]);
  });

  it("limits the CSV to one guild and can write it to a file instead", async () => {
    const file = join(dir, "guild-a.csv");
    const { code, stdout, stderr } = await report("--since", "all", "--guild", GUILD_A, "--format", "csv", "--output", file);

    expect(code).toBe(0);
    expect(stdout).toBe("");
    expect(stderr).toBe(`report: wrote 4 rows to ${file}\n`);
    const lines = readFileSync(file, "utf8").trimEnd().split("\r\n");
    expect(lines).toHaveLength(5);
    expect(lines.slice(1).every((line) => line.split(",")[2] === GUILD_A)).toBe(true);
  });

  it("reads DATABASE_URL from a .env file in the working directory, as the bot does", async () => {
    const folder = mkdtempSync(join(dir, "bot-folder-"));
    writeFileSync(join(folder, ".env"), `DATABASE_URL=${databaseUrl}\n`);

    const { code, stdout } = await runReport(["--since", "30d"], { cwd: folder, env: {} });

    expect(code).toBe(0);
    expect(rowOf(stdout, "total")[0]).toBe("6");
  });

  it("rejects a period it does not know with exit code 2, listing the valid ones", async () => {
    const { code, stdout, stderr } = await report("--since", "90d");

    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe('report: --since must be one of today, 7d, 30d, month, all; got "90d" (see --help)\n');
  });

  it("rejects a guild that is not a Discord id, and an unknown option, with exit code 2", async () => {
    const badGuild = await report("--guild", "my-server");
    const unknown = await report("--sinse", "7d");

    expect(badGuild.code).toBe(2);
    expect(badGuild.stderr).toBe('report: --guild must be a Discord server id (17–20 digits) or "dm"; got "my-server" (see --help)\n');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("report: unknown option --sinse (see --help)\n");
  });

  it("fails with exit code 1 and one line, not a stack trace, when there is no database file", async () => {
    const missing = join(dir, "nowhere", "ledger.sqlite");

    const { code, stdout, stderr } = await runReport([], { cwd: dir, env: { DATABASE_URL: `sqlite:${missing}` } });

    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`report: no usage database at ${missing}; run this in the bot's folder or set DATABASE_URL as the bot has it\n`);
  });

  it("explains itself with --help and exits 0", async () => {
    const { code, stdout } = await report("--help");

    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: npm run --silent report -- \[--since today\|7d\|30d\|month\|all\]/);
  });
});

describe("npm run report with the server names the bot saw", () => {
  let dir: string;
  let databaseUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dashtune-report-names-"));
    const path = join(dir, "ledger.sqlite");
    databaseUrl = `sqlite:${path}`;
    const store = await openUsageStore({ target: { dialect: "sqlite", path } });
    const yesterday = new Date(Date.now() - DAY_MS);
    const song = { occurredAt: yesterday, channelId: null, feature: "song", model: "fun-music-v1", outcome: "ok", musicSeconds: 30, latencyMs: 1_000 } as const;
    await recordCall(store, { ...song, guildId: GUILD_A, userId: ALICE, requestId: "named-1" });
    await recordCall(store, { ...song, guildId: GUILD_B, userId: BOB, requestId: "named-2", musicSeconds: 10 });
    // Seen under an old name first, then renamed: the report shows the latest.
    await rememberGuildNames(store, [{ id: GUILD_A, name: "Old Name" }]);
    await rememberGuildNames(store, [{ id: GUILD_A, name: "Night  Owls\nClub" }]);
    await store.close();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("labels the top guilds with their names, and guilds the bot never saw by id", async () => {
    const { code, stdout, stderr } = await runReport(["--since", "7d"], { cwd: dir, env: { DATABASE_URL: databaseUrl } });

    expect(stderr).toBe("");
    expect(code).toBe(0);
    const guildLines = stdout.split("\n").filter((line) => line.includes(GUILD_A) || line.includes(GUILD_B));
    expect(guildLines[0]).toMatch(new RegExp(`^Night Owls Club \\(${GUILD_A}\\)\\s+1\\s+0\\s+30\\s`));
    expect(guildLines[1]).toMatch(new RegExp(`^${GUILD_B}\\s+1\\s+0\\s+10\\s`));
    expect(stdout).not.toContain("Old Name");
  });

  it("names the guild in the heading of a one-guild report", async () => {
    const { code, stdout } = await runReport(["--since", "7d", "--guild", GUILD_A], { cwd: dir, env: { DATABASE_URL: databaseUrl } });

    expect(code).toBe(0);
    expect(stdout).toContain(`Usage of guild Night Owls Club (${GUILD_A}), the last 7 days (UTC)`);
  });
});
