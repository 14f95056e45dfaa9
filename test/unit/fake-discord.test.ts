import { constants as zlibConstants, inflateSync } from "node:zlib";
import {
  ActionRowBuilder,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ButtonBuilder,
  ButtonStyle,
  Client,
  ComponentType,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  InteractionResponseType,
  MessageFlags,
  Routes,
  TextInputStyle,
  type ChatInputCommandInteraction,
  type Interaction,
  type RESTPostAPIApplicationCommandsJSONBody,
} from "discord.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  FakeDiscordUsageError,
  FakePermissions,
  startFakeDiscord,
  type FakeDiscord,
  type FormErrorItem,
  type StartFakeDiscordOptions,
} from "../fakes/discord/index.js";
import { connectRaw, identifyPayload } from "../fakes/discord/raw-gateway.js";

/** The commands the tests register, in the shape discord.js sends them. */
const COMMANDS: RESTPostAPIApplicationCommandsJSONBody[] = [
  {
    name: "song",
    description: "Write a song",
    options: [
      { type: ApplicationCommandOptionType.String, name: "prompt", description: "What about", required: true, max_length: 200 },
      { type: ApplicationCommandOptionType.Integer, name: "seconds", description: "Length", min_value: 5, max_value: 240 },
      { type: ApplicationCommandOptionType.Attachment, name: "melody", description: "A melody to follow" },
    ],
  },
  { name: "ping", description: "Check the bot is alive" },
  { type: ApplicationCommandType.Message, name: "Listen to this" },
];

interface Bot {
  readonly fake: FakeDiscord;
  readonly client: Client;
  readonly guildId: string;
}

async function startBot(options: StartFakeDiscordOptions = {}): Promise<Bot> {
  const fake = await startFakeDiscord(options);
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.restUrl } });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(fake.token);
  await ready;
  const guildId = fake.guilds[0]?.id ?? "";
  await client.application?.commands.set(COMMANDS, guildId);
  return { fake, client, guildId };
}

async function stopBot(bot: Bot | undefined): Promise<void> {
  await bot?.client.destroy();
  await bot?.fake.close();
}

/** Resolves with the next interaction the client emits; register before dispatching. */
function nextInteraction(client: Client): Promise<Interaction> {
  return new Promise((resolve) => client.once(Events.InteractionCreate, resolve));
}

async function slashCommand(bot: Bot, name = "ping", extra: Partial<Parameters<FakeDiscord["sendSlashCommand"]>[0]> = {}) {
  const pending = nextInteraction(bot.client);
  const handle = await bot.fake.sendSlashCommand({ name, ...extra });
  const interaction = await pending;
  if (!interaction.isChatInputCommand()) throw new Error(`expected a chat input command, got type ${interaction.type}`);
  return { handle, interaction };
}

/** Runs `action` and returns the DiscordAPIError it must throw. */
async function apiError(action: () => Promise<unknown>): Promise<DiscordAPIError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof DiscordAPIError) return error;
    throw error;
  }
  throw new Error("expected a DiscordAPIError, but the call succeeded");
}

/** The `_errors` Discord reported at `path` of a 50035 error tree. */
function formErrorsAt(error: DiscordAPIError, path: ReadonlyArray<string | number>): FormErrorItem[] {
  let node: unknown = "errors" in error.rawError ? error.rawError.errors : undefined;
  for (const key of path) node = typeof node === "object" && node !== null ? (node as Record<string, unknown>)[String(key)] : undefined;
  const items = typeof node === "object" && node !== null ? (node as { _errors?: FormErrorItem[] })._errors : undefined;
  return items ?? [];
}

function codesAt(error: DiscordAPIError, path: ReadonlyArray<string | number>): string[] {
  return formErrorsAt(error, path).map((item) => item.code);
}

describe("fake Discord with a real discord.js client", () => {
  let bot: Bot;

  beforeAll(async () => {
    bot = await startBot();
  });

  afterAll(async () => {
    await stopBot(bot);
  });

  it("lets a real discord.js client log in with the fake token and become ready", async () => {
    expect(bot.client.isReady()).toBe(true);
    const session = await bot.fake.waitForReady();
    expect(session.intents).toBe(GatewayIntentBits.Guilds);
    expect(session.identify.token).toBe(bot.fake.token);
    expect(bot.client.user?.id).toBe(bot.fake.botUser.id);
    expect(bot.client.application?.id).toBe(bot.fake.applicationId);
    const guild = bot.client.guilds.cache.get(bot.guildId);
    expect(guild?.available).toBe(true);
    expect(guild?.channels.cache.get(bot.fake.guilds[0]?.textChannelId ?? "")?.isTextBased()).toBe(true);
    expect(guild?.members.me?.id).toBe(bot.fake.botUser.id);
    expect(bot.fake.requests[0]).toMatchObject({ method: "GET", path: "/api/v10/gateway/bot", status: 200 });
  });

  it("records the guild commands the bot bulk-overwrites and keeps their ids across overwrites", async () => {
    const registered = bot.fake.registeredCommands(bot.guildId);
    expect(registered.map((command) => command.name)).toEqual(["song", "ping", "Listen to this"]);
    expect(registered[2]).toMatchObject({ type: ApplicationCommandType.Message, description: "", guild_id: bot.guildId });
    const put = bot.fake.requests.find((request) => request.method === "PUT");
    expect(put?.route).toBe("/applications/:applicationId/guilds/:guildId/commands");
    expect(put?.authorization).toBe(`Bot ${bot.fake.token}`);

    await bot.client.application?.commands.set(COMMANDS, bot.guildId);
    expect(bot.fake.registeredCommands(bot.guildId).map((command) => command.id)).toEqual(registered.map((command) => command.id));
    expect(bot.fake.registeredCommands()).toEqual([]);
  });

  it("rejects an invalid command name with 50035 and leaves the registered commands untouched", async () => {
    const before = bot.fake.registeredCommands(bot.guildId);
    const error = await apiError(() => bot.client.application!.commands.set([{ name: "MakeSong", description: "x" }], bot.guildId));
    expect(error.status).toBe(400);
    expect(error.code).toBe(50035);
    expect(codesAt(error, [0, "name"])).toContain("APPLICATION_COMMAND_INVALID_NAME");
    expect(bot.fake.registeredCommands(bot.guildId)).toEqual(before);
  });

  it("delivers a slash command to interactionCreate and shows deferReply + editReply with an embed and a file in @original, bytes intact", async () => {
    const audio = Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00, 0xff, 0x00, 0x10, 0x7f]);
    const { handle, interaction } = await slashCommand(bot, "song", {
      options: [
        { type: ApplicationCommandOptionType.String, name: "prompt", value: "a song about cats" },
        { type: ApplicationCommandOptionType.Integer, name: "seconds", value: 30 },
      ],
    });
    expect(interaction.commandName).toBe("song");
    expect(interaction.options.getString("prompt")).toBe("a song about cats");
    expect(interaction.options.getInteger("seconds")).toBe(30);
    expect(interaction.attachmentSizeLimit).toBe(10 * 1024 * 1024);
    expect(interaction.channelId).toBe(bot.fake.guilds[0]?.textChannelId);

    await interaction.deferReply();
    expect((await handle.response()).type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    expect(handle.original()?.loading).toBe(true);

    await interaction.editReply({
      embeds: [{ title: "Cats", description: "Your song is ready" }],
      files: [{ attachment: audio, name: "song.mp3" }],
      allowedMentions: { parse: [] },
    });
    const original = await handle.waitForOriginal();
    expect(original.loading).toBe(false);
    expect(original.embeds[0]).toMatchObject({ title: "Cats", description: "Your song is ready" });
    expect(original.attachments).toHaveLength(1);
    expect(original.attachments[0]?.filename).toBe("song.mp3");
    expect(original.attachments[0]?.contentType).toBe("audio/mpeg");
    expect(Buffer.compare(original.attachments[0]!.bytes, audio)).toBe(0);
    expect(original.allowedMentions).toEqual({ parse: [] });
    const downloaded = Buffer.from(await (await fetch(original.attachments[0]!.url)).arrayBuffer());
    expect(Buffer.compare(downloaded, audio)).toBe(0);
    expect(handle.requests().map((request) => `${request.method} ${request.route} ${request.status}`)).toEqual([
      "POST /interactions/:interactionId/:interactionToken/callback 204",
      "PATCH /webhooks/:applicationId/:interactionToken/messages/:messageId 200",
    ]);
  });

  it("builds a realistic guild interaction payload with member permissions, locale and attachment_size_limit", async () => {
    const admin = bot.fake.createUser({ username: "admin" });
    const pending = nextInteraction(bot.client);
    const handle = await bot.fake.sendSlashCommand({ name: "ping", user: admin, memberPermissions: FakePermissions.administrator, locale: "de" });
    const interaction = await pending;
    if (!interaction.isChatInputCommand()) throw new Error("expected a chat input command");
    expect(handle.payload).toMatchObject({
      application_id: bot.fake.applicationId,
      version: 1,
      entitlements: [],
      authorizing_integration_owners: { "0": bot.guildId },
      context: 0,
      locale: "de",
      guild_locale: "en-US",
      attachment_size_limit: 10 * 1024 * 1024,
    });
    expect(interaction.user.id).toBe(admin.id);
    expect(interaction.locale).toBe("de");
    expect(interaction.memberPermissions?.has("Administrator")).toBe(true);
    expect(interaction.appPermissions?.has("AttachFiles")).toBe(true);
    await interaction.reply({ content: "pong", allowedMentions: { parse: [] } });

    const plain = await slashCommand(bot, "ping");
    expect(plain.interaction.memberPermissions?.has("ManageGuild")).toBe(false);
    await plain.interaction.reply("pong");
  });

  it("answers a second initial response with 40060 Interaction has already been acknowledged", async () => {
    const { interaction } = await slashCommand(bot);
    await interaction.reply({ content: "first", allowedMentions: { parse: [] } });
    const error = await apiError(() =>
      bot.client.rest.post(Routes.interactionCallback(interaction.id, interaction.token), {
        body: { type: InteractionResponseType.ChannelMessageWithSource, data: { content: "second" } },
        auth: false,
      }),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe(40060);
    expect(error.message).toBe("Interaction has already been acknowledged.");
  });

  it("refuses a file larger than the interaction's attachment_size_limit with 413 40005", async () => {
    const { handle, interaction } = await slashCommand(bot, "ping", { attachmentSizeLimit: 1024 });
    expect(interaction.attachmentSizeLimit).toBe(1024);
    const error = await apiError(() => interaction.reply({ files: [{ attachment: Buffer.alloc(1025, 1), name: "big.bin" }] }));
    expect(error.status).toBe(413);
    expect(error.code).toBe(40005);
    expect(handle.initialResponse()).toBeUndefined();
    await interaction.reply({ files: [{ attachment: Buffer.alloc(1024, 1), name: "fits.bin" }] });
    expect((await handle.waitForOriginal()).attachments[0]?.size).toBe(1024);
  });

  it("refuses an embed description of 4097 characters with 50035 naming data.embeds.0.description", async () => {
    const { handle, interaction } = await slashCommand(bot);
    const error = await apiError(() => interaction.reply({ embeds: [{ description: "a".repeat(4097) }] }));
    expect(error.code).toBe(50035);
    expect(formErrorsAt(error, ["data", "embeds", 0, "description"])).toEqual([
      { code: "BASE_TYPE_MAX_LENGTH", message: "Must be 4096 or fewer in length." },
    ]);
    await interaction.reply({ embeds: [{ description: "a".repeat(4096) }] });
    expect((await handle.waitForOriginal()).embeds[0]?.description).toHaveLength(4096);
  });

  it("marks ephemeral follow-ups with flag 64 and records whether allowed_mentions was set", async () => {
    const { handle, interaction } = await slashCommand(bot);
    await interaction.reply({ content: "public", allowedMentions: { parse: [] } });
    await interaction.followUp({ content: "just for you", flags: MessageFlags.Ephemeral });
    const followup = await handle.waitForFollowup((message) => message.content === "just for you");
    expect(followup.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(followup.ephemeral).toBe(true);
    expect(followup.allowedMentions).toBe("missing");
    expect(handle.original()?.ephemeral).toBe(false);
    expect(handle.original()?.allowedMentions).toEqual({ parse: [] });
  });

  it("turns the first follow-up after deferReply into the deferred message, keeping its ephemeral state", async () => {
    const { handle, interaction } = await slashCommand(bot);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
    await interaction.followUp({ content: "done" });
    const original = await handle.waitForOriginal();
    expect(original).toMatchObject({ content: "done", ephemeral: true, loading: false });
    expect(handle.followups()).toEqual([]);
    await interaction.followUp({ content: "and one more" });
    expect((await handle.waitForFollowup()).content).toBe("and one more");
  });

  it("returns the interaction callback response object when discord.js asks with_response=true", async () => {
    const { handle, interaction } = await slashCommand(bot);
    const response = await interaction.reply({ content: "hello", withResponse: true, allowedMentions: { parse: [] } });
    expect(response.resource?.message?.content).toBe("hello");
    expect(response.interaction.responseMessageId).toBe(handle.original()?.id);
    expect(handle.requests()[0]?.query).toEqual({ with_response: "true" });
  });

  it("refuses follow-ups and @original edits before any initial response with 404 Unknown Webhook", async () => {
    const { interaction } = await slashCommand(bot);
    const followup = await apiError(() =>
      bot.client.rest.post(Routes.webhook(bot.fake.applicationId, interaction.token), { body: { content: "too early" }, auth: false }),
    );
    expect([followup.status, followup.code]).toEqual([404, 10015]);
    const edit = await apiError(() =>
      bot.client.rest.patch(Routes.webhookMessage(bot.fake.applicationId, interaction.token, "@original"), { body: { content: "x" }, auth: false }),
    );
    expect([edit.status, edit.code]).toEqual([404, 10015]);
    await interaction.reply("ok");
  });

  it("deletes @original and then answers edits of it with 10008 Unknown Message", async () => {
    const { handle, interaction } = await slashCommand(bot);
    await interaction.reply("soon gone");
    await interaction.deleteReply();
    expect(handle.originalDeleted).toBe(true);
    const error = await apiError(() => interaction.editReply("back?"));
    expect([error.status, error.code]).toEqual([404, 10008]);
  });

  it("refuses showModal with a 46-character title and accepts a valid modal, then delivers its submit", async () => {
    const { handle, interaction } = await slashCommand(bot);
    const textInput = { type: ComponentType.TextInput, custom_id: "prompt", label: "Prompt", style: TextInputStyle.Paragraph, max_length: 200 } as const;
    const error = await apiError(() =>
      interaction.showModal({ custom_id: "song-modal", title: "t".repeat(46), components: [{ type: ComponentType.ActionRow, components: [textInput] }] }),
    );
    expect(error.code).toBe(50035);
    expect(codesAt(error, ["data", "title"])).toEqual(["BASE_TYPE_MAX_LENGTH"]);

    await interaction.showModal({ custom_id: "song-modal", title: "Describe your song", components: [{ type: ComponentType.ActionRow, components: [textInput] }] });
    expect(handle.modal()?.title).toBe("Describe your song");

    await expect(bot.fake.sendModalSubmit({ customId: "song-modal", fields: { prompt: "x".repeat(201) } })).rejects.toThrow(FakeDiscordUsageError);
    const pending = nextInteraction(bot.client);
    const submit = await bot.fake.sendModalSubmit({ customId: "song-modal", fields: { prompt: "rainy jazz" } });
    const submitted = await pending;
    expect(submitted.isModalSubmit()).toBe(true);
    if (!submitted.isModalSubmit()) return;
    expect(submitted.fields.getTextInputValue("prompt")).toBe("rainy jazz");

    // A modal cannot answer a modal submit.
    const modalOnModal = await apiError(() =>
      bot.client.rest.post(Routes.interactionCallback(submitted.id, submitted.token), {
        body: { type: InteractionResponseType.Modal, data: { custom_id: "again", title: "Again", components: [{ type: 1, components: [textInput] }] } },
        auth: false,
      }),
    );
    expect(modalOnModal.code).toBe(50035);
    expect(codesAt(modalOnModal, ["type"])).toEqual(["BASE_TYPE_CHOICES"]);
    await submitted.reply({ content: "thanks", flags: MessageFlags.Ephemeral });
    expect((await submit.waitForOriginal()).content).toBe("thanks");
  });

  it("delivers a click on a button the bot sent as a ButtonInteraction whose update() edits that message", async () => {
    const { handle, interaction } = await slashCommand(bot);
    await interaction.reply({
      content: "Here is your song",
      components: [
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId("song:again").setLabel("Again").setStyle(ButtonStyle.Primary),
          new ButtonBuilder().setURL("https://example.com").setLabel("Docs").setStyle(ButtonStyle.Link),
        ),
      ],
      allowedMentions: { parse: [] },
    });
    const original = await handle.waitForOriginal();

    await expect(bot.fake.sendComponent({ customId: "song:nope", message: original })).rejects.toThrow(/no component with custom_id "song:nope"/);
    const pending = nextInteraction(bot.client);
    const click = await bot.fake.sendComponent({ customId: "song:again", message: original });
    const button = await pending;
    expect(button.isButton()).toBe(true);
    if (!button.isButton()) return;
    expect(button.customId).toBe("song:again");
    expect(button.message.id).toBe(original.id);
    expect(click.payload.message?.id).toBe(original.id);

    await button.update({ content: "Regenerating…", components: [] });
    expect((await click.response()).type).toBe(InteractionResponseType.UpdateMessage);
    expect(click.original()?.id).toBe(original.id);
    expect(bot.fake.message(original.id)).toMatchObject({ content: "Regenerating…", components: [], editCount: 1 });
    await expect(bot.fake.sendComponent({ customId: "song:again", message: original })).rejects.toThrow(FakeDiscordUsageError);
  });

  it("delivers a string select choice and lets deferUpdate + editReply edit the clicked message", async () => {
    const { handle, interaction } = await slashCommand(bot);
    await interaction.reply({
      content: "Pick a mood",
      components: [
        {
          type: ComponentType.ActionRow,
          components: [
            {
              type: ComponentType.StringSelect,
              custom_id: "mood",
              options: [
                { label: "Happy", value: "happy" },
                { label: "Sad", value: "sad" },
              ],
            },
          ],
        },
      ],
    });
    const original = await handle.waitForOriginal();
    await expect(bot.fake.sendComponent({ customId: "mood", message: original, values: ["angry"] })).rejects.toThrow(/no option/);
    const pending = nextInteraction(bot.client);
    const pick = await bot.fake.sendComponent({ customId: "mood", message: original.id, values: ["sad"] });
    const select = await pending;
    if (!select.isStringSelectMenu()) throw new Error("expected a string select");
    expect(select.values).toEqual(["sad"]);
    await select.deferUpdate();
    await select.editReply({ content: "Sad it is", components: [] });
    expect((await pick.waitForOriginal((message) => message.content === "Sad it is")).id).toBe(original.id);
  });

  it("delivers a message command on a voice message whose audio the bot can download", async () => {
    const voice = Buffer.from("OggS-fake-voice-bytes");
    const pending = nextInteraction(bot.client);
    await bot.fake.sendMessageCommand({
      name: "Listen to this",
      targetMessage: {
        flags: MessageFlags.IsVoiceMessage,
        attachments: [{ filename: "voice-message.ogg", contentType: "audio/ogg", bytes: voice, durationSecs: 3.5, waveform: "AAAAAA==" }],
      },
    });
    const interaction = await pending;
    if (!interaction.isMessageContextMenuCommand()) throw new Error("expected a message command");
    const target = interaction.targetMessage;
    expect(target.flags.has(MessageFlags.IsVoiceMessage)).toBe(true);
    const attachment = target.attachments.first();
    expect(attachment?.duration).toBe(3.5);
    expect(attachment?.waveform).toBe("AAAAAA==");
    expect(attachment?.contentType).toBe("audio/ogg");
    const downloaded = Buffer.from(await (await fetch(attachment!.url)).arrayBuffer());
    expect(downloaded.toString()).toBe(voice.toString());
    await interaction.reply({ content: "listening", flags: MessageFlags.Ephemeral });
  });

  it("passes an uploaded ATTACHMENT option through resolved.attachments", async () => {
    const melody = Buffer.from([1, 2, 3, 4, 5]);
    const { interaction } = await slashCommand(bot, "song", {
      options: [
        { type: ApplicationCommandOptionType.String, name: "prompt", value: "follow this" },
        { type: ApplicationCommandOptionType.Attachment, name: "melody", attachment: { filename: "melody.wav", bytes: melody } },
      ],
    });
    const attachment = interaction.options.getAttachment("melody", true);
    expect(attachment.name).toBe("melody.wav");
    expect(attachment.size).toBe(5);
    expect(Buffer.from(await (await fetch(attachment.url)).arrayBuffer())).toEqual(melody);
    await interaction.reply("got it");
  });

  it("refuses to simulate what no user could do: unregistered commands, missing required options, out-of-range values", async () => {
    await expect(bot.fake.sendSlashCommand({ name: "nope" })).rejects.toThrow(/no ChatInput command "nope"/);
    await expect(bot.fake.sendSlashCommand({ name: "song" })).rejects.toThrow(/required option "prompt"/);
    await expect(
      bot.fake.sendSlashCommand({
        name: "song",
        options: [
          { type: ApplicationCommandOptionType.String, name: "prompt", value: "x" },
          { type: ApplicationCommandOptionType.Integer, name: "seconds", value: 999 },
        ],
      }),
    ).rejects.toThrow(/within 5\.\.240/);
  });

  it("answers REST calls without the bot token with 401 and unknown routes with 404, recording both", async () => {
    const unauthorized = await fetch(`${bot.fake.restUrl}/v10/users/@me`);
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({ message: "401: Unauthorized", code: 0 });
    const wrong = await fetch(`${bot.fake.restUrl}/v10/users/@me`, { headers: { authorization: "Bot wrong" } });
    expect(wrong.status).toBe(401);
    const me = await bot.client.rest.get(Routes.user("@me"));
    expect(me).toMatchObject({ id: bot.fake.botUser.id, bot: true });
    const unknown = await fetch(`${bot.fake.restUrl}/v10/voice/regions`, { headers: { authorization: `Bot ${bot.fake.token}` } });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: "404: Not Found", code: 0 });
    expect(bot.fake.requests.some((request) => request.path === "/api/v10/voice/regions" && request.status === 404)).toBe(true);
  });

  it("stores channel messages the bot posts and edits", async () => {
    const channel = bot.client.channels.cache.get(bot.fake.guilds[0]?.textChannelId ?? "");
    if (!channel?.isSendable()) throw new Error("expected a sendable channel");
    const sent = await channel.send({ content: "hello channel", allowedMentions: { parse: [] } });
    await sent.edit({ content: "edited" });
    expect(bot.fake.message(sent.id)).toMatchObject({ content: "edited", editCount: 1, fromBot: true, interactionId: null });
  });

  it("times out a waitFor helper with an error that shows what the fake saw", async () => {
    const { handle, interaction } = await slashCommand(bot);
    await interaction.reply({ content: "only this", allowedMentions: { parse: [] } });
    const wait = handle.waitForFollowup((message) => message.content === "never", 50);
    await expect(wait).rejects.toThrow(/timed out after 50 ms waiting for a matching follow-up .*\/ping.*initial response type 4.*follow-ups seen: none/);
    await expect(handle.waitForOriginal((message) => message.content === "never", 50)).rejects.toThrow(/last seen: .*"content":"only this"/);
  });

  it("leaves no internal errors behind", () => {
    expect(bot.fake.internalErrors).toEqual([]);
  });
});

describe("message limits enforced on follow-ups", () => {
  let bot: Bot;
  let interaction: ChatInputCommandInteraction;

  beforeAll(async () => {
    bot = await startBot();
    ({ interaction } = await slashCommand(bot));
    await interaction.reply("base");
  });

  afterAll(async () => {
    await stopBot(bot);
  });

  const button = (customId: string, label = "Go") => ({ type: ComponentType.Button, style: ButtonStyle.Primary, custom_id: customId, label });
  const row = (...components: object[]) => ({ type: ComponentType.ActionRow, components });

  const rejected: Array<[string, object, ReadonlyArray<string | number>, string]> = [
    ["content over 2000 characters", { content: "a".repeat(2001) }, ["content"], "BASE_TYPE_MAX_LENGTH"],
    ["more than 10 embeds", { embeds: Array.from({ length: 11 }, () => ({ title: "t" })) }, ["embeds"], "BASE_TYPE_MAX_LENGTH"],
    ["an embed title over 256", { embeds: [{ title: "t".repeat(257) }] }, ["embeds", 0, "title"], "BASE_TYPE_MAX_LENGTH"],
    ["more than 25 fields", { embeds: [{ fields: Array.from({ length: 26 }, () => ({ name: "n", value: "v" })) }] }, ["embeds", 0, "fields"], "BASE_TYPE_MAX_LENGTH"],
    ["an empty field name", { embeds: [{ fields: [{ name: " ", value: "v" }] }] }, ["embeds", 0, "fields", 0, "name"], "BASE_TYPE_REQUIRED"],
    ["a field value over 1024", { embeds: [{ fields: [{ name: "n", value: "v".repeat(1025) }] }] }, ["embeds", 0, "fields", 0, "value"], "BASE_TYPE_MAX_LENGTH"],
    ["a footer over 2048", { embeds: [{ footer: { text: "f".repeat(2049) } }] }, ["embeds", 0, "footer", "text"], "BASE_TYPE_MAX_LENGTH"],
    ["an author name over 256", { embeds: [{ author: { name: "a".repeat(257) } }] }, ["embeds", 0, "author", "name"], "BASE_TYPE_MAX_LENGTH"],
    ["embeds over 6000 characters in total", { embeds: [{ description: "a".repeat(4000) }, { description: "b".repeat(2001) }] }, ["embeds"], "MAX_EMBED_SIZE_EXCEEDED"],
    ["more than 5 action rows", { components: Array.from({ length: 6 }, (_, i) => row(button(`b${i}`))) }, ["components"], "BASE_TYPE_MAX_LENGTH"],
    ["more than 5 buttons in a row", { components: [row(...Array.from({ length: 6 }, (_, i) => button(`b${i}`)))] }, ["components", 0, "components", 5], "COMPONENT_LAYOUT_WIDTH_EXCEEDED"],
    ["a custom_id over 100", { components: [row(button("c".repeat(101)))] }, ["components", 0, "components", 0, "custom_id"], "BASE_TYPE_MAX_LENGTH"],
    ["duplicate custom_ids", { components: [row(button("same"), button("same"))] }, ["components", 0, "components", 1, "custom_id"], "COMPONENT_CUSTOM_ID_DUPLICATED"],
    ["a button label over 80", { components: [row(button("b", "l".repeat(81)))] }, ["components", 0, "components", 0, "label"], "BASE_TYPE_MAX_LENGTH"],
    [
      "a link button with a custom_id",
      { components: [row({ type: ComponentType.Button, style: ButtonStyle.Link, url: "https://example.com", custom_id: "x", label: "L" })] },
      ["components", 0, "components", 0, "custom_id"],
      "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
    ],
    [
      "a link button without a url",
      { components: [row({ type: ComponentType.Button, style: ButtonStyle.Link, label: "L" })] },
      ["components", 0, "components", 0, "url"],
      "BUTTON_COMPONENT_URL_REQUIRED",
    ],
    [
      "allowed_mentions with both parse users and a users list",
      { content: "hi", allowed_mentions: { parse: ["users"], users: ["1"] } },
      ["allowed_mentions"],
      "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
    ],
  ];

  it.each(rejected)("rejects %s with 50035 naming the field", async (_name, body, path, code) => {
    const error = await apiError(() => bot.client.rest.post(Routes.webhook(bot.fake.applicationId, interaction.token), { body, auth: false }));
    expect(error.status).toBe(400);
    expect(error.code).toBe(50035);
    expect(codesAt(error, path)).toContain(code);
  });

  it("rejects more than 10 attachments with 50035", async () => {
    const files = Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from(`file ${i}`) }));
    const error = await apiError(() =>
      bot.client.rest.post(Routes.webhook(bot.fake.applicationId, interaction.token), { body: { content: "many" }, files, auth: false }),
    );
    expect(error.code).toBe(50035);
    expect(codesAt(error, ["attachments"])).toContain("BASE_TYPE_MAX_LENGTH");
  });

  it("rejects an empty message with 50006", async () => {
    const error = await apiError(() => interaction.followUp({ content: "  " }));
    expect([error.status, error.code]).toEqual([400, 50006]);
  });

  it("accepts messages exactly at the limits", async () => {
    await interaction.followUp({
      content: "a".repeat(2000),
      embeds: [{ title: "t".repeat(256), description: "d".repeat(3000), fields: Array.from({ length: 25 }, () => ({ name: "n", value: "v" })) }],
      components: Array.from({ length: 5 }, (_, r) => row(...Array.from({ length: 5 }, (_, b) => button(`r${r}b${b}`, "l".repeat(80))))),
      allowedMentions: { parse: [] },
    });
    expect(bot.fake.internalErrors).toEqual([]);
  });
});

describe("modal limits", () => {
  let bot: Bot;

  beforeAll(async () => {
    bot = await startBot();
  });

  afterAll(async () => {
    await stopBot(bot);
  });

  const input = (extra: object = {}) => ({ type: ComponentType.TextInput, custom_id: "prompt", label: "Prompt", style: TextInputStyle.Short, ...extra });
  const modal = (extra: object = {}, components: object[] = [{ type: ComponentType.ActionRow, components: [input()] }]) => ({
    custom_id: "m",
    title: "Title",
    components,
    ...extra,
  });
  const rowOf = (...components: object[]) => [{ type: ComponentType.ActionRow, components }];

  const rejected: Array<[string, object, ReadonlyArray<string | number>, string]> = [
    ["a custom_id over 100", modal({ custom_id: "m".repeat(101) }), ["data", "custom_id"], "BASE_TYPE_MAX_LENGTH"],
    ["no components", modal({}, []), ["data", "components"], "BASE_TYPE_BAD_LENGTH"],
    ["six action rows", modal({}, Array.from({ length: 6 }, (_, i) => ({ type: 1, components: [input({ custom_id: `p${i}` })] }))), ["data", "components"], "BASE_TYPE_BAD_LENGTH"],
    ["two text inputs in one row", modal({}, rowOf(input(), input({ custom_id: "p2" }))), ["data", "components", 0, "components", 1], "COMPONENT_LAYOUT_WIDTH_EXCEEDED"],
    ["a text input label over 45", modal({}, rowOf(input({ label: "l".repeat(46) }))), ["data", "components", 0, "components", 0, "label"], "BASE_TYPE_MAX_LENGTH"],
    ["an unknown text input style", modal({}, rowOf(input({ style: 3 }))), ["data", "components", 0, "components", 0, "style"], "BASE_TYPE_CHOICES"],
    ["min_length over 4000", modal({}, rowOf(input({ min_length: 4001 }))), ["data", "components", 0, "components", 0, "min_length"], "NUMBER_TYPE_MAX"],
    ["max_length of 0", modal({}, rowOf(input({ max_length: 0 }))), ["data", "components", 0, "components", 0, "max_length"], "NUMBER_TYPE_MIN"],
    ["a value longer than max_length", modal({}, rowOf(input({ max_length: 5, value: "toolong" }))), ["data", "components", 0, "components", 0, "value"], "BASE_TYPE_MAX_LENGTH"],
    ["a placeholder over 100", modal({}, rowOf(input({ placeholder: "p".repeat(101) }))), ["data", "components", 0, "components", 0, "placeholder"], "BASE_TYPE_MAX_LENGTH"],
    [
      "a Label over 45",
      modal({}, [{ type: ComponentType.Label, label: "l".repeat(46), component: { type: ComponentType.TextInput, custom_id: "p", style: 1 } }]),
      ["data", "components", 0, "label"],
      "BASE_TYPE_MAX_LENGTH",
    ],
  ];

  it.each(rejected)("rejects a modal with %s", async (_name, data, path, code) => {
    const { handle, interaction } = await slashCommand(bot);
    const error = await apiError(() => interaction.showModal(data as Parameters<typeof interaction.showModal>[0]));
    expect(error.code).toBe(50035);
    expect(codesAt(error, path)).toContain(code);
    expect(handle.initialResponse()).toBeUndefined();
    await interaction.reply("ok");
  });

  it("accepts a Label-based modal and submits it in the same shape", async () => {
    const { handle, interaction } = await slashCommand(bot);
    await interaction.showModal({
      custom_id: "label-modal",
      title: "New style",
      components: [
        { type: ComponentType.TextDisplay, content: "Tell us" },
        { type: ComponentType.Label, label: "Lyrics", component: { type: ComponentType.TextInput, custom_id: "lyrics", style: TextInputStyle.Paragraph, required: false } },
      ],
    });
    const pending = nextInteraction(bot.client);
    await bot.fake.sendModalSubmit({ customId: "label-modal", fields: { lyrics: "la la" }, from: handle });
    const submitted = await pending;
    if (!submitted.isModalSubmit()) throw new Error("expected a modal submit");
    expect(submitted.fields.getTextInputValue("lyrics")).toBe("la la");
    await submitted.deferReply();
  });
});

describe("command registration limits", () => {
  let bot: Bot;

  beforeAll(async () => {
    bot = await startBot();
  });

  afterAll(async () => {
    await stopBot(bot);
  });

  const option = (name: string, extra: object = {}) => ({ type: ApplicationCommandOptionType.String, name, description: "d", ...extra });
  const rejected: Array<[string, object[], ReadonlyArray<string | number>, string]> = [
    ["an uppercase chat-input name", [{ name: "Song", description: "d" }], [0, "name"], "APPLICATION_COMMAND_INVALID_NAME"],
    ["a chat-input name with a space", [{ name: "make song", description: "d" }], [0, "name"], "STRING_TYPE_REGEX"],
    ["a name over 32 characters", [{ name: "n".repeat(33), description: "d" }], [0, "name"], "BASE_TYPE_BAD_LENGTH"],
    ["an empty description", [{ name: "song", description: "" }], [0, "description"], "BASE_TYPE_BAD_LENGTH"],
    ["a description over 100", [{ name: "song", description: "d".repeat(101) }], [0, "description"], "BASE_TYPE_BAD_LENGTH"],
    ["more than 25 options", [{ name: "song", description: "d", options: Array.from({ length: 26 }, (_, i) => option(`o${i}`)) }], [0, "options"], "BASE_TYPE_MAX_LENGTH"],
    ["an invalid option name", [{ name: "song", description: "d", options: [option("Prompt")] }], [0, "options", 0, "name"], "APPLICATION_COMMAND_INVALID_NAME"],
    [
      "more than 25 choices",
      [{ name: "song", description: "d", options: [option("mood", { choices: Array.from({ length: 26 }, (_, i) => ({ name: `c${i}`, value: `c${i}` })) })] }],
      [0, "options", 0, "choices"],
      "BASE_TYPE_MAX_LENGTH",
    ],
    [
      "a required option after an optional one",
      [{ name: "song", description: "d", options: [option("a"), option("b", { required: true })] }],
      [0, "options", 1],
      "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
    ],
    ["two commands with one name", [{ name: "song", description: "d" }, { name: "song", description: "e" }], [1], "APPLICATION_COMMANDS_DUPLICATE_NAME"],
    ["a message command with a description", [{ type: ApplicationCommandType.Message, name: "Listen", description: "no" }], [0, "description"], "BASE_TYPE_MAX_LENGTH"],
    // Localizations are held to the rules of the text they localize, under known locales only.
    [
      "an uppercase localized chat-input name",
      [{ name: "song", name_localizations: { de: "Lied" }, description: "d" }],
      [0, "name_localizations", "de"],
      "APPLICATION_COMMAND_INVALID_NAME",
    ],
    [
      "a localized description over 100",
      [{ name: "song", description: "d", options: [option("mood", { description_localizations: { ja: "曲".repeat(101) } })] }],
      [0, "options", 0, "description_localizations", "ja"],
      "BASE_TYPE_BAD_LENGTH",
    ],
    ["a localization under a locale Discord lacks", [{ name: "song", description: "d", description_localizations: { zh: "歌" } }], [0, "description_localizations", "zh"], "BASE_TYPE_CHOICES"],
    [
      "a localized choice name over 100",
      [{ name: "song", description: "d", options: [option("mood", { choices: [{ name: "a", name_localizations: { "zh-CN": "歌".repeat(101) }, value: "a" }] })] }],
      [0, "options", 0, "choices", 0, "name_localizations", "zh-CN"],
      "BASE_TYPE_BAD_LENGTH",
    ],
    [
      "a localized message-command name over 32",
      [{ type: ApplicationCommandType.Message, name: "Listen", name_localizations: { ja: "聞".repeat(33) } }],
      [0, "name_localizations", "ja"],
      "BASE_TYPE_BAD_LENGTH",
    ],
    [
      // Default texts of 500 characters, but the longest localization of each field counts: 25,250.
      "a command whose longest localizations pass 8000 characters",
      [{
        name: "song",
        description: "d",
        options: Array.from({ length: 25 }, (_, i) =>
          option(`o${i}`, { choices: Array.from({ length: 10 }, (_, j) => ({ name: "a", name_localizations: { ja: "曲".repeat(100) }, value: `${j}` })) }),
        ),
      }],
      [0],
      "APPLICATION_COMMAND_TOO_LARGE",
    ],
    ["a context that does not exist", [{ name: "song", description: "d", contexts: [0, 3] }], [0, "contexts", 1], "BASE_TYPE_CHOICES"],
    ["an integration type that does not exist", [{ name: "song", description: "d", integration_types: [2] }], [0, "integration_types", 0], "BASE_TYPE_CHOICES"],
  ];

  it.each(rejected)("rejects %s with 50035", async (_name, body, path, code) => {
    const error = await apiError(() => bot.client.rest.put(Routes.applicationCommands(bot.fake.applicationId), { body }));
    expect(error.code).toBe(50035);
    expect(codesAt(error, path)).toContain(code);
    expect(bot.fake.registeredCommands()).toEqual([]);
  });

  it("rejects a bulk overwrite longer than 130 commands with 50035 at the root", async () => {
    const body = Array.from({ length: 131 }, (_, i) => ({ name: `c${i}`, description: "d" }));
    const error = await apiError(() => bot.client.rest.put(Routes.applicationCommands(bot.fake.applicationId), { body }));
    expect(error.code).toBe(50035);
    expect(codesAt(error, [])).toEqual(["BASE_TYPE_MAX_LENGTH"]);
  });

  it("rejects more than 100 global chat-input commands with 30032", async () => {
    const body = Array.from({ length: 101 }, (_, i) => ({ name: `c${i}`, description: "d" }));
    const error = await apiError(() => bot.client.rest.put(Routes.applicationCommands(bot.fake.applicationId), { body }));
    expect([error.status, error.code]).toEqual([400, 30032]);
  });

  it("accepts mixed-case context-menu names with spaces and non-Latin chat-input names", async () => {
    await bot.client.application?.commands.set([
      { type: ApplicationCommandType.Message, name: "Listen To This" },
      { type: ApplicationCommandType.User, name: "Song For Them" },
      { name: "गाना", description: "Hindi name" },
      { name: "songs_2-go", description: "d" },
    ]);
    expect(bot.fake.registeredCommands().map((command) => command.name)).toEqual(["Listen To This", "Song For Them", "गाना", "songs_2-go"]);
    expect(bot.fake.registeredCommands()[0]).toMatchObject({ integration_types: [0], contexts: null });
  });

  it("refuses to register commands in a guild the bot is not in with 50001 Missing Access", async () => {
    const error = await apiError(() => bot.client.application!.commands.set(COMMANDS, "123456789012345678"));
    expect([error.status, error.code]).toEqual([403, 50001]);
  });
});

describe("interaction timing", () => {
  let bot: Bot | undefined;
  let now = Date.now();

  afterAll(async () => {
    await stopBot(bot);
  });

  it("answers a reply after the response window with 10062 Unknown interaction, and the token stays unusable", async () => {
    const late = await startBot({ interactionResponseWindowMs: 150 });
    try {
      const { handle, interaction } = await slashCommand(late);
      await new Promise((resolve) => setTimeout(resolve, 250));
      const error = await apiError(() => interaction.reply("too late"));
      expect(error).toBeInstanceOf(DiscordAPIError);
      expect([error.status, error.code, error.message]).toEqual([404, 10062, "Unknown interaction"]);
      expect(handle.initialResponse()).toBeUndefined();
      const followup = await apiError(() =>
        late.client.rest.post(Routes.webhook(late.fake.applicationId, interaction.token), { body: { content: "x" }, auth: false }),
      );
      expect(followup.code).toBe(10015);
    } finally {
      await stopBot(late);
    }
  });

  it("answers follow-ups after the token lifetime with 401 Invalid Webhook Token", async () => {
    bot = await startBot({ clock: () => now, interactionTokenLifetimeMs: 15 * 60_000 });
    const { interaction } = await slashCommand(bot);
    await interaction.reply("in time");
    now += 15 * 60_000 + 1;
    const error = await apiError(() => interaction.followUp("much later"));
    expect([error.status, error.code]).toEqual([401, 50027]);
  });
});

describe("logging in", () => {
  let fake: FakeDiscord;

  beforeAll(async () => {
    fake = await startFakeDiscord();
  });

  afterAll(async () => {
    await fake.close();
  });

  it("fails login with a wrong token", async () => {
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.restUrl } });
    try {
      await expect(client.login("not-the-token")).rejects.toThrow(/invalid token/i);
    } finally {
      await client.destroy();
    }
    expect(fake.requests.at(-1)).toMatchObject({ path: "/api/v10/gateway/bot", status: 401 });
    expect(fake.sessions()).toEqual([]);
  });

  it("fails login when the client asks for a privileged intent the app is not approved for", async () => {
    const client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.MessageContent], rest: { api: fake.restUrl } });
    try {
      await expect(client.login(fake.token)).rejects.toThrow(/disallowed intents/i);
    } finally {
      await client.destroy();
    }
  });
});

describe("message events for a client with GUILD_MESSAGES", () => {
  let fake: FakeDiscord;
  let client: Client;

  beforeAll(async () => {
    fake = await startFakeDiscord();
    client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages], rest: { api: fake.restUrl } });
    await client.login(fake.token);
    await fake.waitForReady();
  });

  afterAll(async () => {
    await client.destroy();
    await fake.close();
  });

  it("echoes the bot's own channel messages back as MESSAGE_CREATE", async () => {
    const channel = client.channels.cache.get(fake.guilds[0]?.textChannelId ?? "");
    if (!channel?.isSendable()) throw new Error("expected a sendable channel");
    const created = new Promise<string>((resolve) => client.once(Events.MessageCreate, (message) => resolve(message.content)));
    await channel.send({ content: "echo", allowedMentions: { parse: [] } });
    expect(await created).toBe("echo");
    expect(fake.internalErrors).toEqual([]);
  });
});

describe("raw gateway protocol", () => {
  let fake: FakeDiscord;
  const identify = (token: string, intents = GatewayIntentBits.Guilds) => identifyPayload(token, { intents });

  beforeAll(async () => {
    fake = await startFakeDiscord();
  });

  afterAll(async () => {
    await fake.close();
  });

  it("sends HELLO, acknowledges heartbeats and numbers dispatches from READY on", async () => {
    const gateway = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    expect(await gateway.next()).toMatchObject({ op: 10, d: { heartbeat_interval: 41_250 } });
    gateway.send({ op: 1, d: null });
    expect(await gateway.next()).toMatchObject({ op: 11 });
    gateway.send(identify(fake.token));
    const ready = await gateway.next();
    expect(ready).toMatchObject({ op: 0, t: "READY", s: 1, d: { v: 10, user: { id: fake.botUser.id }, application: { id: fake.applicationId } } });
    expect((ready.d as { guilds: unknown[] }).guilds).toEqual([{ id: fake.guilds[0]?.id, unavailable: true }]);
    expect(await gateway.next()).toMatchObject({ op: 0, t: "GUILD_CREATE", s: 2 });
    gateway.ws.close(1000);
    await gateway.closed;
  });

  it("closes with 4004 when IDENTIFY carries a wrong token", async () => {
    const gateway = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await gateway.next();
    gateway.send(identify("wrong"));
    expect((await gateway.closed).code).toBe(4004);
  });

  it("closes with 4003 for payloads before IDENTIFY, 4001 for unknown opcodes, 4012 for an old version, 4002 for etf", async () => {
    const early = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await early.next();
    early.send({ op: 3, d: { status: "online" } });
    expect((await early.closed).code).toBe(4003);

    const unknown = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await unknown.next();
    unknown.send({ op: 99, d: null });
    expect((await unknown.closed).code).toBe(4001);

    expect((await connectRaw(`${fake.gatewayUrl}/?v=6&encoding=json`).closed).code).toBe(4012);
    expect((await connectRaw(`${fake.gatewayUrl}/?v=10&encoding=etf`).closed).code).toBe(4002);
  });

  it("resumes a dropped session and replays the dispatches it missed", async () => {
    const first = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await first.next();
    first.send(identify(fake.token));
    const ready = await first.next();
    await first.next();
    const sessionId = (ready.d as { session_id: string }).session_id;
    first.ws.close(4000);
    await first.closed;
    fake.dispatch("TEST_EVENT", { hello: "missed" });

    const second = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await second.next();
    second.send({ op: 6, d: { token: fake.token, session_id: sessionId, seq: 2 } });
    expect(await second.next()).toMatchObject({ op: 0, t: "TEST_EVENT", s: 3, d: { hello: "missed" } });
    expect(await second.next()).toMatchObject({ op: 0, t: "RESUMED", s: 4 });
    expect(fake.sessions().find((session) => session.sessionId === sessionId)?.resumes).toBe(1);

    const stale = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await stale.next();
    stale.send({ op: 6, d: { token: fake.token, session_id: "nope", seq: 1 } });
    expect(await stale.next()).toMatchObject({ op: 9, d: false });
    second.ws.close(1000);
    stale.ws.close(1000);
  });

  it("speaks zlib-stream transport compression with a Z_SYNC_FLUSH suffix on every frame", async () => {
    const ws = new WebSocket(`${fake.gatewayUrl}/?v=10&encoding=json&compress=zlib-stream`);
    const frames: Buffer[] = [];
    const three = new Promise<void>((resolve) =>
      ws.on("message", (data: Buffer) => {
        frames.push(data);
        if (frames.length === 1) ws.send(JSON.stringify(identify(fake.token)));
        if (frames.length === 3) resolve();
      }),
    );
    await three;
    for (const frame of frames) expect([...frame.subarray(-4)]).toEqual([0x00, 0x00, 0xff, 0xff]);
    const text = inflateSync(Buffer.concat(frames), { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString();
    expect(text).toContain('"op":10');
    expect(text).toContain('"t":"READY"');
    expect(text).toContain('"t":"GUILD_CREATE"');
    ws.close(1000);
  });

  it("zlib-compresses each dispatch on its own when IDENTIFY asks for payload compression", async () => {
    const ws = new WebSocket(`${fake.gatewayUrl}/?v=10&encoding=json`);
    const ready = new Promise<Record<string, unknown>>((resolve) =>
      ws.on("message", (data: Buffer, isBinary) => {
        if (!isBinary) {
          ws.send(JSON.stringify({ ...identify(fake.token), d: { ...identify(fake.token).d, compress: true } }));
          return;
        }
        const payload = JSON.parse(inflateSync(data).toString()) as Record<string, unknown>;
        if (payload.t === "READY") resolve(payload);
      }),
    );
    expect(await ready).toMatchObject({ op: 0, t: "READY", s: 1 });
    ws.close(1000);
  });
});
