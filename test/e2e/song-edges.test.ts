import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ApplicationCommandOptionType } from "discord.js";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { startFakeDiscord, type FakeDiscord, type FakeMessageView } from "../fakes/discord/index.js";
import { type Sandbox, startSandbox, waitUntilAccepted } from "./harness.js";

const run = promisify(execFile);
const MUSIC_PATH = "/api/v1/services/audio/music/generation";
const hasSong = (message: FakeMessageView) => message.embeds.length > 0;
const text = (name: string, value: string) => ({ type: ApplicationCommandOptionType.String, name, value });

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe("/song at the edges", () => {
  it("streams Chinese lyrics within the streaming limits, section tags not counted", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 300 } });
    const lyrics = `[verse]\n${"春风吹过山岗".repeat(30)}\n\n[chorus]\n${"我们一起唱歌".repeat(24)}`;
    const handle = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: [text("lyrics", lyrics.replace(/\n/g, "\\n"))] });
    const reply = await handle.waitForOriginal(hasSong, 20_000);
    const call = sandbox.dashscope.requests.find((r) => r.path === MUSIC_PATH);
    expect(call?.sse).toBe(true);
    expect(call?.status).toBe(200);
    expect(reply.embeds[0]?.description).toContain("**Chorus**");
  });

  it("shows a waiting user their place in the queue when every slot is busy", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 1500 }, env: { SONG_CONCURRENCY: "1" } });
    const first = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: [text("prompt", "first in line")] });
    await waitUntilAccepted(sandbox, first);
    const second = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: [text("prompt", "second in line")] });
    await second.waitForOriginal((m) => /position 1 in the queue/.test(m.content), 10_000);
    await second.waitForOriginal(hasSong, 20_000);
    const calls = sandbox.dashscope.requests.filter((r) => r.path === MUSIC_PATH);
    expect(calls).toHaveLength(2);
    expect((calls[1]?.receivedAt ?? 0) - (calls[0]?.receivedAt ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it("posts a song that outlived its interaction token in the channel, mentioning only the requester, and removes the stale placeholder", async () => {
    sandbox = await startSandbox({ discord: { interactionTokenLifetimeMs: 1500 }, dashscope: { generationMs: 2500 } });
    const user = sandbox.discord.createUser({ username: "patient" });
    const handle = await sandbox.discord.sendSlashCommand({ name: "song", user, options: [text("prompt", "slow dawn")] });
    await handle.response();
    const channelId = sandbox.discord.guilds[0]?.textChannelId;
    const deadline = Date.now() + 15_000;
    let posted: FakeMessageView | undefined;
    while (!posted && Date.now() < deadline) {
      posted = sandbox.discord.messages(channelId).find((m) => m.fromBot && m.interactionId === null && m.embeds.length > 0);
      if (!posted) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(posted?.content).toBe(`<@${user.id}>`);
    expect(posted?.attachments[0]?.filename).toBe("slow-dawn.mp3");
    expect(posted?.allowedMentions).toEqual({ parse: [], users: [user.id] });
    expect(handle.requests().some((r) => r.status === 401)).toBe(true);
    // The reply the token can no longer edit is not left on "Composing…": the bot's token removes it.
    await vi.waitFor(() => expect(handle.originalDeleted).toBe(true), { timeout: 5_000 });
  });
});

describe("a song request that ends without a song after its token ran out", () => {
  it("tells the requester by direct message and removes the public placeholder, leaving nothing on a progress line", async () => {
    sandbox = await startSandbox({ discord: { interactionTokenLifetimeMs: 1_500 }, dashscope: { generationMs: 2_500 } });
    // The answer breaks off mid-body after the token is gone: its outcome is unknown.
    sandbox.dashscope.enqueue({ kind: "reset-mid-stream", afterEvents: 0 });
    const user = sandbox.discord.createUser({ username: "late" });
    const handle = await sandbox.discord.sendSlashCommand({ name: "song", user, options: [text("prompt", "broken radio")] });
    await handle.response();
    const dm = sandbox.discord.botDmChannelId(user.id);
    const current = sandbox;
    await vi.waitFor(() => expect(current.discord.messages(dm).filter((m) => m.fromBot)).toHaveLength(1), { timeout: 30_000 });
    expect(sandbox.discord.messages(dm).find((m) => m.fromBot)?.content).toMatch(/may have been charged/);
    await vi.waitFor(() => expect(handle.originalDeleted).toBe(true), { timeout: 5_000 });
  }, 60_000);
});

describe("Analyze audio with the default settings", () => {
  it("uploads even audio the model could read by link, and says when only the start of a long recording was analysed", async () => {
    const { readFile } = await import("node:fs/promises");
    sandbox = await startSandbox({ dashscope: { generationMs: 100 }, env: { ANALYSIS_MAX_PARTS: "2" } });
    const mp3 = await sandbox.discord.sendMessageCommand({
      name: "Analyze audio",
      user: sandbox.discord.createUser(),
      targetMessage: { attachments: [{ filename: "music-clip.mp3", bytes: await readFile("test/fixtures/audio/music-clip.mp3"), contentType: "audio/mpeg" }] },
    });
    await mp3.waitForOriginal(hasSong, 20_000);
    expect(sandbox.dashscope.uploads()).toHaveLength(1);

    const long = await sandbox.discord.sendMessageCommand({
      name: "Analyze audio",
      user: sandbox.discord.createUser(),
      targetMessage: { attachments: [{ filename: "long.ogg", bytes: await readFile("test/fixtures/audio/long-recording.ogg"), contentType: "audio/ogg" }] },
    });
    const reply = await long.waitForOriginal(hasSong, 30_000);
    expect(reply.embeds[0]?.description).toMatch(/Only the first 1:00 of 1:15 were analysed/);
    expect(sandbox.dashscope.uploads()).toHaveLength(3);
  });
});

describe("npm run register", () => {
  let discord: FakeDiscord | undefined;
  afterAll(async () => {
    await discord?.close();
  });

  it("bulk-overwrites the commands in the dev guild with only Discord settings, no DashScope key needed", async () => {
    discord = await startFakeDiscord();
    const guildId = discord.guilds[0]?.id ?? "";
    const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.restUrl, DEV_GUILD_ID: guildId };
    const { stdout } = await run(process.execPath, ["--import", "tsx", "src/register-commands.ts"], { env, cwd: process.cwd(), timeout: 30_000 });
    expect(stdout).toMatch(/Registered 5 command\(s\) for guild .*: song, Analyze audio, settings, usage, limits/);
    expect(discord.registeredCommands(guildId).map((c) => c.name)).toEqual(["song", "Analyze audio", "settings", "usage", "limits"]);
  });

  it("refuses to run without a token, listing the problem", async () => {
    const failure = await run(process.execPath, ["--import", "tsx", "src/register-commands.ts"], {
      // Set but empty, so a developer's own .env can't fill it in: dotenv never overrides a set variable.
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", DISCORD_TOKEN: "" },
      cwd: process.cwd(),
      timeout: 30_000,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringMatching(/DISCORD_TOKEN is required/) });
  });
});
