import { ApplicationCommandType, MessageFlags, MessageType, type APIApplicationCommand } from "discord.js";
import { validateCommandList, type ValidatedCommandInput } from "./command-limits.js";
import { discordError } from "./errors.js";
import { cloneJson, isRecord, type JsonRecord } from "./json.js";
import { applyMessageEdit, createStoredMessage, deleteStoredMessage, draftMessageWrite, renderMessage } from "./messages.js";
import { applicationPayload, restGuildPayload } from "./payloads.js";
import { checkUploadSizes, emitMessageEvent, fireMessageEvent } from "./interaction-routes.js";
import type { Route, RouteContext, RouteResult } from "./router.js";
import type { FakeDiscordWorld, GuildState, StoredMessage } from "./state.js";

function requireApplication(context: RouteContext): void {
  // A bot token can only manage its own application's commands.
  if (context.params.applicationId !== context.world.applicationId) throw discordError.missingAccess();
}

function requireGuild(context: RouteContext): GuildState {
  const guild = context.world.guild(context.params.guildId ?? "");
  // Registering commands in a guild the bot is not in is the classic 50001 Missing Access.
  if (!guild) throw discordError.missingAccess();
  return guild;
}

function commandList(world: FakeDiscordWorld, guildId: string | null): APIApplicationCommand[] {
  if (guildId === null) return world.globalCommands;
  let list = world.guildCommands.get(guildId);
  if (!list) {
    list = [];
    world.guildCommands.set(guildId, list);
  }
  return list;
}

/** Turns a validated definition into the object Discord returns, keeping the id a same-named command had. */
function storeCommand(world: FakeDiscordWorld, input: ValidatedCommandInput, guildId: string | null): APIApplicationCommand {
  const key = `${guildId ?? "global"}:${input.type}:${input.name}`;
  let id = world.commandIds.get(key);
  if (id === undefined) {
    id = world.nextId();
    world.commandIds.set(key, id);
  }
  const body = input.body;
  const command: APIApplicationCommand = {
    id,
    application_id: world.applicationId,
    version: world.nextId(),
    default_member_permissions: typeof body.default_member_permissions === "string" ? body.default_member_permissions : null,
    type: input.type,
    name: input.name,
    description: input.type === ApplicationCommandType.ChatInput && typeof body.description === "string" ? body.description : "",
    nsfw: body.nsfw === true,
  };
  if (isRecord(body.name_localizations)) command.name_localizations = cloneJson(body.name_localizations);
  if (isRecord(body.description_localizations)) command.description_localizations = cloneJson(body.description_localizations);
  if (Array.isArray(body.options) && input.type === ApplicationCommandType.ChatInput) {
    command.options = cloneJson(body.options) as APIApplicationCommand["options"];
  }
  if (guildId === null) {
    // Global-only fields; Discord fills the defaults when they are omitted.
    command.integration_types = Array.isArray(body.integration_types) ? (cloneJson(body.integration_types) as APIApplicationCommand["integration_types"]) : [0];
    command.contexts = Array.isArray(body.contexts) ? (cloneJson(body.contexts) as APIApplicationCommand["contexts"]) : null;
    command.dm_permission = body.dm_permission !== false;
  } else {
    command.guild_id = guildId;
  }
  return command;
}

function bulkOverwrite(context: RouteContext, guildId: string | null): RouteResult {
  const validated = validateCommandList(context.body.json);
  const list = commandList(context.world, guildId);
  const stored = validated.map((input) => storeCommand(context.world, input, guildId));
  list.splice(0, list.length, ...stored);
  context.world.notify();
  return { status: 200, body: stored };
}

function createCommand(context: RouteContext, guildId: string | null): RouteResult {
  const [input] = validateCommandList([context.body.json]);
  if (!input) throw discordError.unknownCommand();
  const list = commandList(context.world, guildId);
  const existingIndex = list.findIndex((command) => command.name === input.name && command.type === input.type);
  const stored = storeCommand(context.world, input, guildId);
  if (existingIndex >= 0) list.splice(existingIndex, 1, stored);
  else {
    const sameType = list.filter((command) => command.type === input.type).length;
    const max = input.type === ApplicationCommandType.ChatInput ? 100 : 15;
    if (sameType >= max) throw discordError.tooManyCommands(max);
    list.push(stored);
  }
  context.world.notify();
  return { status: existingIndex >= 0 ? 200 : 201, body: stored };
}

function findCommand(context: RouteContext, guildId: string | null): { list: APIApplicationCommand[]; index: number } {
  const list = commandList(context.world, guildId);
  const index = list.findIndex((command) => command.id === context.params.commandId);
  if (index < 0) throw discordError.unknownCommand();
  return { list, index };
}

/**
 * A channel the bot's token may use: one of its guilds' channels or its DM with a user. A channel
 * it cannot see (a server it is not in, other people's DMs) is 403 Missing Access, as on Discord;
 * an id that is no channel at all is 404 Unknown Channel.
 */
function visibleChannel(context: RouteContext): { guildId: string | null; dmUserId: string | null; channel: JsonRecord } {
  const found = context.world.channelForBot(context.params.channelId ?? "");
  if (!found) throw discordError.unknownChannel();
  if (found.kind === "hidden") throw discordError.missingAccess();
  if (found.kind === "bot-dm") return { guildId: null, dmUserId: found.userId, channel: found.channel };
  return { guildId: found.guild.info.id, dmUserId: null, channel: found.channel };
}

function channelMessage(context: RouteContext): StoredMessage {
  const found = visibleChannel(context);
  const message = context.world.messages.get(context.params.messageId ?? "");
  if (!message || message.deleted || message.channelId !== found.channel.id || (message.flags & MessageFlags.Ephemeral) !== 0) {
    throw discordError.unknownMessage();
  }
  return message;
}

async function createChannelMessage(context: RouteContext): Promise<RouteResult> {
  const { world, body } = context;
  const found = visibleChannel(context);
  // The DM channel opens for anyone, but a message reaches only a user the bot may write to.
  if (found.dmUserId !== null && !world.canDirectMessage(found.dmUserId)) throw discordError.cannotMessageUser();
  checkUploadSizes(body.files, world.options.attachmentSizeLimit);
  const draft = draftMessageWrite(world, { mode: "create", existing: null, body: body.json ?? {}, files: body.files, path: [] });
  // Ephemeral messages only exist as interaction responses; Discord ignores the flag here.
  const message = createStoredMessage(world, {
    channelId: found.channel.id as string,
    guildId: found.guildId,
    type: MessageType.Default,
    author: world.botUser,
    fromBot: true,
    draft: { ...draft, flags: draft.flags & ~MessageFlags.Ephemeral },
  });
  await emitMessageEvent(context, "create", message);
  return { status: 200, body: renderMessage(world, message) };
}

function editChannelMessage(context: RouteContext): RouteResult {
  const { world, body } = context;
  const message = channelMessage(context);
  // Bots can only edit their own messages' content (50005 "Cannot edit a message authored by another user").
  if (!message.fromBot) throw discordError.cannotEditOthersMessage();
  checkUploadSizes(body.files, world.options.attachmentSizeLimit);
  const draft = draftMessageWrite(world, { mode: "edit", existing: message, body: body.json ?? {}, files: body.files, path: [] });
  applyMessageEdit(world, message, draft);
  fireMessageEvent(context, "update", message);
  return { status: 200, body: renderMessage(world, message) };
}

export const botRoutes: readonly Route[] = [
  {
    method: "GET",
    template: "/gateway",
    auth: "none",
    handle: (context) => ({ status: 200, body: { url: context.world.gatewayUrl } }),
  },
  {
    method: "GET",
    template: "/gateway/bot",
    auth: "bot",
    handle: (context) => ({
      status: 200,
      body: {
        url: context.world.gatewayUrl,
        shards: context.world.recommendedShards(),
        session_start_limit: {
          total: context.world.options.sessionStartLimit,
          remaining: Math.max(0, context.world.options.sessionStartLimit - context.world.sessionStarts),
          reset_after: 14_400_000,
          max_concurrency: context.world.options.maxConcurrency,
        },
      },
    }),
  },
  { method: "GET", template: "/users/@me", auth: "bot", handle: (context) => ({ status: 200, body: context.world.botUser }) },
  {
    // Create DM: returns the one DM channel of the bot and this user, opening it on first use.
    method: "POST",
    template: "/users/@me/channels",
    auth: "bot",
    handle: (context) => {
      const json = context.body.json;
      const recipientId = isRecord(json) && typeof json.recipient_id === "string" ? json.recipient_id : undefined;
      const user = recipientId === undefined ? undefined : context.world.users.get(recipientId);
      if (!user) throw discordError.unknownUser();
      return { status: 200, body: context.world.botDmChannel(user) };
    },
  },
  {
    method: "GET",
    template: "/users/:userId",
    auth: "bot",
    handle: (context) => {
      const user = context.world.users.get(context.params.userId ?? "");
      if (!user) throw discordError.unknownUser();
      return { status: 200, body: user };
    },
  },
  { method: "GET", template: "/applications/@me", auth: "bot", handle: (context) => ({ status: 200, body: applicationPayload(context.world) }) },
  {
    method: "GET",
    template: "/applications/:applicationId/commands",
    auth: "bot",
    handle: (context) => {
      requireApplication(context);
      return { status: 200, body: commandList(context.world, null) };
    },
  },
  {
    method: "PUT",
    template: "/applications/:applicationId/commands",
    auth: "bot",
    handle: (context) => {
      requireApplication(context);
      return bulkOverwrite(context, null);
    },
  },
  {
    method: "POST",
    template: "/applications/:applicationId/commands",
    auth: "bot",
    handle: (context) => {
      requireApplication(context);
      return createCommand(context, null);
    },
  },
  {
    method: "GET",
    template: "/applications/:applicationId/commands/:commandId",
    auth: "bot",
    handle: (context) => {
      requireApplication(context);
      const { list, index } = findCommand(context, null);
      return { status: 200, body: list[index] };
    },
  },
  {
    method: "DELETE",
    template: "/applications/:applicationId/commands/:commandId",
    auth: "bot",
    handle: (context) => {
      requireApplication(context);
      const { list, index } = findCommand(context, null);
      list.splice(index, 1);
      context.world.notify();
      return { status: 204 };
    },
  },
  {
    method: "GET",
    template: "/applications/:applicationId/guilds/:guildId/commands",
    auth: "bot",
    handle: (context) => {
      requireApplication(context);
      return { status: 200, body: commandList(context.world, requireGuild(context).info.id) };
    },
  },
  {
    method: "PUT",
    template: "/applications/:applicationId/guilds/:guildId/commands",
    auth: "bot",
    handle: (context) => {
      requireApplication(context);
      return bulkOverwrite(context, requireGuild(context).info.id);
    },
  },
  {
    method: "POST",
    template: "/applications/:applicationId/guilds/:guildId/commands",
    auth: "bot",
    handle: (context) => {
      requireApplication(context);
      return createCommand(context, requireGuild(context).info.id);
    },
  },
  {
    method: "GET",
    template: "/applications/:applicationId/guilds/:guildId/commands/:commandId",
    auth: "bot",
    handle: (context) => {
      requireApplication(context);
      const { list, index } = findCommand(context, requireGuild(context).info.id);
      return { status: 200, body: list[index] };
    },
  },
  {
    method: "DELETE",
    template: "/applications/:applicationId/guilds/:guildId/commands/:commandId",
    auth: "bot",
    handle: (context) => {
      requireApplication(context);
      const { list, index } = findCommand(context, requireGuild(context).info.id);
      list.splice(index, 1);
      context.world.notify();
      return { status: 204 };
    },
  },
  {
    method: "GET",
    template: "/guilds/:guildId",
    auth: "bot",
    handle: (context) => {
      const guild = context.world.guild(context.params.guildId ?? "");
      if (!guild) throw discordError.unknownGuild();
      return { status: 200, body: restGuildPayload(guild) };
    },
  },
  {
    method: "GET",
    template: "/guilds/:guildId/channels",
    auth: "bot",
    handle: (context) => {
      const guild = context.world.guild(context.params.guildId ?? "");
      if (!guild) throw discordError.unknownGuild();
      return { status: 200, body: guild.channels };
    },
  },
  {
    method: "GET",
    template: "/guilds/:guildId/members/:userId",
    auth: "bot",
    handle: (context) => {
      const guild = context.world.guild(context.params.guildId ?? "");
      if (!guild) throw discordError.unknownGuild();
      const member = guild.members.get(context.params.userId ?? "");
      if (!member) throw discordError.unknownMember();
      return { status: 200, body: member };
    },
  },
  {
    method: "GET",
    template: "/channels/:channelId",
    auth: "bot",
    handle: (context) => ({ status: 200, body: visibleChannel(context).channel }),
  },
  { method: "POST", template: "/channels/:channelId/messages", auth: "bot", handle: createChannelMessage },
  {
    method: "GET",
    template: "/channels/:channelId/messages/:messageId",
    auth: "bot",
    handle: (context) => ({ status: 200, body: renderMessage(context.world, channelMessage(context)) }),
  },
  { method: "PATCH", template: "/channels/:channelId/messages/:messageId", auth: "bot", handle: editChannelMessage },
  {
    method: "DELETE",
    template: "/channels/:channelId/messages/:messageId",
    auth: "bot",
    handle: (context) => {
      const message = channelMessage(context);
      // Another user's message needs Manage Messages, which the fake's bot is not given.
      if (!message.fromBot) throw discordError.missingPermissions();
      deleteStoredMessage(context.world, message);
      fireMessageEvent(context, "delete", message);
      return { status: 204 };
    },
  },
];
