import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOT_PERMISSIONS } from "../../src/startup-checks.js";
import { startFakeDashScope, type FakeDashScope } from "../fakes/dashscope/index.js";
import { startFakeDiscord, type FakeDiscord } from "../fakes/discord/index.js";

/*
 * `npm run check` as an operator runs it, minus the build: spawned from its TypeScript source
 * through tsx, in a scratch folder (no .env), against the fake Discord and the fake DashScope.
 */

const CLI = resolve(import.meta.dirname, "../../src/check-cli.ts");
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

type CliResult = { code: number; stdout: string; stderr: string };

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe("npm run check", () => {
  let dir: string;
  let discord: FakeDiscord;
  let dashscope: FakeDashScope;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dashtune-check-cli-"));
    [discord, dashscope] = await Promise.all([startFakeDiscord(), startFakeDashScope()]);
  });
  afterAll(async () => {
    await Promise.allSettled([discord.close(), dashscope.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  function check(env: Record<string, string>): Promise<CliResult> {
    const settings = {
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.restUrl,
      DASHSCOPE_API_KEY: dashscope.apiKey,
      DASHSCOPE_HTTP_BASE_URL: dashscope.baseUrl,
      ...env,
    };
    return new Promise((done) => {
      execFile(
        process.execPath,
        ["--import", TSX_LOADER, CLI],
        { cwd: dir, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, ...settings }, timeout: 20_000 },
        (error, stdout, stderr) => done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr }),
      );
    });
  }

  it("passes when both services accept their credentials, and prints the invite link", async () => {
    const { code, stdout } = await check({});

    expect(code).toBe(0);
    expect(stdout).toContain(`✓ Discord: Discord accepted DISCORD_TOKEN at ${discord.restUrl}`);
    expect(stdout).toContain(`✓ DashScope: DashScope accepted DASHSCOPE_API_KEY at ${dashscope.baseUrl}`);
    expect(stdout).toContain(
      `https://discord.com/oauth2/authorize?client_id=${discord.applicationId}&scope=bot+applications.commands&permissions=${BOT_PERMISSIONS}`,
    );
  });

  it("fails naming DASHSCOPE_API_KEY when DashScope refuses the key, without printing it", async () => {
    const { code, stdout } = await check({ DASHSCOPE_API_KEY: "sk-wrong-key-for-the-check" });

    expect(code).toBe(1);
    expect(stdout).toMatch(/✗ DashScope: DashScope refused DASHSCOPE_API_KEY \(401 InvalidApiKey\)/);
    expect(stdout).toContain("✓ Discord");
    expect(stdout).not.toContain("sk-wrong-key-for-the-check");
  });

  it("fails naming DISCORD_TOKEN when Discord refuses the token, without printing it", async () => {
    const { code, stdout } = await check({ DISCORD_TOKEN: "not-the-bot-token-at-all" });

    expect(code).toBe(1);
    expect(stdout).toContain("✗ Discord: Discord refused DISCORD_TOKEN (401)");
    expect(stdout).not.toContain("not-the-bot-token-at-all");
    expect(stdout).not.toContain("Invite the bot");
  });

  it("says which service and which URL cannot be reached when nothing listens there", async () => {
    const [discordPort, dashscopePort] = await Promise.all([closedPort(), closedPort()]);
    const { code, stdout } = await check({
      DISCORD_API_URL: `http://127.0.0.1:${discordPort}/api`,
      DASHSCOPE_HTTP_BASE_URL: `http://127.0.0.1:${dashscopePort}/api/v1`,
    });

    expect(code).toBe(1);
    expect(stdout).toContain(`✗ Discord: Discord cannot be reached at http://127.0.0.1:${discordPort}/api (ECONNREFUSED); check DISCORD_API_URL`);
    expect(stdout).toContain(
      `✗ DashScope: DashScope cannot be reached at http://127.0.0.1:${dashscopePort}/api/v1 (ECONNREFUSED); check DASHSCOPE_HTTP_BASE_URL`,
    );
  });

  it("lists every missing setting and fails", async () => {
    const { code, stdout } = await check({ DISCORD_TOKEN: "", DASHSCOPE_API_KEY: "" });

    expect(code).toBe(1);
    expect(stdout).toContain("DISCORD_TOKEN is required");
    expect(stdout).toContain("DASHSCOPE_API_KEY is required");
  });
});
