import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  InteractionContextType,
  Routes,
  type Interaction,
} from "discord.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeDiscordUsageError, startFakeDiscord, type FakeDiscord } from "../fakes/discord/index.js";

/*
 * The fake Discord's user installs (receiving-and-responding.mdx, "Authorizing Integration Owners
 * Object"; application.mdx, "Installation Context"): a server the bot is not in is reached only
 * through a member's user install, other people's DMs only so, and the bot's own token sees none of
 * their channels (403 Missing Access), as on Discord. Direct messages reach users who share a
 * server with the bot or installed the app; others are refused with 50007.
 */

const BOT_GUILD = { id: "600000000000000001", name: "with the bot" };
const OTHER_GUILD = { id: "600000000000000002", name: "without the bot", preferredLocale: "ja" as const };

let fake: FakeDiscord;
let client: Client;

async function discordCode(promise: Promise<unknown>): Promise<{ status: number; code: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DiscordAPIError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error("the request succeeded");
}

function nextInteraction(): Promise<Interaction> {
  return new Promise((resolve) => client.once(Events.InteractionCreate, resolve));
}

beforeEach(async () => {
  fake = await startFakeDiscord({ guilds: [BOT_GUILD], guildsWithoutBot: [OTHER_GUILD] });
  client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.restUrl } });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(fake.token);
  await ready;
  await client.rest.put(Routes.applicationCommands(fake.applicationId), {
    body: [
      {
        name: "anywhere",
        description: "Installable both ways",
        integration_types: [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall],
        contexts: [InteractionContextType.Guild, InteractionContextType.BotDM, InteractionContextType.PrivateChannel],
      },
      { name: "serveronly", description: "Guild install only", integration_types: [ApplicationIntegrationType.GuildInstall], contexts: [InteractionContextType.Guild] },
      {
        type: ApplicationCommandType.Message,
        name: "Inspect",
        integration_types: [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall],
        contexts: [InteractionContextType.Guild, InteractionContextType.BotDM, InteractionContextType.PrivateChannel],
      },
    ],
  });
});

afterEach(async () => {
  await client?.destroy();
  await fake?.close();
});

describe("fake Discord: user installs", () => {
  it("reaches a server without the bot only through a user install, authorized by the user key alone", async () => {
    const other = fake.guildsWithoutBot[0];
    expect(other).toBeDefined();
    await expect(fake.sendSlashCommand({ name: "anywhere", guildId: other?.id })).rejects.toThrow(FakeDiscordUsageError);
    await expect(fake.sendSlashCommand({ name: "serveronly", guildId: other?.id, userInstall: true })).rejects.toThrow(FakeDiscordUsageError);

    const user = fake.createUser();
    const arrived = nextInteraction();
    const handle = await fake.sendSlashCommand({ name: "anywhere", guildId: other?.id, userInstall: true, user });
    const interaction = await arrived;
    expect(handle.payload.authorizing_integration_owners).toEqual({ [ApplicationIntegrationType.UserInstall]: user.id });
    expect(interaction.context).toBe(InteractionContextType.Guild);
    expect(interaction.guildId).toBe(other?.id);
    expect(interaction.guildLocale).toBe("ja");
    expect(interaction.authorizingIntegrationOwners.guildId).toBeNull();
    expect(interaction.authorizingIntegrationOwners.userId).toBe(user.id);
    expect(interaction.inCachedGuild()).toBe(false);
  });

  it("authorizes a guild-installed command in the bot's server by the guild key", async () => {
    const handle = await fake.sendSlashCommand({ name: "serveronly" });
    expect(handle.payload.authorizing_integration_owners).toEqual({ [ApplicationIntegrationType.GuildInstall]: BOT_GUILD.id });
  });

  it("refuses the bot's token in channels it cannot see: 403 Missing Access to post or read, 404 for no channel", async () => {
    const otherChannel = fake.guildsWithoutBot[0]?.textChannelId ?? "";
    expect(await discordCode(client.rest.post(Routes.channelMessages(otherChannel), { body: { content: "hi" } }))).toEqual({ status: 403, code: 50001 });
    expect(await discordCode(client.rest.get(Routes.channel(otherChannel)))).toEqual({ status: 403, code: 50001 });
    expect(await discordCode(client.rest.post(Routes.channelMessages("600000000000000099"), { body: { content: "hi" } }))).toEqual({ status: 404, code: 10003 });
    expect(fake.messages(otherChannel)).toHaveLength(0);
  });

  it("runs commands in other people's DMs only through a user install, and the bot can't post there", async () => {
    await expect(fake.sendSlashCommand({ name: "anywhere", privateChannel: true })).rejects.toThrow(FakeDiscordUsageError);
    const arrived = nextInteraction();
    const handle = await fake.sendSlashCommand({ name: "anywhere", privateChannel: true, userInstall: true });
    const interaction = await arrived;
    expect(interaction.context).toBe(InteractionContextType.PrivateChannel);
    expect(interaction.guildId).toBeNull();
    expect(handle.payload.authorizing_integration_owners).toEqual({ [ApplicationIntegrationType.UserInstall]: fake.defaultUser.id });
    expect(await discordCode(client.rest.post(Routes.channelMessages(interaction.channelId ?? ""), { body: { content: "hi" } }))).toEqual({ status: 403, code: 50001 });
  });

  it("runs a message command in the bot's DM on the user's own message", async () => {
    const user = fake.createUser();
    const arrived = nextInteraction();
    await fake.sendMessageCommand({ name: "Inspect", dm: true, userInstall: true, user, locale: "ja", targetMessage: { content: "voice" } });
    const interaction = await arrived;
    expect(interaction.isMessageContextMenuCommand() && interaction.targetMessage.content).toBe("voice");
    expect(interaction.channelId).toBe(fake.botDmChannelId(user.id));
    expect(interaction.locale).toBe("ja");
  });

  it("delivers a DM to a user who installed the app, and refuses one to a user who shares nothing with the bot (50007)", async () => {
    const installer = fake.createUser();
    await fake.sendSlashCommand({ name: "anywhere", dm: true, userInstall: true, user: installer });
    const stranger = fake.createUser();
    const sent = await (await client.users.fetch(installer.id)).send({ content: "your song" });
    expect(sent.channelId).toBe(fake.botDmChannelId(installer.id));
    expect(fake.messages(fake.botDmChannelId(installer.id)).map((message) => message.content)).toEqual(["your song"]);
    expect(await discordCode((await client.users.fetch(stranger.id)).send({ content: "hello?" }))).toEqual({ status: 403, code: 50007 });
  });
});
