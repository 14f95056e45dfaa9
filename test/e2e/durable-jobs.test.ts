import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ApplicationCommandOptionType, MessageFlags } from "discord.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ledgerRows } from "../../src/usage/index.js";
import type { FakeMessageView } from "../fakes/discord/index.js";
import { spawnBot, type BotProcess } from "./bot-process.js";
import { privateReply, type Sandbox, startSandbox, waitUntilAccepted } from "./harness.js";

const MUSIC_PATH = "/api/v1/services/audio/music/generation";
const hasSong = (message: FakeMessageView) => message.embeds.length > 0 && message.attachments.length > 0;
const prompt = (value: string) => [{ type: ApplicationCommandOptionType.String, name: "prompt", value }];
const buttonIds = (message: FakeMessageView): string[] =>
  (message.components as Array<{ components?: Array<{ custom_id?: string }> }>).flatMap((row) => row.components ?? []).flatMap((c) => (c.custom_id ? [c.custom_id] : []));

let sandbox: Sandbox | undefined;
let child: BotProcess | undefined;

afterEach(async () => {
  await child?.kill("SIGKILL");
  child = undefined;
  await sandbox?.close();
  sandbox = undefined;
});

function musicCalls(current: Sandbox) {
  return current.dashscope.requests.filter((request) => request.path === MUSIC_PATH);
}

async function ledger(current: Sandbox) {
  return ledgerRows(current.bot.usageStore, { guildId: current.guildId }, "all");
}

/** A test that starts the bot as a child process (tsx compiles it there): a ceiling for a loaded machine. */
const CHILD_PROCESS_TEST_MS = 90_000;

/** Stops the sandbox's own bot and runs the same bot, on the same database, in a child process. */
async function moveBotToChild(current: Sandbox): Promise<BotProcess> {
  await current.bot.stop(2_000);
  return spawnBot(current.env);
}

describe("songs as durable jobs", () => {
  it("tells the requester the bot restarted mid-song, records the call as interrupted, frees the hold and offers Try again", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 5_000 }, env: { QUOTA_USER_DAILY_SONGS: "1" } });
    child = await moveBotToChild(sandbox);
    const user = sandbox.discord.createUser({ username: "unlucky" });
    const handle = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("crash course") });
    await handle.response();
    const current = sandbox;
    await vi.waitFor(() => expect(musicCalls(current)).toHaveLength(1), { timeout: 10_000 });

    await child.kill("SIGKILL");
    const restartedAt = Date.now();
    await sandbox.startBot();
    const notice = await handle.waitForFollowup((m) => m.ephemeral && /restarted while your request was being made/.test(m.content), 15_000);
    console.log(`restart → interrupted notice: ${Date.now() - restartedAt} ms`);
    expect(notice.content).toMatch(/may still have charged/);
    expect(buttonIds(notice).some((id) => id.startsWith("job:retry:"))).toBe(true);
    // The "composing…" placeholder is gone, not left behind.
    expect(handle.originalDeleted).toBe(true);

    const rows = await ledger(sandbox);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: "interrupted", userId: user.id, feature: "song", musicSeconds: 0 });
    const jobs = await sandbox.bot.usageStore.db.selectFrom("bot_jobs").select(["state", "error_code"]).execute();
    expect(jobs).toEqual([{ state: "interrupted", error_code: "Interrupted" }]);
    // Admins see interrupted calls apart from the other failures: they may have been charged.
    const report = await sandbox.discord.sendSlashCommand({
      name: "usage",
      user: sandbox.discord.createUser(),
      memberPermissions: "32",
      options: [{ type: ApplicationCommandOptionType.Subcommand, name: "server", options: [] }],
    });
    const failures = (await report.waitForOriginal((m) => m.embeds.length > 0, 20_000)).embeds[0]?.fields?.find((field) => field.name === "Failures");
    expect(failures?.value).toMatch(/1 interrupted: .*may have charged/);

    // The hold was released: with one song a day, Try again is not refused.
    const retry = await sandbox.discord.sendComponent({ customId: buttonIds(notice).find((id) => id.startsWith("job:retry:")) ?? "", message: notice, user });
    const song = await retry.waitForOriginal(hasSong, 20_000);
    expect(song.attachments[0]?.filename).toBe("crash-course.mp3");
    expect(musicCalls(sandbox)).toHaveLength(2);
  }, CHILD_PROCESS_TEST_MS);

  it("delivers a song billed before the crash from its stored link, without composing it again", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 300 } });
    child = await moveBotToChild(sandbox);
    // The song is composed and billed; fetching its file then hangs, and the process dies meanwhile.
    sandbox.dashscope.enqueue({ kind: "delay", ms: 20_000, path: "/results" });
    const user = sandbox.discord.createUser({ username: "paid" });
    const handle = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("paid for") });
    await handle.response();
    const current = sandbox;
    await vi.waitFor(() => expect(current.dashscope.requests.some((r) => r.path.startsWith("/results"))).toBe(true), { timeout: 10_000 });

    await child.kill("SIGKILL");
    const restartedAt = Date.now();
    await sandbox.startBot();
    const reply = await handle.waitForOriginal(hasSong, 20_000);
    console.log(`restart → billed song delivered: ${Date.now() - restartedAt} ms`);
    expect(reply.attachments[0]?.filename).toBe("paid-for.mp3");
    expect(musicCalls(sandbox)).toHaveLength(1);
    const rows = await ledger(sandbox);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: "ok", musicSeconds: 8, requestId: musicCalls(sandbox)[0]?.requestId });
    await vi.waitFor(async () => expect((await ledger(current))[0]?.bytesDelivered).toBe(reply.attachments[0]?.size));
  }, CHILD_PROCESS_TEST_MS);

  it("keeps queued requests across a restart: they say so, keep their place, and are made after it", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 1_500 }, env: { SONG_CONCURRENCY: "1" } });
    const first = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: prompt("first of two") });
    await waitUntilAccepted(sandbox, first);
    const second = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: prompt("second of two") });
    await second.waitForOriginal((m) => /position 1 in the queue/.test(m.content), 10_000);

    const stopping = sandbox.bot.stop(10_000);
    await second.waitForOriginal((m) => /restarting\. Your request keeps its place/.test(m.content), 10_000);
    await stopping;
    // The song under way was allowed to finish within the grace period.
    await first.waitForOriginal(hasSong, 1_000);
    expect(musicCalls(sandbox)).toHaveLength(1);

    await sandbox.startBot();
    const song = await second.waitForOriginal(hasSong, 20_000);
    expect(song.attachments[0]?.filename).toBe("second-of-two.mp3");
    expect(musicCalls(sandbox)).toHaveLength(2);
  });

  // A running song shows no Cancel button (Discord refuses a click on a button no longer there); the
  // race of a click with the claim is the job table's (job-store.test.ts: "cancels only a job that is still queued").
  it("lets the requester cancel a queued song: the hold goes back and nothing is charged", async () => {
    sandbox = await startSandbox({ dashscope: { generationMs: 2_500 }, env: { SONG_CONCURRENCY: "1", QUOTA_USER_DAILY_SONGS: "1" } });
    const runningUser = sandbox.discord.createUser();
    const first = await sandbox.discord.sendSlashCommand({ name: "song", user: runningUser, options: prompt("running already") });
    await waitUntilAccepted(sandbox, first);
    const user = sandbox.discord.createUser({ username: "changed-mind" });
    const second = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("never mind") });
    const waiting = await second.waitForOriginal((m) => /position 1 in the queue/.test(m.content) && buttonIds(m).length > 0, 10_000);
    const cancelId = buttonIds(waiting).find((id) => id.startsWith("job:cancel:")) ?? "";

    const stranger = await sandbox.discord.sendComponent({ customId: cancelId, message: waiting, user: sandbox.discord.createUser() });
    expect(await privateReply(stranger)).toMatch(/Only the person who asked/);

    const click = await sandbox.discord.sendComponent({ customId: cancelId, message: waiting, user });
    await click.response();
    const cancelled = await second.waitForOriginal((m) => /Cancelled\. Nothing was charged/.test(m.content), 5_000);
    expect(buttonIds(cancelled)).toEqual([]);

    await first.waitForOriginal(hasSong, 20_000);
    expect(musicCalls(sandbox)).toHaveLength(1);
    expect((await ledger(sandbox)).filter((row) => row.userId === user.id)).toHaveLength(0);
    // The hold is back: with one song a day, this user can still ask for one.
    const again = await sandbox.discord.sendSlashCommand({ name: "song", user, options: prompt("after all") });
    await again.waitForOriginal(hasSong, 20_000);
  });
});

describe("analyses as durable jobs", () => {
  const answered = (message: FakeMessageView) => message.embeds.length > 0;
  const labelled = (message: FakeMessageView, label: string) =>
    (message.components as Array<{ components?: Array<{ custom_id?: string; label?: string }> }>)
      .flatMap((row) => row.components ?? [])
      .find((c) => c.label === label)?.custom_id ?? "";

  it("keeps an analysis's conversation across a restart, so its follow-up buttons go on working", async () => {
    sandbox = await startSandbox();
    const user = sandbox.discord.createUser({ username: "listener" });
    const bytes = await readFile(join(process.cwd(), "test/fixtures/audio/speech-en.ogg"));
    const handle = await sandbox.discord.sendMessageCommand({
      name: "Analyze audio",
      user,
      targetMessage: { content: "", attachments: [{ filename: "voice-message.ogg", bytes, contentType: "audio/ogg", durationSecs: 4, waveform: "AAAA" }], flags: MessageFlags.IsVoiceMessage },
    });
    const first = await handle.waitForOriginal(answered, 20_000);
    const uploads = sandbox.dashscope.uploads().length;

    await sandbox.restartBot();
    const click = await sandbox.discord.sendComponent({ customId: labelled(first, "Transcribe"), message: first, user });
    const reply = await click.waitForOriginal(answered, 20_000);
    expect(reply.embeds[0]?.title).toBe("Transcript");
    // The same conversation, continued: the audio was not uploaded again, and the model saw the first turn.
    expect(sandbox.dashscope.uploads()).toHaveLength(uploads);
    const rows = await ledger(sandbox);
    expect(rows.map((row) => row.feature).sort()).toEqual(["analysis", "follow-up"]);
  });

  it("tells the requester of a private analysis that outlived its token by DM, without the answer", async () => {
    sandbox = await startSandbox({ discord: { interactionTokenLifetimeMs: 1_500 }, dashscope: { generationMs: 3_000 } });
    const user = sandbox.discord.createUser({ username: "slow-listener" });
    const bytes = await readFile(join(process.cwd(), "test/fixtures/audio/speech-en.ogg"));
    sandbox.dashscope.enqueue({ kind: "delay", ms: 3_000, path: "/services/aigc/multimodal-generation/generation" });
    const handle = await sandbox.discord.sendMessageCommand({
      name: "Analyze audio",
      user,
      targetMessage: { content: "", attachments: [{ filename: "voice-message.ogg", bytes, contentType: "audio/ogg", durationSecs: 4, waveform: "AAAA" }], flags: MessageFlags.IsVoiceMessage },
    });
    await handle.response();
    const dm = sandbox.discord.botDmChannelId(user.id);
    const current = sandbox;
    await vi.waitFor(() => expect(current.discord.messages(dm).filter((m) => m.fromBot)).toHaveLength(1), { timeout: 20_000 });
    const notice = sandbox.discord.messages(dm).find((m) => m.fromBot);
    expect(notice?.content).toMatch(/finished after Discord's 15-minute reply window closed/);
    expect(notice?.embeds).toEqual([]);
    // Nothing of it anywhere public.
    const channel = sandbox.discord.guilds[0]?.textChannelId;
    expect(sandbox.discord.messages(channel).filter((m) => m.fromBot && m.interactionId === null)).toEqual([]);
  });
});

