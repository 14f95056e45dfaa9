import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  ApplicationCommandOptionType,
  Client,
  Events,
  GatewayIntentBits,
  InteractionResponseType,
  MessageFlags,
  type APIEmbed,
  type APIUser,
} from "discord.js";
import { PNG } from "pngjs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLimitsCommand, limitsCommandDefinition, parseLimitValue } from "../../src/discord/usage/limits-command.js";
import { buildLedgerCsv, createUsageCommand, usageCommandDefinition } from "../../src/discord/usage/usage-command.js";
import { createInteractionRouter, localTranslator } from "../../src/discord/router.js";
import { discordRestOptions } from "../../src/discord/rest-options.js";
import { chartText, type Formatting } from "../../src/discord/usage/layout.js";
import { UserError } from "../../src/errors.js";
import { createLogger } from "../../src/log.js";
import { renderDailyUsageChart } from "../../src/reports/usage-chart.js";
import {
  dailySeries,
  openUsageStore,
  recordCall,
  resolveDatabaseTarget,
  QUOTA_SETTING_NAMES,
  type CallRecord,
  type PriceTable,
  type UsageStore,
} from "../../src/usage/index.js";
import { FakePermissions, startFakeDiscord, type FakeDiscord, type InteractionHandle, type SlashCommandOptionInput } from "../fakes/discord/index.js";

/*
 * The /usage and /limits commands driven through the fake Discord by a real discord.js client,
 * with the real router and a real SQLite usage store. The chart renderer is a stand-in (the real
 * one is tested in usage-chart.test.ts and costs half a second a chart).
 */

const GUILD = "100000000000000001";
const OTHER_GUILD = "100000000000000002";
const NOW = new Date("2025-06-15T12:00:00Z");

const PRICES: PriceTable = {
  currency: "CNY",
  models: {
    "fun-music-v1": { perMusicSecond: 0.1, perThousandInputTokens: 0, perThousandOutputTokens: 0, perThousandAudioTokens: 0 },
    "qwen-audio-turbo": { perMusicSecond: 0, perThousandInputTokens: 1, perThousandOutputTokens: 2, perThousandAudioTokens: 10 },
  },
};

const f: Formatting = { t: localTranslator("en-US"), locale: "en-US" };

const tinyPng = PNG.sync.write(new PNG({ width: 2, height: 2 }));

type Chart = { mode: "draw" | "fail"; calls: Parameters<typeof renderDailyUsageChart>[] };
const chart: Chart = { mode: "draw", calls: [] };
const fakeRenderChart: typeof renderDailyUsageChart = async (points, options) => {
  chart.calls.push([points, options]);
  if (chart.mode === "fail") throw new Error("the rendering worker crashed");
  return tinyPng;
};

let dir: string;
let store: UsageStore;
let fake: FakeDiscord;
let client: Client;
const logLines: string[] = [];
let admin: APIUser;
let alice: APIUser;
let owner: APIUser;

function call(overrides: Partial<CallRecord>): CallRecord {
  return {
    occurredAt: new Date("2025-06-15T10:00:00Z"),
    guildId: GUILD,
    channelId: "300000000000000001",
    userId: alice.id,
    feature: "song",
    model: "fun-music-v1",
    requestId: randomUUID(),
    outcome: "ok",
    musicSeconds: 120,
    latencyMs: 40_000,
    ...overrides,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dashtune-usage-commands-"));
  store = await openUsageStore({ target: resolveDatabaseTarget(`sqlite:${join(dir, "usage.sqlite")}`), prices: PRICES, now: () => NOW });
  fake = await startFakeDiscord({
    guilds: [
      { id: GUILD, name: "Lofi Lounge" },
      { id: OTHER_GUILD, name: "Choir practice" },
    ],
  });
  admin = fake.createUser({ username: "admin" });
  alice = fake.createUser({ username: "alice" });
  owner = fake.createUser({ username: "owner" });

  // Alice: three songs (one failed) and two analyses today, the admin one song five days ago; the other guild: one song.
  await recordCall(store, call({}));
  await recordCall(store, call({ musicSeconds: 60 }));
  await recordCall(store, call({ outcome: "Throttling.RateQuota", musicSeconds: 0 }));
  await recordCall(store, call({ feature: "analysis", model: "qwen-audio-turbo", musicSeconds: 0, inputTokens: 500, outputTokens: 300, audioTokens: 1200 }));
  await recordCall(store, call({ feature: "follow-up", model: "qwen-audio-turbo", musicSeconds: 0, inputTokens: 200, outputTokens: 100 }));
  await recordCall(store, call({ occurredAt: new Date("2025-06-10T09:00:00Z"), userId: admin.id, musicSeconds: 200 }));
  await recordCall(store, call({ guildId: OTHER_GUILD, musicSeconds: 30 }));

  const logger = createLogger({
    level: "debug",
    secrets: [fake.token],
    destination: new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  });
  const route = createInteractionRouter(
    {
      slashCommands: [
        createUsageCommand({ store, ownerIds: new Set([owner.id]), renderChart: fakeRenderChart }),
        createLimitsCommand({ store }),
      ],
      messageCommands: [],
      buttons: {},
      selects: {},
      modals: {},
    },
    logger,
  );
  client = new Client({ intents: [GatewayIntentBits.Guilds], rest: discordRestOptions(fake.restUrl) });
  client.on(Events.InteractionCreate, (interaction) => void route(interaction));
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(fake.token);
  await ready;
  // The fake checks the definitions against Discord's rules for names, lengths and choices.
  await client.application?.commands.set([usageCommandDefinition, limitsCommandDefinition], GUILD);
});

afterAll(async () => {
  await client?.destroy();
  await fake?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  chart.mode = "draw";
  chart.calls = [];
});

function subcommand(name: string, options: SlashCommandOptionInput[] = []): SlashCommandOptionInput[] {
  return [{ type: ApplicationCommandOptionType.Subcommand, name, options }];
}

const period = (value: string): SlashCommandOptionInput => ({ type: ApplicationCommandOptionType.String, name: "period", value });

/** The text of an ephemeral answer: a reply, or a deferred reply edited with it. */
async function privateText(handle: InteractionHandle): Promise<string> {
  const response = await handle.response();
  if (response.type === InteractionResponseType.ChannelMessageWithSource) {
    const data = response.data as { content?: string; flags?: number; allowed_mentions?: unknown };
    expect((data.flags ?? 0) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(data.allowed_mentions).toEqual({ parse: [] });
    return data.content ?? "";
  }
  const message = await handle.waitForOriginal();
  expect(message.ephemeral).toBe(true);
  return message.content;
}

/** The finished private reply of a deferred command. */
async function privateReply(handle: InteractionHandle) {
  const message = await handle.waitForOriginal();
  expect(message.ephemeral).toBe(true);
  expect(message.allowedMentions).toEqual({ parse: [] });
  return message;
}

function field(embed: APIEmbed | undefined, name: string): string {
  const found = embed?.fields?.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no field ${name} in ${JSON.stringify(embed?.fields?.map((candidate) => candidate.name))}`);
  return found.value;
}

describe("the command definitions", () => {
  it("are accepted by Discord's rules for commands", () => {
    expect(fake.registeredCommands(GUILD).map((command) => command.name)).toEqual(["usage", "limits"]);
  });

  it("offer every quota setting in /limits set, and nothing else", () => {
    const set = limitsCommandDefinition.options.find((option) => option.name === "set");
    const limit = set?.options.find((option) => option.name === "limit");
    expect(limit?.choices.map((choice) => choice.value)).toEqual(QUOTA_SETTING_NAMES);
  });
});

describe("/usage server", () => {
  it("refuses a member without Manage Server, privately, even if an admin let them see the command", async () => {
    const handle = await fake.sendSlashCommand({ name: "usage", user: alice, memberPermissions: FakePermissions.member, options: subcommand("server") });
    expect(await privateText(handle)).toMatch(/Only members with the \*\*Manage Server\*\* permission/);
    expect(chart.calls).toHaveLength(0);
  });

  it("sends a Manage Server member a private report with totals, failures, top members and the chart", async () => {
    const handle = await fake.sendSlashCommand({
      name: "usage",
      user: admin,
      memberPermissions: FakePermissions.manageGuild,
      options: subcommand("server", [period("7d"), { type: ApplicationCommandOptionType.String, name: "metric", value: "musicSeconds" }]),
    });
    expect((await handle.response()).type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    const reply = await privateReply(handle);
    const embed = reply.embeds[0];
    expect(embed?.title).toBe("Usage in Lofi Lounge · the last 7 days");
    expect(field(embed, "Songs")).toMatch(/^\*\*4\*\* calls\n6 min 20 s of music\nCNY\s38\.00$/);
    expect(field(embed, "Failures")).toBe("1 of 6 calls (16.7%)\n`Throttling.RateQuota` × 1");
    expect(field(embed, "Top members").split("\n")).toEqual([
      expect.stringMatching(new RegExp(`^1\\. <@${alice.id}> · CNY\\s31\\.50 · \\*\\*5\\*\\* calls · 3 min$`)),
      expect.stringMatching(new RegExp(`^2\\. <@${admin.id}> · CNY\\s20\\.00 · \\*\\*1\\*\\* call · 3 min 20 s$`)),
    ]);
    expect(embed?.image?.url).toBe("attachment://usage.png");
    expect(reply.attachments.map((attachment) => attachment.filename)).toEqual(["usage.png"]);
    expect(chart.calls[0]?.[1]).toMatchObject({ metric: "musicSeconds", title: "Daily usage · the last 7 days (UTC)", locale: "en-US" });
    expect(chart.calls[0]?.[0]).toHaveLength(7);
  });

  it("attaches the period's calls as CSV when asked", async () => {
    const handle = await fake.sendSlashCommand({
      name: "usage",
      user: admin,
      memberPermissions: FakePermissions.administrator,
      options: subcommand("server", [period("all"), { type: ApplicationCommandOptionType.Boolean, name: "csv", value: true }]),
    });
    const reply = await privateReply(handle);
    const csv = reply.attachments.find((attachment) => attachment.filename === `usage-${GUILD}-all.csv`);
    const lines = csv?.bytes.toString("utf8").trimEnd().split("\r\n") ?? [];
    expect(lines[0]).toBe(
      "occurredAt,requestId,guildId,channelId,userId,feature,model,outcome,musicSeconds,inputTokens,outputTokens,audioTokens,latencyMs,bytesDelivered,estimatedCost",
    );
    expect(lines).toHaveLength(7);
    expect(reply.embeds[0]?.description).toMatch(/The CSV export holds all 6 rows of the period\./);
  });

  it("cuts the CSV at the interaction's upload limit at a whole row, and says how much is in it", async () => {
    const handle = await fake.sendSlashCommand({
      name: "usage",
      user: admin,
      memberPermissions: FakePermissions.manageGuild,
      attachmentSizeLimit: 700,
      options: subcommand("server", [period("30d"), { type: ApplicationCommandOptionType.Boolean, name: "csv", value: true }]),
    });
    const reply = await privateReply(handle);
    const csv = reply.attachments.find((attachment) => attachment.filename.endsWith(".csv"));
    expect(csv?.size).toBeLessThanOrEqual(700);
    const rows = (csv?.bytes.toString("utf8").split("\r\n").length ?? 0) - 2;
    expect(csv?.bytes.toString("utf8").endsWith("\r\n")).toBe(true);
    expect(reply.embeds[0]?.description).toContain(`The CSV export holds only the oldest ${rows} of 6 rows: a file here can be at most 0.00067 MB.`);
  });

  it("sends the report without the chart when drawing fails, and logs why", async () => {
    chart.mode = "fail";
    const handle = await fake.sendSlashCommand({ name: "usage", user: admin, memberPermissions: FakePermissions.manageGuild, options: subcommand("server") });
    const reply = await privateReply(handle);
    expect(reply.attachments).toEqual([]);
    expect(reply.embeds[0]?.image).toBeUndefined();
    expect(reply.embeds[0]?.description).toMatch(/The chart could not be drawn this time/);
    expect(logLines.some((line) => line.includes("usage chart could not be drawn") && line.includes("the rendering worker crashed"))).toBe(true);
  });
});

describe("/usage me", () => {
  it("shows any member their own usage today and what is left, with when it resets", async () => {
    const handle = await fake.sendSlashCommand({ name: "usage", user: alice, memberPermissions: FakePermissions.member, options: subcommand("me") });
    const embed = (await privateReply(handle)).embeds[0];
    expect(embed?.title).toBe("Your usage · today");
    expect(field(embed, "Songs")).toBe("**3** calls\n3 min of music");
    expect(field(embed, "Left today")).toContain("Resets <t:1750032000:R>.");
    expect(field(embed, "This server this month")).toContain("Resets <t:1751328000:R>.");
  });
});

describe("/usage all-servers", () => {
  it("refuses anyone but the bot's owners, administrators included", async () => {
    const handle = await fake.sendSlashCommand({ name: "usage", user: admin, memberPermissions: FakePermissions.administrator, options: subcommand("all-servers") });
    expect(await privateText(handle)).toBe("Only the bot's owners can see usage across all servers.");
  });

  it("shows an owner the totals across servers and the top servers by name", async () => {
    const handle = await fake.sendSlashCommand({ name: "usage", user: owner, memberPermissions: FakePermissions.member, options: subcommand("all-servers", [period("month")]) });
    const embed = (await privateReply(handle)).embeds[0];
    expect(embed?.title).toBe("Usage across all servers · this month");
    expect(field(embed, "Totals")).toMatch(/^\*\*7\*\* calls/);
    const top = field(embed, "Top servers").split("\n");
    expect(top[0]).toMatch(new RegExp(`^1\\. \\*\\*Lofi Lounge\\*\\* \\(\`${GUILD}\`\\)`));
    expect(top[1]).toMatch(new RegExp(`^2\\. \\*\\*Choir practice\\*\\* \\(\`${OTHER_GUILD}\`\\)`));
  });
});

describe("/limits", () => {
  it("refuses a member without Manage Server even if an admin let them see the command", async () => {
    const handle = await fake.sendSlashCommand({ name: "limits", user: alice, memberPermissions: FakePermissions.member, options: subcommand("show") });
    expect(await privateText(handle)).toMatch(/can see or change this server's limits/);
  });

  it("changes a limit, shows it as this server's own, and puts it back with default", async () => {
    const set = (value: string) =>
      fake.sendSlashCommand({
        name: "limits",
        user: admin,
        memberPermissions: FakePermissions.manageGuild,
        options: subcommand("set", [
          { type: ApplicationCommandOptionType.String, name: "limit", value: "userDailySongs" },
          { type: ApplicationCommandOptionType.String, name: "value", value },
        ]),
      });
    expect(await privateText(await set(" 5 "))).toBe("**Songs per member per day** is now **5 songs** in this server.");

    const show = await fake.sendSlashCommand({ name: "limits", user: admin, memberPermissions: FakePermissions.manageGuild, options: subcommand("show") });
    const response = await show.response();
    const embed = (response.data as { embeds?: APIEmbed[] }).embeds?.[0];
    expect(field(embed, "Songs per member per day")).toBe("**5 songs**\nSet for this server (default: 10 songs)");
    expect(field(embed, "Music per member per day")).toBe("**20 min (1,200 s)**\nDefault");

    expect(await privateText(await set("default"))).toBe("**Songs per member per day** is back to the bot's default: **10 songs**.");
  });

  it("explains a value it can't use instead of saving it", async () => {
    const handle = await fake.sendSlashCommand({
      name: "limits",
      user: admin,
      memberPermissions: FakePermissions.manageGuild,
      options: subcommand("set", [
        { type: ApplicationCommandOptionType.String, name: "limit", value: "songCooldownSeconds" },
        { type: ApplicationCommandOptionType.String, name: "value", value: "unlimited" },
      ]),
    });
    expect(await privateText(handle)).toMatch(/can't be unlimited: give a number of seconds/);
  });
});

describe("reading what an admin typed for a limit", () => {
  function problem(name: Parameters<typeof parseLimitValue>[0], raw: string): string {
    try {
      parseLimitValue(name, raw, f);
    } catch (error) {
      if (error instanceof UserError) return f.t(error.messageKey as "limits.value.notWhole", error.params as { name: string });
      throw error;
    }
    throw new Error(`"${raw}" was accepted`);
  }

  it("accepts numbers, unlimited and default, in any case and with spaces around", () => {
    expect(parseLimitValue("userDailySongs", "12", f)).toBe(12);
    expect(parseLimitValue("guildMonthlyCost", " 49.5 ", f)).toBe(49.5);
    expect(parseLimitValue("userDailyMusicSeconds", "Unlimited", f)).toBeNull();
    expect(parseLimitValue("songCooldownSeconds", "DEFAULT", f)).toBe("default");
    expect(parseLimitValue("songCooldownSeconds", "0", f)).toBe(0);
  });

  it("names the problem with a value in words", () => {
    expect(problem("userDailySongs", "lots")).toBe("I don't understand the value “lots”. Give a number such as `20`, or `unlimited`, or `default`.");
    expect(problem("userDailySongs", "1.5")).toBe("**Songs per member per day** must be a whole number.");
    expect(problem("guildMonthlyCost", "-3")).toBe("**Cost budget per server per month** can't be negative.");
    expect(problem("songCooldownSeconds", "90000")).toBe("**Cooldown between a member's songs** can be at most 86,400.");
    expect(problem("userDailyMusicSeconds", "9999999999999")).toBe("**Music per member per day** can be at most 1,000,000,000,000.");
    expect(problem("songCooldownSeconds", "unlimited")).toMatch(/can't be unlimited/);
  });

  it("shows a value it can't read without letting it format the message", () => {
    expect(problem("userDailySongs", "**[x](https://evil)**")).toContain("“\\*\\*\\[x](https://evil)\\*\\*”");
  });
});

describe("the CSV export", () => {
  it("reads the ledger a page at a time and keeps every row when they fit", async () => {
    const csv = await buildLedgerCsv(store, { guildId: GUILD }, "all", 1_000_000, 2);
    expect(csv.complete).toBe(true);
    expect(csv.rows).toBe(6);
    expect(csv.data.toString("utf8").split("\r\n")).toHaveLength(8);
  });

  it("stops at the last whole row that fits", async () => {
    const csv = await buildLedgerCsv(store, { guildId: GUILD }, "all", 600, 2);
    expect(csv.complete).toBe(false);
    expect(csv.data.length).toBeLessThanOrEqual(600);
    expect(csv.data.toString("utf8").split("\r\n")).toHaveLength(csv.rows + 2);
  });

});

describe("the chart the report asks for", () => {
  it("is drawn by the real renderer from the store's daily series and the catalog's words", async () => {
    const { title, labels } = chartText("30d", f.t);
    const png = await renderDailyUsageChart(await dailySeries(store, { guildId: GUILD }, "30d"), { title, labels, metric: "requests", locale: "en-US" });
    expect(PNG.sync.read(png).width).toBe(1000);
  });
});
