import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ApplicationCommandOptionType,
  ComponentType,
  InteractionResponseType,
  MessageFlags,
  type APIButtonComponent,
  type APIStringSelectComponent,
} from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakePermissions, type FakeAttachmentInput, type FakeMessageView, type InteractionHandle } from "../fakes/discord/index.js";
import { parsedLogs, startSandbox, type Sandbox } from "./harness.js";

const QWEN_PATH = "/api/v1/services/aigc/multimodal-generation/generation";
const fixtures = join(process.cwd(), "test/fixtures/audio");
const fixture = (name: string) => readFile(join(fixtures, name));
const answered = (message: FakeMessageView) => message.embeds.length > 0;

type QwenBody = { model: string; input: { messages: Array<{ role: string; content: Array<{ audio?: string; text?: string }> }> }; parameters: Record<string, unknown> };

function buttons(message: FakeMessageView): APIButtonComponent[] {
  return message.components.flatMap((row) => ("components" in row ? (row.components as APIButtonComponent[]) : [])).filter((c) => c.type === ComponentType.Button);
}

function customIdOf(message: FakeMessageView, label: string): string {
  const found = buttons(message).find((b) => "label" in b && b.label === label);
  if (!found || !("custom_id" in found)) throw new Error(`no button "${label}" on the message; has ${buttons(message).map((b) => ("label" in b ? b.label : "?")).join(", ")}`);
  return found.custom_id;
}

async function privateText(handle: InteractionHandle): Promise<string> {
  const response = await handle.response();
  if (response.type === InteractionResponseType.ChannelMessageWithSource) {
    const data = response.data as { content?: string; flags?: number };
    expect((data.flags ?? 0) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    return data.content ?? "";
  }
  // Progress edits ("🎧 …", "⏳ …") may come first; the failure replaces them.
  const original = await handle.waitForOriginal((m) => !m.loading && !/^(🎧|⏳)/u.test(m.content), 20_000);
  expect(original.ephemeral).toBe(true);
  return original.content;
}

describe("Analyze audio end to end", () => {
  let sandbox: Sandbox;
  const qwenCalls = () => sandbox.dashscope.requests.filter((r) => r.path === QWEN_PATH);
  const lastQwenBody = () => qwenCalls().at(-1)?.body as QwenBody;

  beforeAll(async () => {
    // Links on, so the path where the model fetches a Discord attachment itself is covered here.
    sandbox = await startSandbox({ dashscope: { generationMs: 300 }, env: { ANALYSIS_SEND_DISCORD_LINKS: "true" } });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  async function analyse(attachments: FakeAttachmentInput[], options: { voice?: boolean; user?: ReturnType<Sandbox["discord"]["createUser"]> } = {}) {
    const user = options.user ?? sandbox.discord.createUser();
    const handle = await sandbox.discord.sendMessageCommand({
      name: "Analyze audio",
      user,
      targetMessage: { content: "", attachments, ...(options.voice ? { flags: MessageFlags.IsVoiceMessage } : {}) },
    });
    return { handle, user };
  }

  it("converts a spoken voice message, uploads it to temporary storage, and answers privately with labelled sections", async () => {
    const bytes = await fixture("speech-en.ogg");
    const { handle } = await analyse([{ filename: "voice-message.ogg", bytes, contentType: "audio/ogg", durationSecs: 4, waveform: "AAAA" }], { voice: true });
    const reply = await handle.waitForOriginal(answered, 20_000);

    expect(reply.ephemeral).toBe(true);
    const upload = sandbox.dashscope.uploads().at(-1);
    expect(upload?.contentType).toBe("audio/mpeg");
    const call = qwenCalls().at(-1);
    expect(call?.sse).toBe(true);
    expect(call?.headers["x-dashscope-ossresourceresolve"]).toBe("enable");
    const body = lastQwenBody();
    expect(body.model).toBe("qwen2-audio-instruct");
    expect(body.parameters).toMatchObject({ incremental_output: true, max_tokens: 1500 });
    expect(body.input.messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(body.input.messages[1]?.content[0]?.audio).toBe(upload?.url);

    const embed = reply.embeds[0];
    expect(embed?.title).toBe("What I hear in voice-message.ogg");
    expect(embed?.description).toMatch(/\*\*Summary\*\*\n.*audio 1: \d\.\d s, 1 channel/s);
    expect(embed?.description).toContain("**Transcript**");
    expect(embed?.footer?.text).toBe("Page 1/1 · qwen2-audio-instruct");
    expect(buttons(reply).map((b) => ("label" in b ? b.label : ""))).toEqual(["Transcribe", "Describe the music", "Emotion", "Translate to English", "Ask a question", "Share in channel"]);
    expect(reply.allowedMentions).toEqual({ parse: [] });
  });

  it("lets the model fetch an mp3 that already fits by its Discord link, with no upload", async () => {
    const uploadsBefore = sandbox.dashscope.uploads().length;
    const { handle } = await analyse([{ filename: "music-clip.mp3", bytes: await fixture("music-clip.mp3"), contentType: "audio/mpeg" }]);
    await handle.waitForOriginal(answered, 20_000);
    expect(sandbox.dashscope.uploads()).toHaveLength(uploadsBefore);
    const audio = lastQwenBody().input.messages[1]?.content[0]?.audio ?? "";
    expect(audio).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/attachments\/.*music-clip\.mp3/);
    expect(qwenCalls().at(-1)?.headers["x-dashscope-ossresourceresolve"]).toBeUndefined();
  });

  it("splits a 75-second recording into 30-second parts, analyses them all and merges the answers with time ranges", async () => {
    const callsBefore = qwenCalls().length;
    const { handle } = await analyse([{ filename: "long-recording.ogg", bytes: await fixture("long-recording.ogg"), contentType: "audio/ogg" }]);
    const reply = await handle.waitForOriginal(answered, 30_000);
    expect(qwenCalls().length - callsBefore).toBe(3);
    const description = reply.embeds[0]?.description ?? "";
    expect(description).toMatch(/longer than 30 s, so I listened to it in 3 parts/);
    expect(description).toContain("[0:00–0:30]");
    expect(description).toContain("[0:30–1:00]");
    expect(description).toMatch(/\[1:00–1:15\]/);
  });

  it("cuts a 75-second mp3 of 16 kbps into parts from its own frames, without re-encoding it", async () => {
    const bytes = await fixture("long-recording.mp3");
    const uploadsBefore = sandbox.dashscope.uploads().length;
    const { handle } = await analyse([{ filename: "recorder.mp3", bytes, contentType: "audio/mpeg" }]);
    const reply = await handle.waitForOriginal(answered, 30_000);
    expect(reply.embeds[0]?.description ?? "").toMatch(/longer than 30 s, so I listened to it in 3 parts/);
    const parts = sandbox.dashscope.uploads().slice(uploadsBefore);
    expect(parts).toHaveLength(3);
    for (const part of parts) {
      expect(part.contentType).toBe("audio/mpeg");
      // The source's frames as they are: a stretch from the middle of a part is found in the source.
      const middle = Math.floor(part.bytes.length / 2);
      expect(bytes.includes(part.bytes.subarray(middle, middle + 1000))).toBe(true);
    }
  });

  it("listens to the sound track of a small video", async () => {
    const { handle } = await analyse([{ filename: "screen-clip.webm", bytes: await fixture("screen-clip.webm"), contentType: "video/webm" }]);
    const reply = await handle.waitForOriginal(answered, 20_000);
    expect(reply.embeds[0]?.title).toBe("What I hear in screen-clip.webm");
    expect(lastQwenBody().input.messages[1]?.content[0]?.audio).toMatch(/^oss:\/\//);
  });

  it("says so privately when the message has no audio, or audio that can't be decoded", async () => {
    const none = await analyse([{ filename: "picture.png", bytes: await fixture("not-audio.png"), contentType: "image/png" }]);
    expect(await privateText(none.handle)).toMatch(/no voice message or audio file/);
    const corrupt = await analyse([{ filename: "broken.m4a", bytes: await fixture("corrupt.m4a"), contentType: "audio/mp4" }]);
    expect(await privateText(corrupt.handle)).toMatch(/couldn't decode `broken\.m4a` as audio/);
  });

  it("refuses a file over the size limit from Discord's metadata, before downloading it", async () => {
    // The bytes are a small valid mp3: only a check of the declared size, made before downloading, refuses it.
    const { handle } = await analyse([{ filename: "huge.mp3", bytes: await fixture("music-clip.mp3"), size: 40 * 1024 * 1024, contentType: "audio/mpeg" }]);
    expect(await privateText(handle)).toMatch(/That file is 40 MB; I analyse files up to 25 MB/);
  });

  it("tells the user when a file labelled as audio is not audio at all", async () => {
    const { handle } = await analyse([{ filename: "notes.ogg", bytes: await fixture("not-audio.txt"), contentType: "audio/ogg" }]);
    expect(await privateText(handle)).toMatch(/couldn't decode `notes\.ogg` as audio/);
  });

  it("keeps the parts that were answered when one part fails, and names the missing range", async () => {
    sandbox.dashscope.enqueue({ kind: "error", status: 400, code: "InvalidParameter", path: QWEN_PATH });
    const { handle } = await analyse([{ filename: "long-recording.ogg", bytes: await fixture("long-recording.ogg"), contentType: "audio/ogg" }]);
    const reply = await handle.waitForOriginal(answered, 30_000);
    expect(reply.embeds[0]?.description).toMatch(/These parts could not be analysed: \d:\d\d–\d:\d\d\./);
    expect(reply.embeds[0]?.description).toMatch(/\[\d:\d\d–\d:\d\d\] Turn 1\. audio 1/);
  });

  describe("following up", () => {
    let owner: ReturnType<Sandbox["discord"]["createUser"]>;
    let first: FakeMessageView;

    beforeAll(async () => {
      const files: FakeAttachmentInput[] = [
        { filename: "voice-note.3gp", bytes: await fixture("voice-note.3gp"), contentType: "audio/3gpp" },
        { filename: "tone.flac", bytes: await fixture("tone.flac"), contentType: "audio/flac" },
        { filename: "memo.m4a", bytes: await fixture("memo.m4a"), contentType: "audio/mp4" },
      ];
      const started = await analyse(files);
      owner = started.user;
      first = await started.handle.waitForOriginal(answered, 20_000);
    });

    it("reuses the uploaded audio for follow-ups instead of uploading again", async () => {
      const uploads = sandbox.dashscope.uploads().length;
      const click = await sandbox.discord.sendComponent({ customId: customIdOf(first, "Emotion"), message: first, user: owner });
      await click.waitForOriginal(answered, 20_000);
      expect(sandbox.dashscope.uploads()).toHaveLength(uploads);
      expect(lastQwenBody().input.messages[1]?.content[0]?.audio).toMatch(/^oss:\/\//);
    });

    it("continues the same conversation when Transcribe is pressed", async () => {
      const click = await sandbox.discord.sendComponent({ customId: customIdOf(first, "Transcribe"), message: first, user: owner });
      const reply = await click.waitForOriginal(answered, 20_000);
      expect(reply.embeds[0]?.title).toBe("Transcript");
      const body = lastQwenBody();
      expect(body.input.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user", "assistant", "user"]);
      expect(body.input.messages.at(-1)?.content).toEqual([{ text: expect.stringMatching(/^Transcribe/) }]);
      expect(reply.embeds[0]?.description).toMatch(/\*\*Transcript\*\*\n\[audio 1, 0\.0-\d/);
    });

    it("asks the user's own question from a modal", async () => {
      const click = await sandbox.discord.sendComponent({ customId: customIdOf(first, "Ask a question"), message: first, user: owner });
      await click.response();
      const modal = click.modal();
      const submit = await sandbox.discord.sendModalSubmit({ customId: modal!.custom_id, user: owner, fields: { question: "Is there a dog?" }, from: click });
      const reply = await submit.waitForOriginal(answered, 20_000);
      expect(reply.embeds[0]?.title).toBe("Q: Is there a dog?");
      expect(JSON.stringify(lastQwenBody().input.messages.at(-1))).toContain("Is there a dog?");
    });

    it("pages a long answer with buttons instead of cutting it", async () => {
      const click = await sandbox.discord.sendComponent({ customId: customIdOf(first, "Ask a question"), message: first, user: owner });
      await click.response();
      const submit = await sandbox.discord.sendModalSubmit({ customId: click.modal()!.custom_id, user: owner, fields: { question: "Describe everything in great detail, please." }, from: click });
      const reply = await submit.waitForOriginal(answered, 20_000);
      const pages = Number(/Page 1\/(\d+)/.exec(reply.embeds[0]?.footer?.text ?? "")?.[1]);
      expect(pages).toBeGreaterThan(1);
      const next = await sandbox.discord.sendComponent({ customId: customIdOf(reply, "Next"), message: reply, user: owner });
      await next.response();
      expect(next.initialResponse()?.type).toBe(InteractionResponseType.UpdateMessage);
      const updated = sandbox.discord.message(reply.id);
      expect(updated?.embeds[0]?.footer?.text).toBe(`Page 2/${pages} · qwen2-audio-instruct`);
      expect(updated?.embeds[0]?.description).not.toBe(reply.embeds[0]?.description);
    });

    it("shares a private answer in the channel for everyone", async () => {
      const click = await sandbox.discord.sendComponent({ customId: customIdOf(first, "Share in channel"), message: first, user: owner });
      const response = await click.response();
      expect(response.type).toBe(InteractionResponseType.ChannelMessageWithSource);
      const shared = click.original();
      expect(shared?.ephemeral).toBe(false);
      expect(shared?.embeds[0]?.author?.name).toMatch(/^Shared by /);
      expect(shared?.embeds[0]?.description).toBe(first.embeds[0]?.description);
    });

    it("offers the message's other audio files in a menu and analyses the one picked", async () => {
      const select = first.components
        .flatMap((row) => ("components" in row ? (row.components as Array<{ type: ComponentType }>) : []))
        .find((c) => c.type === ComponentType.StringSelect) as APIStringSelectComponent | undefined;
      expect(select?.options.map((o) => o.label)).toEqual(["tone.flac", "memo.m4a"]);
      const pick = await sandbox.discord.sendComponent({ customId: select!.custom_id, componentType: ComponentType.StringSelect, values: ["1"], message: first, user: owner });
      const reply = await pick.waitForOriginal(answered, 20_000);
      expect(reply.embeds[0]?.title).toBe("What I hear in memo.m4a");
      const nextMenu = reply.components
        .flatMap((row) => ("components" in row ? (row.components as Array<{ type: ComponentType }>) : []))
        .find((c) => c.type === ComponentType.StringSelect) as APIStringSelectComponent | undefined;
      expect(nextMenu?.options.map((o) => o.label)).toEqual(["voice-note.3gp", "tone.flac"]);
    });
  });

  it("explains a DashScope failure privately", async () => {
    sandbox.dashscope.enqueue({ kind: "error", status: 401, code: "InvalidApiKey", path: QWEN_PATH });
    const { handle } = await analyse([{ filename: "music-clip.mp3", bytes: await fixture("music-clip.mp3"), contentType: "audio/mpeg" }]);
    expect(await privateText(handle)).toMatch(/API key was refused/);
  });

  it("makes replies public once an admin sets it, and refuses members who can't manage the server", async () => {
    const setting = [{ type: ApplicationCommandOptionType.Subcommand, name: "analysis-replies", options: [{ type: ApplicationCommandOptionType.String, name: "visibility", value: "public" }] }];
    const member = await sandbox.discord.sendSlashCommand({ name: "settings", user: sandbox.discord.createUser(), memberPermissions: FakePermissions.member, options: setting });
    expect(await privateText(member)).toMatch(/Only members with the Manage Server permission/);

    const admin = await sandbox.discord.sendSlashCommand({ name: "settings", user: sandbox.discord.createUser(), memberPermissions: FakePermissions.manageGuild, options: setting });
    expect(await privateText(admin)).toMatch(/now public by default/);

    const { handle } = await analyse([{ filename: "music-clip.mp3", bytes: await fixture("music-clip.mp3"), contentType: "audio/mpeg" }]);
    const reply = await handle.waitForOriginal(answered, 20_000);
    expect(reply.ephemeral).toBe(false);
    expect(buttons(reply).map((b) => ("label" in b ? b.label : ""))).not.toContain("Share in channel");

    // A public reply's follow-up buttons stay with the person who asked (each costs tokens).
    const stranger = await sandbox.discord.sendComponent({ customId: customIdOf(reply, "Emotion"), message: reply, user: sandbox.discord.createUser() });
    expect(await privateText(stranger)).toMatch(/Only the person who asked for this analysis/);
  });

  it("analyses a generated song from its Analyze button", async () => {
    const user = sandbox.discord.createUser();
    const song = await sandbox.discord.sendSlashCommand({ name: "song", user, options: [{ type: ApplicationCommandOptionType.String, name: "prompt", value: "tiny tune" }] });
    const result = await song.waitForOriginal(answered, 20_000);
    const click = await sandbox.discord.sendComponent({ customId: customIdOf(result, "Analyze"), message: result, user: sandbox.discord.createUser() });
    const reply = await click.waitForOriginal(answered, 20_000);
    expect(reply.embeds[0]?.title).toBe("What I hear in tiny-tune.mp3");
  });

  it("logs the tokens of every analysis and never the secrets", () => {
    const analysed = parsedLogs(sandbox).filter((line) => line.msg === "audio analysed");
    expect(analysed.length).toBeGreaterThanOrEqual(8);
    for (const line of analysed) expect(line).toMatchObject({ inputTokens: expect.any(Number), outputTokens: expect.any(Number), audioTokens: expect.any(Number), interactionId: expect.any(String) });
    const calls = parsedLogs(sandbox).filter((line) => line.msg === "dashscope call" && line.endpoint === "/services/aigc/multimodal-generation/generation");
    for (const line of calls) expect(line).toMatchObject({ interactionId: expect.any(String), userId: expect.any(String) });
    const everything = sandbox.logLines.join("");
    expect(everything).not.toContain(sandbox.discord.token);
    expect(everything).not.toContain(sandbox.dashscope.apiKey);
  });
});
