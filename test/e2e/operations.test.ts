import { createServer } from "node:net";
import { ApplicationCommandOptionType } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startBot } from "../../src/main.js";
import { BOT_PERMISSIONS, ServiceUnreachableError } from "../../src/startup-checks.js";
import { guildNamesOf } from "../../src/usage/guild-names.js";
import { startFakeDashScope, type FakeDashScope } from "../fakes/dashscope/index.js";
import { parsedLogs, startSandbox, type Sandbox } from "./harness.js";
import { metricSample } from "../unit/metrics-test-helpers.js";

/* What an operator sees of a running bot: health, metrics, the first-run lines, server names. */

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("a running bot, as an operator watches it", () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 300, songSeconds: 6 }, env: { HTTP_PORT: "0" } });
  });
  afterAll(async () => {
    await sandbox?.close();
  });

  it("answers /healthz with 200 when Discord is connected and the database answers", async () => {
    const url = sandbox.bot.http?.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", checks: { discord: "ok", database: "ok" } });
  });

  it("logs the invite link with the bot's client id, both scopes and its permissions, and that the DashScope key was accepted", () => {
    const logs = parsedLogs(sandbox);
    const invite = logs.find((line) => typeof line.inviteUrl === "string")?.inviteUrl as string;
    const url = new URL(invite);
    expect(url.origin + url.pathname).toBe("https://discord.com/oauth2/authorize");
    expect(url.searchParams.get("client_id")).toBe(sandbox.discord.applicationId);
    expect(url.searchParams.get("scope")).toBe("bot applications.commands");
    expect(url.searchParams.get("permissions")).toBe(BOT_PERMISSIONS.toString());
    expect(logs.some((line) => String(line.msg).startsWith("DashScope accepted DASHSCOPE_API_KEY"))).toBe(true);
  });

  it("counts a finished song and its billed seconds in /metrics, beside the job gauge and the default metrics", async () => {
    const handle = await sandbox.discord.sendSlashCommand({
      name: "song",
      options: [{ type: ApplicationCommandOptionType.String, name: "prompt", value: "a calm piano piece" }],
    });
    await handle.waitForOriginal((message) => message.embeds.length > 0, 20_000);
    // The ledger row is written before delivery; the metrics follow the row.
    const text = await (await fetch(`${sandbox.bot.http?.url}/metrics`)).text();
    expect(metricSample(text, 'dashtune_songs_total{outcome="ok"}')).toBe(1);
    expect(metricSample(text, "dashtune_music_seconds_billed_total")).toBeGreaterThanOrEqual(6);
    expect(metricSample(text, 'dashtune_jobs{state="running"}')).toBe(0);
    expect(text).toContain("nodejs_eventloop_lag_seconds");
  });

  it("counts Discord REST answers with an error status", async () => {
    await expect(sandbox.bot.client.channels.fetch("123456789012345678")).rejects.toMatchObject({ status: 404 });
    const text = await (await fetch(`${sandbox.bot.http?.url}/metrics`)).text();
    expect(metricSample(text, 'dashtune_discord_rest_errors_total{status="404"}')).toBe(1);
  });

  it("keeps the names of the servers it is in, and their new name when renamed", async () => {
    const guild = sandbox.discord.guilds[0]!;
    expect((await guildNamesOf(sandbox.bot.usageStore, [guild.id])).get(guild.id)).toBe(guild.name);

    sandbox.discord.dispatch("GUILD_UPDATE", { id: guild.id, name: "Renamed Server" });
    await expect.poll(async () => (await guildNamesOf(sandbox.bot.usageStore, [guild.id])).get(guild.id), { timeout: 5_000 }).toBe("Renamed Server");
  });
});

describe("first-run problems, said plainly", () => {
  let dashscope: FakeDashScope | undefined;
  afterAll(async () => {
    await dashscope?.close();
  });

  it("logs an error naming DASHSCOPE_API_KEY when DashScope refuses the key, and keeps running", async () => {
    const sandbox = await startSandbox({ env: { DASHSCOPE_API_KEY: "sk-not-the-right-key-123" } });
    try {
      const logs = parsedLogs(sandbox);
      const refused = logs.find((line) => line.level === 50 && String(line.msg).includes("DASHSCOPE_API_KEY"));
      expect(refused?.msg).toMatch(/^DashScope refused DASHSCOPE_API_KEY \(401 InvalidApiKey\)/);
      expect(sandbox.logLines.join("")).not.toContain("sk-not-the-right-key-123");
      expect(sandbox.bot.client.isReady()).toBe(true);
      expect(sandbox.discord.registeredCommands(sandbox.guildId).length).toBeGreaterThan(0);
    } finally {
      await sandbox.close();
    }
  });

  it("logs which service and URL it could not reach when DashScope's address is closed", async () => {
    const port = await closedPort();
    const sandbox = await startSandbox({ env: { DASHSCOPE_HTTP_BASE_URL: `http://127.0.0.1:${port}/api/v1` } });
    try {
      const line = parsedLogs(sandbox).find((entry) => entry.problem === "unreachable");
      expect(line?.msg).toBe(
        `DashScope cannot be reached at http://127.0.0.1:${port}/api/v1 (ECONNREFUSED); check DASHSCOPE_HTTP_BASE_URL and the network`,
      );
    } finally {
      await sandbox.close();
    }
  });

  it("fails to start with the service and URL, not a bare ECONNREFUSED, when Discord's address is closed", async () => {
    dashscope = await startFakeDashScope();
    const port = await closedPort();
    const parsed = parseConfig({
      DISCORD_TOKEN: "fake-token-value",
      DASHSCOPE_API_KEY: dashscope.apiKey,
      DASHSCOPE_HTTP_BASE_URL: dashscope.baseUrl,
      DISCORD_API_URL: `http://127.0.0.1:${port}/api`,
      DATABASE_URL: "sqlite::memory:",
      LOG_LEVEL: "silent",
    });
    if (!parsed.ok) throw new Error(parsed.problems.join("; "));
    const logger = createLogger({ level: "silent", secrets: [] });

    const failure = await startBot(parsed.config, logger).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ServiceUnreachableError);
    expect((failure as Error).message).toBe(
      `Discord cannot be reached at http://127.0.0.1:${port}/api (ECONNREFUSED); check DISCORD_API_URL and the network`,
    );
  });
});
