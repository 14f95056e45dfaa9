import { readFile } from "node:fs/promises";
import { ApplicationCommandOptionType, ComponentType, InteractionResponseType, MessageFlags, type APIButtonComponent } from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakePermissions, type FakeMessageView, type InteractionHandle } from "../fakes/discord/index.js";
import { ledgerRows } from "../../src/usage/index.js";
import { privateReply, startSandbox, type Sandbox } from "./harness.js";

/*
 * The bot in the member's language, against the fakes: private answers follow `interaction.locale`,
 * public song messages (the result and its progress) the server's `guild_locale`, and a locale
 * without a catalog reads English. Outside a server with the bot (its DM, a user install) the
 * member's own language is all there is, and a song that outlives the interaction token goes to
 * the requester by DM: the bot's token reaches no channel there.
 */

const MUSIC_PATH = "/api/v1/services/audio/music/generation";
const QWEN_PATH = "/api/v1/services/aigc/multimodal-generation/generation";
const answered = (message: FakeMessageView) => message.embeds.length > 0;
const hasSong = (message: FakeMessageView) => message.embeds.length > 0 && message.attachments.length > 0;
const text = (name: string, value: string) => ({ type: ApplicationCommandOptionType.String, name, value });
const WEBHOOK_ORIGINAL = "/webhooks/:applicationId/:interactionToken/messages/:messageId";

/** The contents of every accepted edit of the reply that showed progress (no embeds yet). */
function progressEdits(handle: InteractionHandle): string[] {
  return handle
    .requests()
    .filter((request) => request.method === "PATCH" && request.route === WEBHOOK_ORIGINAL && request.status === 200)
    .map((request) => request.json as { content?: string; embeds?: unknown[] })
    .filter((body) => typeof body.content === "string" && body.content !== "" && (body.embeds ?? []).length === 0)
    .map((body) => body.content ?? "");
}

const VOICE_MESSAGE = async () => ({
  content: "",
  flags: MessageFlags.IsVoiceMessage,
  attachments: [{ filename: "voice-message.ogg", bytes: await readFile("test/fixtures/audio/speech-en.ogg"), contentType: "audio/ogg", durationSecs: 4, waveform: "AAAA" }],
});
const sub = (name: string, options: { type: ApplicationCommandOptionType; name: string; value: string }[] = []) => [
  { type: ApplicationCommandOptionType.Subcommand, name, options },
];

function buttonLabels(message: FakeMessageView): string[] {
  return message.components
    .flatMap((row) => ("components" in row ? (row.components as APIButtonComponent[]) : []))
    .filter((component) => component.type === ComponentType.Button)
    .map((component) => ("label" in component ? (component.label ?? "") : ""));
}

describe("the bot in the member's language", () => {
  let sandbox: Sandbox;
  const musicCalls = () => sandbox.dashscope.requests.filter((r) => r.path === MUSIC_PATH).length;

  beforeAll(async () => {
    // A server set to Japanese: what members see privately still follows their own language.
    sandbox = await startSandbox({
      // Long enough for the reply to show the composing progress (edited on 1 s ticks) at least once.
      dashscope: { generationMs: 2_200, songSeconds: 8 },
      discord: { guilds: [{ id: "500000000000000001", name: "夏日音乐俱乐部", preferredLocale: "ja" }] },
      // Registered globally, as in production: a DEV_GUILD_ID's guild commands reach no DM.
      env: { DEV_GUILD_ID: "" },
    });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it("refuses a zh-CN member's too-short Chinese lyrics in Chinese, counting 汉字, with the numbers in it", async () => {
    const before = musicCalls();
    const handle = await sandbox.discord.sendSlashCommand({
      name: "song",
      locale: "zh-CN",
      user: sandbox.discord.createUser(),
      options: [{ type: ApplicationCommandOptionType.String, name: "lyrics", value: "你好" }],
    });
    expect(await privateReply(handle)).toBe("歌词太短了：目前是 2 个汉字，Fun-Music 至少需要 5 个汉字。请再补充 3 个汉字。");
    expect(musicCalls()).toBe(before);
  });

  it("answers a member whose language has no catalog in English, in a Japanese server too", async () => {
    for (const locale of ["ko", "en-GB"] as const) {
      const handle = await sandbox.discord.sendSlashCommand({
        name: "song",
        locale,
        user: sandbox.discord.createUser(),
        options: [{ type: ApplicationCommandOptionType.String, name: "lyrics", value: "你好" }],
      });
      expect(await privateReply(handle)).toBe(
        "Your lyrics are too short: 2 Chinese characters, and Fun-Music needs at least 5 Chinese characters. Add 3 more.",
      );
    }
  });

  it("answers a ja member's /limits in Japanese and an en-US admin's in English", async () => {
    const japanese = await sandbox.discord.sendSlashCommand({ name: "limits", locale: "ja", memberPermissions: FakePermissions.manageGuild, user: sandbox.discord.createUser(), options: sub("show") });
    const shown = await japanese.waitForOriginal(answered, 10_000);
    expect(shown.embeds[0]?.title).toBe("このサーバーの上限");
    const english = await sandbox.discord.sendSlashCommand({
      name: "limits",
      locale: "en-US",
      memberPermissions: FakePermissions.manageGuild,
      user: sandbox.discord.createUser(),
      options: sub("set", [
        { type: ApplicationCommandOptionType.String, name: "limit", value: "userDailySongs" },
        { type: ApplicationCommandOptionType.String, name: "value", value: "5000000000000" },
      ]),
    });
    expect(await privateReply(english)).toBe("**Songs per member per day** can be at most 1,000,000,000,000.");
  });

  it("gives a zh-CN admin the /usage server report in Chinese, chart included", async () => {
    const song = await sandbox.discord.sendSlashCommand({
      name: "song",
      user: sandbox.discord.createUser(),
      options: [{ type: ApplicationCommandOptionType.String, name: "prompt", value: "summer folk" }],
    });
    await song.waitForOriginal(answered, 20_000);
    const handle = await sandbox.discord.sendSlashCommand({ name: "usage", locale: "zh-CN", memberPermissions: FakePermissions.manageGuild, user: sandbox.discord.createUser(), options: sub("server") });
    const report = await handle.waitForOriginal(answered, 20_000);
    const embed = report.embeds[0];
    expect(report.ephemeral).toBe(true);
    expect(embed?.title).toBe("夏日音乐俱乐部 的用量 · 最近 30 天");
    expect(embed?.fields?.map((field) => field.name)).toEqual(["歌曲", "音频分析", "追问", "合计", "估算费用", "失败", "用量最多的成员"]);
    expect(embed?.fields?.[0]?.value).toMatch(/^\*\*1\*\* 次调用\n音乐 8 秒/);
    expect(embed?.footer?.text).toBe("费用是按配置的价格估算的，并非阿里云的实际账单。日期按 UTC 计算。");
    expect(report.attachments.find((a) => a.filename === "usage.png")?.bytes.subarray(1, 4).toString()).toBe("PNG");
  });

  it("analyses audio for a zh-CN member with Chinese labels and buttons, and asks Qwen-Audio for Simplified Chinese", async () => {
    const bytes = await readFile("test/fixtures/audio/speech-en.ogg");
    const handle = await sandbox.discord.sendMessageCommand({
      name: "Analyze audio",
      locale: "zh-CN",
      user: sandbox.discord.createUser(),
      targetMessage: { content: "", flags: MessageFlags.IsVoiceMessage, attachments: [{ filename: "voice-message.ogg", bytes, contentType: "audio/ogg", durationSecs: 4, waveform: "AAAA" }] },
    });
    const reply = await handle.waitForOriginal(answered, 20_000);
    expect(reply.ephemeral).toBe(true);
    expect(reply.embeds[0]?.title).toBe("我在 voice-message.ogg 中听到的内容");
    expect(reply.embeds[0]?.description).toContain("**概要**");
    expect(reply.embeds[0]?.footer?.text).toBe("第 1/1 页 · qwen2-audio-instruct");
    expect(buttonLabels(reply)).toEqual(["转写", "描述音乐", "情绪", "翻译成简体中文", "提问", "分享到频道"]);
    const call = sandbox.dashscope.requests.filter((r) => r.path === QWEN_PATH).at(-1);
    const system = (call?.body as { input: { messages: Array<{ role: string; content: Array<{ text?: string }> }> } }).input.messages[0];
    expect(system?.role).toBe("system");
    expect(system?.content[0]?.text).toContain("Write your answers in Simplified Chinese");
  });

  it("posts a Japanese server's song and its progress in Japanese, and tells an en-US member there privately in English", async () => {
    const user = sandbox.discord.createUser();
    const handle = await sandbox.discord.sendSlashCommand({
      name: "song",
      locale: "en-US",
      user,
      options: [text("prompt", "jazz"), text("lyrics", "[verse]\\nHello little moon\\nGood night")],
    });
    const song = await handle.waitForOriginal(hasSong, 20_000);
    expect(song.ephemeral).toBe(false);
    const fields = song.embeds[0]?.fields ?? [];
    expect(fields.map((field) => field.name)).toEqual(expect.arrayContaining(["ボーカル", "形式", "長さ"]));
    expect(fields.find((field) => field.name === "ボーカル")?.value).toBe("女性ボーカル");
    expect(song.embeds[0]?.author?.name).toBe(`リクエスト：${user.global_name ?? user.username}`);

    const progress = progressEdits(handle);
    expect(progress.length).toBeGreaterThan(0);
    for (const line of progress) expect(line).toMatch(/^(⏳ 空きを待っています|🎼 作曲中です…|📦 ファイルを準備しています…)/);
    expect(progress.some((line) => line.startsWith("🎼 作曲中です…"))).toBe(true);

    const notice = await handle.waitForFollowup((message) => message.ephemeral);
    expect(notice.content).toBe("You gave both lyrics and a prompt. Fun-Music sings the lyrics and ignores the prompt, so your prompt was not used.");
  });

  it("makes a song in the member's DM with the bot, in their language, counted under \"dm\"", async () => {
    const user = sandbox.discord.createUser();
    const handle = await sandbox.discord.sendSlashCommand({ name: "song", dm: true, userInstall: true, locale: "zh-CN", user, options: [text("prompt", "summer folk")] });
    const song = await handle.waitForOriginal(hasSong, 20_000);
    expect(song.channelId).toBe(sandbox.discord.botDmChannelId(user.id));
    expect(song.embeds[0]?.fields?.find((field) => field.name === "人声")?.value).toBe("女声");
    const rows = (await ledgerRows(sandbox.bot.usageStore, { guildId: null }, "all")).filter((row) => row.userId === user.id);
    expect(rows).toMatchObject([{ feature: "song", outcome: "ok", guildId: null }]);
    const day = await sandbox.bot.usageStore.db.selectFrom("usage_quota_user_day").select(["guild_key", "songs"]).where("user_id", "=", user.id).execute();
    expect(day).toEqual([{ guild_key: "dm", songs: 1 }]);
  });

  it("analyses a voice message in the member's DM with the bot, privately and in their language", async () => {
    const handle = await sandbox.discord.sendMessageCommand({ name: "Analyze audio", dm: true, userInstall: true, locale: "ja", user: sandbox.discord.createUser(), targetMessage: await VOICE_MESSAGE() });
    const reply = await handle.waitForOriginal(answered, 20_000);
    expect(reply.ephemeral).toBe(true);
    expect(reply.embeds[0]?.title).toContain("voice-message.ogg");
    expect(reply.embeds[0]?.footer?.text).toBe("1/1 ページ · qwen2-audio-instruct");
  });
});

describe("a song that outlives the interaction token outside a server with the bot", () => {
  let sandbox: Sandbox;
  const otherGuild = { id: "500000000000000002", name: "よそのサーバー", preferredLocale: "ja" as const };

  beforeAll(async () => {
    sandbox = await startSandbox({
      // The token dies before the song is ready: only the fallback can deliver it.
      dashscope: { generationMs: 2_000, songSeconds: 8 },
      discord: { guilds: [{ id: "500000000000000001", name: "home" }], guildsWithoutBot: [otherGuild], interactionTokenLifetimeMs: 800 },
      env: { DEV_GUILD_ID: "", QUOTA_USER_DAILY_SONGS: "1" },
    });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  /** Messages the bot posted outside any interaction (channel or DM fallbacks). */
  const botPosts = (channelId?: string) => sandbox.discord.messages(channelId).filter((message) => message.fromBot && message.interactionId === null);
  const guildChannels = () => [...sandbox.discord.guilds, ...sandbox.discord.guildsWithoutBot].map((guild) => guild.textChannelId);

  it("sends a DM /song to the requester by DM, never to a channel, and then holds them to their own daily limit", async () => {
    const user = sandbox.discord.createUser();
    const dm = sandbox.discord.botDmChannelId(user.id);
    await sandbox.discord.sendSlashCommand({ name: "song", dm: true, userInstall: true, locale: "ja", user, options: [text("prompt", "rainy night piano")] });
    const song = await waitForBotPost(sandbox, dm);
    expect(song.attachments).toHaveLength(1);
    expect(song.embeds[0]?.fields?.find((field) => field.name === "ボーカル")?.value).toBe("女性ボーカル");
    expect(song.content).not.toContain(`<@${user.id}>`);
    for (const channelId of guildChannels()) expect(botPosts(channelId)).toHaveLength(0);

    const again = await sandbox.discord.sendSlashCommand({ name: "song", dm: true, userInstall: true, locale: "ja", user, options: [text("prompt", "one more")] });
    expect(await privateReply(again)).toMatch(/^今日作れる曲数の上限に達しました。/);
    // Per user, not per "dm" as a whole: another member still gets their song.
    const other = await sandbox.discord.sendSlashCommand({ name: "song", dm: true, userInstall: true, user: sandbox.discord.createUser(), options: [text("prompt", "sunny")] });
    expect((await other.response()).type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    const days = await sandbox.bot.usageStore.db.selectFrom("usage_quota_user_day").select(["guild_key", "songs"]).where("user_id", "=", user.id).execute();
    expect(days).toEqual([{ guild_key: "dm", songs: 1 }]);
  });

  it("sends a song from a user install in a server without the bot by DM; the bot's token can't post there", async () => {
    const user = sandbox.discord.createUser();
    const dm = sandbox.discord.botDmChannelId(user.id);
    const handle = await sandbox.discord.sendSlashCommand({ name: "song", guildId: otherGuild.id, userInstall: true, locale: "en-US", user, options: [text("prompt", "city pop")] });
    expect((await handle.response()).type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    const song = await waitForBotPost(sandbox, dm);
    expect(song.attachments).toHaveLength(1);
    const otherChannel = sandbox.discord.guildsWithoutBot[0]?.textChannelId ?? "";
    expect(botPosts(otherChannel)).toHaveLength(0);
    // Whatever the bot tried in that server's channel, the fake refused as Discord does.
    const tried = sandbox.discord.requests.filter((request) => request.path.includes(`/channels/${otherChannel}`));
    for (const request of tried) expect(request.error?.code).toBe(50001);
  });

  // The server never chose the bot: its admins can't set limits and pay nothing for it.
  it("counts a user install in a server without the bot under \"dm\", per user", async () => {
    const user = sandbox.discord.createUser();
    await sandbox.discord.sendSlashCommand({ name: "song", guildId: otherGuild.id, userInstall: true, user, options: [text("prompt", "bossa nova")] });
    await waitForBotPost(sandbox, sandbox.discord.botDmChannelId(user.id));
    const days = await sandbox.bot.usageStore.db.selectFrom("usage_quota_user_day").select(["guild_key", "songs"]).where("user_id", "=", user.id).execute();
    expect(days).toEqual([{ guild_key: "dm", songs: 1 }]);
  });
});

async function waitForBotPost(sandbox: Sandbox, channelId: string, timeoutMs = 20_000): Promise<FakeMessageView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = sandbox.discord.messages(channelId).find((message) => message.fromBot && message.interactionId === null && message.embeds.length > 0);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no song posted in ${channelId}; bot requests: ${sandbox.discord.requests.map((r) => `${r.method} ${r.route ?? r.path} ${r.status}`).slice(-12).join("; ")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
