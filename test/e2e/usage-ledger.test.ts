import { readFile } from "node:fs/promises";
import { ApplicationCommandOptionType } from "discord.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FakeMessageView } from "../fakes/discord/index.js";
import { ledgerRows } from "../../src/usage/index.js";
import { privateReply, type Sandbox, startSandbox, waitUntilAccepted } from "./harness.js";

const MUSIC_PATH = "/api/v1/services/audio/music/generation";
const QWEN_PATH = "/api/v1/services/aigc/multimodal-generation/generation";
const answered = (message: FakeMessageView) => message.embeds.length > 0;
const prompt = (value: string) => [{ type: ApplicationCommandOptionType.String, name: "prompt", value }];

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const rows = (s: Sandbox) => ledgerRows(s.bot.usageStore, { guildId: s.guildId }, "all");

describe("the usage ledger", () => {
  it("records every song call once, paid or failed, with what it billed and delivered", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 100, songSeconds: 8 } });
    const user = sandbox.discord.createUser();
    const ok = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("ledger tune") });
    const reply = await ok.waitForOriginal(answered, 20_000);
    sandbox.dashscope.enqueue({ kind: "error", status: 401, code: "InvalidApiKey", path: MUSIC_PATH });
    const failed = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("ledger fail") });
    await failed.waitForFollowup((m) => m.ephemeral, 20_000);

    const calls = sandbox.dashscope.requests.filter((r) => r.path === MUSIC_PATH);
    // The delivery is recorded just after the reply is posted.
    const current = sandbox;
    await vi.waitFor(async () => expect((await rows(current)).find((row) => row.outcome === "ok")?.bytesDelivered).not.toBeNull());
    const ledger = await rows(sandbox);
    expect(ledger).toHaveLength(2);
    const paid = ledger.find((row) => row.outcome === "ok");
    expect(paid).toMatchObject({
      requestId: calls[0]?.requestId,
      guildId: sandbox.guildId,
      userId: user.id,
      feature: "song",
      model: "fun-music-v1",
      musicSeconds: 8,
      bytesDelivered: reply.attachments[0]?.size,
    });
    expect(paid?.latencyMs).toBeGreaterThan(0);
    expect(ledger.find((row) => row.outcome !== "ok")).toMatchObject({ outcome: "InvalidApiKey", requestId: calls[1]?.requestId, musicSeconds: 0 });
  });

  it("records each Qwen-Audio call of a split recording with its tokens, text and audio apart", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 50 } });
    const handle = await sandbox.discord.sendMessageCommand({
      name: "Analyze audio",
      user: sandbox.discord.createUser(),
      targetMessage: { attachments: [{ filename: "long.ogg", bytes: await readFile("test/fixtures/audio/long-recording.ogg"), contentType: "audio/ogg" }] },
    });
    await handle.waitForOriginal(answered, 30_000);
    const ledger = await rows(sandbox);
    const calls = sandbox.dashscope.requests.filter((r) => r.path === QWEN_PATH);
    expect(ledger).toHaveLength(3);
    expect(ledger.map((row) => row.requestId).sort()).toEqual(calls.map((call) => call.requestId).sort());
    for (const row of ledger) {
      expect(row).toMatchObject({ feature: "analysis", model: "qwen2-audio-instruct", outcome: "ok" });
      expect(row.audioTokens).toBeGreaterThan(300);
      expect(row.inputTokens).toBeGreaterThan(0);
      expect(row.outputTokens).toBeGreaterThan(0);
    }
  });
});

describe("quotas", () => {
  it("refuses a user's song past the daily limit, before any paid call, saying when it resets; a failed song is refunded", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 50 }, env: { QUOTA_USER_DAILY_SONGS: "1" } });
    const user = sandbox.discord.createUser();
    sandbox.dashscope.enqueue({ kind: "error", status: 500, code: "InternalError.Algo", path: MUSIC_PATH }, { kind: "error", status: 500, code: "InternalError.Algo", path: MUSIC_PATH }, { kind: "error", status: 500, code: "InternalError.Algo", path: MUSIC_PATH });
    const failed = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("fails") });
    await failed.waitForFollowup((m) => m.ephemeral, 20_000);

    const first = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("first") });
    await first.waitForOriginal(answered, 20_000);
    const callsBefore = sandbox.dashscope.requests.filter((r) => r.path === MUSIC_PATH).length;
    const second = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("second") });
    expect(await privateReply(second)).toMatch(/all the songs you can today\. The limit resets <t:\d+:R>/);
    expect(sandbox.dashscope.requests.filter((r) => r.path === MUSIC_PATH)).toHaveLength(callsBefore);

    const someoneElse = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: prompt("other") });
    await someoneElse.waitForOriginal(answered, 20_000);
  });

  it("makes a user wait out the cooldown between songs", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 50 }, env: { QUOTA_SONG_COOLDOWN_SECONDS: "600" } });
    const user = sandbox.discord.createUser();
    const first = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("first") });
    await first.waitForOriginal(answered, 20_000);
    const second = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("second") });
    expect(await privateReply(second)).toMatch(/cooldown.*next one <t:\d+:R>/);
  });

  it("holds music seconds while songs are made, settles them to what was billed, and says when a limit is only taken by songs in progress", async () => {
    // Each song holds up to 200 s until it is billed its real 8 s. With 250 s a month, a first song
    // holds 200 s, a second the 50 s left, and a third finds nothing left until those finish.
    sandbox = await startSandbox({ dashscope: { generationMs: 1500, songSeconds: 8 }, env: { QUOTA_GUILD_MONTHLY_MUSIC_SECONDS: "250" } });
    const first = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: prompt("one") });
    await waitUntilAccepted(sandbox, first);
    const second = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: prompt("two") });
    await waitUntilAccepted(sandbox, second);
    const third = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: prompt("three") });
    expect(await privateReply(third)).toMatch(/taken by requests still being made.*when they finish/);
    await first.waitForOriginal(answered, 20_000);
    await second.waitForOriginal(answered, 20_000);
    const after = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: prompt("four") });
    await after.waitForOriginal(answered, 20_000);
    expect((await rows(sandbox)).reduce((sum, row) => sum + row.musicSeconds, 0)).toBe(24);
  });

  it("says when the server's monthly music budget is spent, and when it resets", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 50, songSeconds: 8 }, env: { QUOTA_GUILD_MONTHLY_MUSIC_SECONDS: "8" } });
    const first = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: prompt("spends it") });
    await first.waitForOriginal(answered, 20_000);
    const next = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: prompt("too late") });
    expect(await privateReply(next)).toMatch(/music budget for the month\. It resets <t:\d+:R>.*\/limits/);
  });

  it("counts analyses against the daily analysis limit", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 50 }, env: { QUOTA_USER_DAILY_ANALYSES: "1" } });
    const user = sandbox.discord.createUser();
    const target = { attachments: [{ filename: "clip.mp3", bytes: await readFile("test/fixtures/audio/music-clip.mp3"), contentType: "audio/mpeg" }] };
    const first = await sandbox.discord.sendMessageCommand({ name: "Analyze audio", user, targetMessage: target });
    await first.waitForOriginal(answered, 20_000);
    const second = await sandbox.discord.sendMessageCommand({ name: "Analyze audio", user, targetMessage: target });
    expect(await privateReply(second)).toMatch(/all of today's audio analyses\. They reset <t:\d+:R>/);
  });
});

describe("after a restart", () => {
  it("keeps a song's buttons working and a server's settings as the admin left them", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 50 } });
    const owner = sandbox.discord.createUser();
    const song = await sandbox.discord.sendSlashCommand({ name: "song", user: owner, options: prompt("survives restarts") });
    const result = await song.waitForOriginal(answered, 20_000);
    const setting = [{ type: ApplicationCommandOptionType.Subcommand, name: "analysis-replies", options: [{ type: ApplicationCommandOptionType.String, name: "visibility", value: "public" }] }];
    const admin = await sandbox.discord.sendSlashCommand({ name: "settings", user: sandbox.discord.createUser(), memberPermissions: "32", options: setting });
    await admin.response();

    await sandbox.restartBot();

    const regen = result.components.flatMap((row) => ("components" in row ? (row.components as Array<{ custom_id?: string }>) : [])).find((c) => c.custom_id?.startsWith("song:regen:"));
    const click = await sandbox.discord.sendComponent({ customId: regen?.custom_id ?? "", message: result, user: owner });
    const again = await click.waitForOriginal(answered, 20_000);
    expect(again.attachments[0]?.filename).toBe("survives-restarts.mp3");

    const analysis = await sandbox.discord.sendMessageCommand({ name: "Analyze audio", user: owner, targetMessage: again });
    expect((await analysis.waitForOriginal(answered, 20_000)).ephemeral).toBe(false);
  });
});

describe("/usage through the running bot", () => {
  it("reports the server's usage with a chart to admins, their own usage to members, and nothing to others", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 50, songSeconds: 8 }, env: { QUOTA_USER_DAILY_SONGS: "5" } });
    const member = sandbox.discord.createUser();
    const song = await sandbox.discord.sendSlashCommand({ name: "song", user: member, options: prompt("counted") });
    await song.waitForOriginal(answered, 20_000);

    const sub = (name: string) => [{ type: ApplicationCommandOptionType.Subcommand, name, options: [] }];
    const admin = await sandbox.discord.sendSlashCommand({ name: "usage", user: sandbox.discord.createUser(), memberPermissions: "32", options: sub("server") });
    const report = await admin.waitForOriginal(answered, 20_000);
    expect(report.ephemeral).toBe(true);
    expect(JSON.stringify(report.embeds)).toContain(`<@${member.id}>`);
    expect(report.attachments.map((a) => a.filename)).toContain("usage.png");
    expect(report.attachments.find((a) => a.filename === "usage.png")?.bytes.subarray(1, 4).toString()).toBe("PNG");

    const own = await sandbox.discord.sendSlashCommand({ name: "usage", user: member, options: sub("me") });
    const mine = await own.waitForOriginal(answered, 20_000);
    expect(JSON.stringify(mine.embeds)).toMatch(/4.{0,20}of 5/);

    const other = await sandbox.discord.sendSlashCommand({ name: "usage", user: sandbox.discord.createUser(), options: sub("server") });
    expect(await privateReply(other)).toMatch(/Manage Server/);
  });
});
