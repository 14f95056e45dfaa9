import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ButtonStyle,
  ChannelType,
  ComponentType,
  InteractionContextType,
  GatewayDispatchEvents,
  InteractionType,
  MessageType,
  type APIApplicationCommand,
  type APIApplicationCommandOption,
  type APIInteraction,
  type APIUser,
} from "discord.js";
import { FakeDiscordUsageError } from "./errors.js";
import type { FakeGateway } from "./gateway.js";
import { cloneJson, isInteger, isRecord, textLength, type JsonRecord } from "./json.js";
import { attachmentFromInput, createStoredMessage, hostAttachment, renderMessage, renderStoredAttachment } from "./messages.js";
import { authorizingOwners, interactionBase, makeInteractionEnvelope, makeMember, makeUser, USER_INSTALL_APP_PERMISSIONS, type InteractionEnvelope } from "./payloads.js";
import { FakePermissions, permissionsToString } from "./permissions.js";
import { makeInteractionToken } from "./snowflake.js";
import type { FakeDiscordWorld, StoredInteraction, StoredMessage } from "./state.js";
import type {
  ComponentInput,
  FakeMessageView,
  FakeTargetMessageInput,
  MessageCommandInput,
  ModalSubmitInput,
  SlashCommandInput,
  SlashCommandOptionInput,
} from "./types.js";

function fail(message: string): never {
  throw new FakeDiscordUsageError(`fake-discord: ${message}`);
}

interface Resolved {
  users?: Record<string, APIUser>;
  members?: Record<string, JsonRecord>;
  roles?: Record<string, JsonRecord>;
  channels?: Record<string, JsonRecord>;
  attachments?: Record<string, JsonRecord>;
  messages?: Record<string, JsonRecord>;
}

/** How and where a command is used: which install authorizes it, and the interaction context. */
interface CommandPlace {
  /** The bot's guild whose own commands are offered too; null outside the bot's guilds. */
  readonly botGuildId: string | null;
  readonly userInstall: boolean;
  readonly context: InteractionContextType;
  /** For messages: where the user is. */
  readonly where: string;
}

/** Where a global command may be used: its `contexts`, or (unset) guilds plus the old `dm_permission`. */
function commandContexts(command: APIApplicationCommand): readonly InteractionContextType[] {
  if (Array.isArray(command.contexts)) return command.contexts;
  return command.dm_permission === false ? [InteractionContextType.Guild] : [InteractionContextType.Guild, InteractionContextType.BotDM];
}

/**
 * The command a user is offered here, as Discord's client decides: a guild's own commands only in
 * that guild with the bot; a global command only where its `contexts` allow and through an install
 * its `integration_types` allow (a user install outside the bot's guilds, otherwise the guild's).
 */
function findCommand(world: FakeDiscordWorld, place: CommandPlace, type: ApplicationCommandType, name: string): APIApplicationCommand {
  const guildCommands = place.botGuildId === null ? [] : (world.guildCommands.get(place.botGuildId) ?? []);
  const candidates = [...guildCommands, ...world.globalCommands];
  const command = candidates.find((candidate) => candidate.type === type && candidate.name === name);
  if (!command) {
    const known = candidates.filter((candidate) => candidate.type === type).map((candidate) => candidate.name);
    fail(`no ${ApplicationCommandType[type]} command "${name}" is registered for ${place.where} (registered: ${known.join(", ") || "none"}); a user cannot invoke it`);
  }
  if (command.guild_id) return command;
  if (!commandContexts(command).includes(place.context)) {
    fail(`command "${name}" is not offered in ${place.where} (its contexts: ${JSON.stringify(command.contexts)}); Discord does not show it there`);
  }
  const installs = command.integration_types ?? [ApplicationIntegrationType.GuildInstall];
  const byUser = place.userInstall && installs.includes(ApplicationIntegrationType.UserInstall);
  const byGuild = place.botGuildId !== null && installs.includes(ApplicationIntegrationType.GuildInstall);
  const byBotDm = place.context === InteractionContextType.BotDM && !place.userInstall && installs.includes(ApplicationIntegrationType.GuildInstall);
  if (!byUser && !byGuild && !byBotDm) {
    fail(`command "${name}" (integration_types ${JSON.stringify(installs)}) is not available through ${place.userInstall ? "a user install" : "a guild install"} in ${place.where}`);
  }
  return command;
}

function guildPlace(envelope: InteractionEnvelope): CommandPlace {
  return {
    botGuildId: envelope.botIsMember ? envelope.guild.info.id : null,
    userInstall: envelope.userInstall,
    context: InteractionContextType.Guild,
    where: `guild ${envelope.guild.info.id}${envelope.botIsMember ? "" : " (without the bot)"}`,
  };
}

function resolveUser(world: FakeDiscordWorld, envelope: InteractionEnvelope, id: string, resolved: Resolved): void {
  const user = world.users.get(id);
  if (!user) fail(`user ${id} is unknown to the fake; create it with fake.createUser()`);
  (resolved.users ??= {})[id] = user;
  const member = envelope.guild.members.get(id);
  if (member) {
    const { user: _user, deaf: _deaf, mute: _mute, ...partial } = member;
    (resolved.members ??= {})[id] = { ...partial, permissions: "0" };
  }
}

function checkChoices(definition: APIApplicationCommandOption, value: string | number, label: string): void {
  if (!("choices" in definition) || !Array.isArray(definition.choices) || definition.choices.length === 0) return;
  const values = definition.choices.map((choice: { value: string | number }) => choice.value);
  if (!values.includes(value)) fail(`option ${label} must be one of the command's choices (${values.join(", ")}); got ${String(value)}`);
}

/** Checks what a user typed against the registered definition (Discord's client enforces these) and builds the API options. */
function convertOptions(
  world: FakeDiscordWorld,
  envelope: InteractionEnvelope,
  definitions: readonly APIApplicationCommandOption[],
  inputs: readonly SlashCommandOptionInput[],
  prefix: string,
  resolved: Resolved,
): JsonRecord[] {
  const result: JsonRecord[] = [];
  const hasSubcommands = definitions.some(
    (definition) => definition.type === ApplicationCommandOptionType.Subcommand || definition.type === ApplicationCommandOptionType.SubcommandGroup,
  );
  if (hasSubcommands && inputs.length !== 1) fail(`command ${prefix || "(root)"} needs exactly one subcommand; got ${inputs.length}`);
  for (const input of inputs) {
    const label = `${prefix}${input.name}`;
    const definition = definitions.find((candidate) => candidate.name === input.name);
    if (!definition) fail(`option "${label}" is not defined on the registered command (defined: ${definitions.map((d) => d.name).join(", ") || "none"})`);
    if (definition.type !== input.type) {
      fail(`option "${label}" is registered as ${ApplicationCommandOptionType[definition.type]}, not ${ApplicationCommandOptionType[input.type]}`);
    }
    const base = { type: input.type, name: input.name };
    switch (definition.type) {
      case ApplicationCommandOptionType.Subcommand:
      case ApplicationCommandOptionType.SubcommandGroup:
        result.push({ ...base, options: convertOptions(world, envelope, definition.options ?? [], input.options ?? [], `${label} `, resolved) });
        continue;
      case ApplicationCommandOptionType.String: {
        if (typeof input.value !== "string") fail(`option "${label}" needs a string value`);
        const length = textLength(input.value);
        if (length < (definition.min_length ?? 0) || length > (definition.max_length ?? 6000)) {
          fail(`option "${label}" must be ${definition.min_length ?? 0}-${definition.max_length ?? 6000} characters; got ${length}`);
        }
        checkChoices(definition, input.value, label);
        result.push({ ...base, value: input.value });
        continue;
      }
      case ApplicationCommandOptionType.Integer:
      case ApplicationCommandOptionType.Number: {
        const value = input.value;
        if (typeof value !== "number" || (definition.type === ApplicationCommandOptionType.Integer && !Number.isInteger(value))) {
          fail(`option "${label}" needs a ${ApplicationCommandOptionType[definition.type]} value`);
        }
        if ((definition.min_value !== undefined && value < definition.min_value) || (definition.max_value !== undefined && value > definition.max_value)) {
          fail(`option "${label}" must be within ${definition.min_value ?? "-∞"}..${definition.max_value ?? "∞"}; got ${value}`);
        }
        checkChoices(definition, value, label);
        result.push({ ...base, value });
        continue;
      }
      case ApplicationCommandOptionType.Boolean:
        if (typeof input.value !== "boolean") fail(`option "${label}" needs a boolean value`);
        result.push({ ...base, value: input.value });
        continue;
      case ApplicationCommandOptionType.User:
        if (typeof input.value !== "string") fail(`option "${label}" needs a user id`);
        resolveUser(world, envelope, input.value, resolved);
        result.push({ ...base, value: input.value });
        continue;
      case ApplicationCommandOptionType.Channel: {
        const channel = envelope.guild.channels.find((candidate) => candidate.id === input.value);
        if (!channel || typeof input.value !== "string") fail(`option "${label}" needs a channel id of guild ${envelope.guild.info.id}`);
        (resolved.channels ??= {})[input.value] = { id: channel.id, name: channel.name, type: channel.type, permissions: envelope.member.permissions, guild_id: envelope.guild.info.id };
        result.push({ ...base, value: input.value });
        continue;
      }
      case ApplicationCommandOptionType.Role:
      case ApplicationCommandOptionType.Mentionable: {
        const role = envelope.guild.roles.find((candidate) => candidate.id === input.value);
        if (typeof input.value !== "string") fail(`option "${label}" needs an id`);
        if (role) (resolved.roles ??= {})[input.value] = cloneJson(role) as unknown as JsonRecord;
        else if (definition.type === ApplicationCommandOptionType.Mentionable) resolveUser(world, envelope, input.value, resolved);
        else fail(`option "${label}" needs a role id of guild ${envelope.guild.info.id}`);
        result.push({ ...base, value: input.value });
        continue;
      }
      case ApplicationCommandOptionType.Attachment: {
        if (!input.attachment) fail(`option "${label}" needs an \`attachment\` (the file the user uploads)`);
        const attachment = attachmentFromInput(world, input.attachment);
        if (attachment.size > envelope.attachmentSizeLimit) {
          fail(`the user cannot upload ${attachment.size} bytes; the limit here is ${envelope.attachmentSizeLimit}`);
        }
        const channelId = envelope.channel.id as string;
        hostAttachment(world, channelId, attachment);
        // Files uploaded through a command option are ephemeral attachments.
        (resolved.attachments ??= {})[attachment.id] = renderStoredAttachment(world, channelId, attachment, true) as unknown as JsonRecord;
        result.push({ ...base, value: attachment.id });
        continue;
      }
    }
  }
  for (const definition of definitions) {
    const required = "required" in definition && definition.required === true;
    if (required && !inputs.some((input) => input.name === definition.name)) fail(`required option "${prefix}${definition.name}" is missing`);
  }
  return result;
}

function newInteraction(
  world: FakeDiscordWorld,
  envelope: InteractionEnvelope,
  type: InteractionType,
  data: JsonRecord,
  extra: { commandName?: string; sourceMessage?: StoredMessage | null; message?: JsonRecord; triggeringInteractionId?: string },
): StoredInteraction {
  const id = world.nextId();
  const token = makeInteractionToken(id);
  const payload = { ...interactionBase(world, envelope, id, token), type, data } as JsonRecord;
  if (extra.message) payload.message = extra.message;
  return {
    id,
    token,
    type,
    payload: payload as unknown as APIInteraction,
    user: envelope.user,
    guildId: envelope.guild.info.id,
    channelId: envelope.channel.id as string,
    attachmentSizeLimit: envelope.attachmentSizeLimit,
    commandName: extra.commandName ?? null,
    dispatchedAt: world.clock(),
    initial: undefined,
    originalMessageId: null,
    sourceMessageId: extra.sourceMessage?.id ?? null,
    triggeringInteractionId: extra.triggeringInteractionId ?? null,
    modal: undefined,
    modalSubmitted: false,
    followupIds: [],
    deliveredTo: [],
  };
}

/** Registers the interaction and sends INTERACTION_CREATE; the response window starts once it is on the wire. */
export async function dispatchInteraction(world: FakeDiscordWorld, gateway: FakeGateway, interaction: StoredInteraction): Promise<void> {
  if (!gateway.hasReadyConnection()) fail("no discord.js client is connected and ready; await fake.waitForReady() first");
  world.interactions.set(interaction.id, interaction);
  world.interactionsByToken.set(interaction.token, interaction);
  interaction.dispatchedAt = world.clock();
  interaction.deliveredTo.push(...(await gateway.dispatch(GatewayDispatchEvents.InteractionCreate, interaction.payload, interaction.guildId)));
  interaction.dispatchedAt = world.clock();
  world.notify();
}

/**
 * A place outside the bot's guilds: the user's DM with the bot (context 1), or a DM or group DM
 * among users (context 2), where only a user install reaches. `user` instead of `member`, no guild
 * (receiving-and-responding.mdx), and Discord delivers it to shard 0.
 */
interface PrivatePlace {
  readonly user: APIUser;
  readonly channel: JsonRecord;
  readonly context: InteractionContextType;
  readonly userInstall: boolean;
  readonly attachmentSizeLimit: number;
}

function privatePlace(world: FakeDiscordWorld, input: SlashCommandInput | MessageCommandInput): PrivatePlace {
  if (input.guildId !== undefined || input.channelId !== undefined) fail("a command in a DM or private channel takes no guildId or channelId");
  if (input.dm === true && input.privateChannel === true) fail("pass either dm or privateChannel, not both");
  const user = input.user ?? world.defaultUser;
  world.users.set(user.id, user);
  const userInstall = input.userInstall === true;
  const attachmentSizeLimit = input.attachmentSizeLimit ?? world.options.attachmentSizeLimit;
  if (input.privateChannel === true) {
    if (!userInstall) fail("only a user install reaches DMs among users (pass userInstall: true)");
    world.userInstalls.add(user.id);
    // A DM between this user and a friend: the bot is not one of its recipients.
    const friend = makeUser(world.nextId(), "friend");
    world.users.set(friend.id, friend);
    const channel: JsonRecord = { id: world.nextId(), type: ChannelType.DM, last_message_id: null, flags: 0, recipients: [friend] };
    world.privateChannels.set(channel.id as string, channel);
    return { user, channel, context: InteractionContextType.PrivateChannel, userInstall, attachmentSizeLimit };
  }
  if (userInstall) world.userInstalls.add(user.id);
  else if (!world.canDirectMessage(user.id)) {
    // A guild install is reached in the bot's DM through a server shared with it.
    world.guilds[0]?.members.set(user.id, makeMember(user, [], world.guilds[0].joinedAt));
  }
  return { user, channel: world.botDmChannel(user), context: InteractionContextType.BotDM, userInstall, attachmentSizeLimit };
}

function privateCommandPlace(place: PrivatePlace): CommandPlace {
  return {
    botGuildId: null,
    userInstall: place.userInstall,
    context: place.context,
    where: place.context === InteractionContextType.BotDM ? "the bot's DM" : "a DM among users",
  };
}

function newPrivateInteraction(world: FakeDiscordWorld, place: PrivatePlace, data: JsonRecord, command: APIApplicationCommand, appPermissions: string | undefined): StoredInteraction {
  const id = world.nextId();
  const token = makeInteractionToken(id);
  const channelId = place.channel.id as string;
  const inBotDm = place.context === InteractionContextType.BotDM;
  const payload: JsonRecord = {
    id,
    application_id: world.applicationId,
    token,
    version: 1,
    type: InteractionType.ApplicationCommand,
    data,
    channel: cloneJson(place.channel),
    channel_id: channelId,
    user: place.user,
    locale: "en-US",
    app_permissions: permissionsToString(appPermissions ?? (inBotDm ? FakePermissions.bot : USER_INSTALL_APP_PERMISSIONS)),
    entitlements: [],
    // In the bot's DM a guild install is authorized by "0"; a user install by the user's id.
    authorizing_integration_owners: authorizingOwners({ guildInstall: inBotDm && !place.userInstall ? "0" : null, userInstall: place.userInstall ? place.user.id : null }),
    context: place.context,
    attachment_size_limit: place.attachmentSizeLimit,
  };
  return {
    id,
    token,
    type: InteractionType.ApplicationCommand,
    payload: payload as unknown as APIInteraction,
    user: place.user,
    guildId: null,
    channelId,
    attachmentSizeLimit: place.attachmentSizeLimit,
    commandName: command.name,
    dispatchedAt: world.clock(),
    initial: undefined,
    originalMessageId: null,
    sourceMessageId: null,
    triggeringInteractionId: null,
    modal: undefined,
    modalSubmitted: false,
    followupIds: [],
    deliveredTo: [],
  };
}

/** A slash command in a DM or private channel. */
function buildPrivateSlashCommand(world: FakeDiscordWorld, input: SlashCommandInput): StoredInteraction {
  const place = privatePlace(world, input);
  const command = findCommand(world, privateCommandPlace(place), ApplicationCommandType.ChatInput, input.name);
  const guildOnly = (input.options ?? []).filter((option) => option.type !== ApplicationCommandOptionType.String && option.type !== ApplicationCommandOptionType.Integer && option.type !== ApplicationCommandOptionType.Number && option.type !== ApplicationCommandOptionType.Boolean);
  if (guildOnly.length > 0) fail(`the fake builds DM commands with text, number and boolean options only (got ${guildOnly.map((o) => o.name).join(", ")})`);
  // The option checks only read the guild for guild-only option types, refused above.
  const envelope = { guild: undefined, channel: place.channel, user: place.user } as unknown as InteractionEnvelope;
  const options = convertOptions(world, envelope, command.options ?? [], input.options ?? [], "", {});
  const data: JsonRecord = { id: command.id, name: command.name, type: ApplicationCommandType.ChatInput };
  if (options.length > 0) data.options = options;
  const interaction = newPrivateInteraction(world, place, data, command, input.appPermissions === undefined ? undefined : permissionsToString(input.appPermissions));
  (interaction.payload as unknown as JsonRecord).locale = input.locale ?? "en-US";
  return interaction;
}

/** A message command in a DM or private channel, on a message somebody wrote there (or one already stored). */
function buildPrivateMessageCommand(world: FakeDiscordWorld, input: MessageCommandInput): StoredInteraction {
  const place = privatePlace(world, input);
  const command = findCommand(world, privateCommandPlace(place), ApplicationCommandType.Message, input.name);
  const channelId = place.channel.id as string;
  const target = input.targetMessage;
  let message: StoredMessage;
  if (isMessageView(target)) {
    const stored = world.messages.get(target.id);
    if (!stored || stored.deleted) fail(`target message ${target.id} does not exist (or was deleted)`);
    if (stored.channelId !== channelId) fail(`target message ${target.id} is not in this DM`);
    message = stored;
  } else message = storeUserMessage(world, { channelId, guildId: null, user: place.user }, target);
  const data: JsonRecord = {
    id: command.id,
    name: command.name,
    type: ApplicationCommandType.Message,
    target_id: message.id,
    resolved: { messages: { [message.id]: renderMessage(world, message) as unknown as JsonRecord } },
  };
  const interaction = newPrivateInteraction(world, place, data, command, input.appPermissions === undefined ? undefined : permissionsToString(input.appPermissions));
  (interaction.payload as unknown as JsonRecord).locale = input.locale ?? "en-US";
  return interaction;
}

export function buildSlashCommand(world: FakeDiscordWorld, input: SlashCommandInput): StoredInteraction {
  if (input.dm === true || input.privateChannel === true) return buildPrivateSlashCommand(world, input);
  const envelope = makeInteractionEnvelope(world, input, null, fail);
  const command = findCommand(world, guildPlace(envelope), ApplicationCommandType.ChatInput, input.name);
  const resolved: Resolved = {};
  const options = convertOptions(world, envelope, command.options ?? [], input.options ?? [], "", resolved);
  const data: JsonRecord = { id: command.id, name: command.name, type: ApplicationCommandType.ChatInput };
  if (options.length > 0) data.options = options;
  if (Object.keys(resolved).length > 0) data.resolved = resolved;
  if (command.guild_id) data.guild_id = command.guild_id;
  return newInteraction(world, envelope, InteractionType.ApplicationCommand, data, { commandName: command.name });
}

function isMessageView(value: FakeTargetMessageInput | FakeMessageView): value is FakeMessageView {
  return "raw" in value && "fromBot" in value;
}

/** A message somebody else wrote, stored so the bot can also fetch it and download its attachments. */
function storeUserMessage(world: FakeDiscordWorld, where: { channelId: string; guildId: string | null; user: APIUser }, input: FakeTargetMessageInput): StoredMessage {
  const author = input.author ?? where.user;
  world.users.set(author.id, author);
  const attachments = (input.attachments ?? []).map((attachment) => attachmentFromInput(world, attachment));
  const draft = {
    content: input.content ?? "",
    embeds: cloneJson([...(input.embeds ?? [])]),
    components: [],
    flags: input.flags ?? 0,
    tts: false,
    attachments,
    allowedMentions: "missing" as const,
  };
  const args = {
    channelId: where.channelId,
    guildId: where.guildId,
    type: MessageType.Default,
    author,
    fromBot: false,
    draft,
  };
  return createStoredMessage(world, input.id === undefined ? args : { ...args, id: input.id });
}

export function buildMessageCommand(world: FakeDiscordWorld, input: MessageCommandInput): StoredInteraction {
  if (input.dm === true || input.privateChannel === true) return buildPrivateMessageCommand(world, input);
  const envelope = makeInteractionEnvelope(world, input, null, fail);
  const command = findCommand(world, guildPlace(envelope), ApplicationCommandType.Message, input.name);
  const target = input.targetMessage;
  let message: StoredMessage;
  if (isMessageView(target)) {
    const stored = world.messages.get(target.id);
    if (!stored || stored.deleted) fail(`target message ${target.id} does not exist (or was deleted)`);
    message = stored;
  } else message = storeUserMessage(world, { channelId: envelope.channel.id as string, guildId: envelope.guild.info.id, user: envelope.user }, target);
  const rendered = renderMessage(world, message) as unknown as JsonRecord;
  const data: JsonRecord = {
    id: command.id,
    name: command.name,
    type: ApplicationCommandType.Message,
    target_id: message.id,
    resolved: { messages: { [message.id]: rendered } },
  };
  if (command.guild_id) data.guild_id = command.guild_id;
  return newInteraction(world, envelope, InteractionType.ApplicationCommand, data, { commandName: command.name });
}

/** Walks a stored message's components for the one with `customId`. */
function findComponent(components: readonly JsonRecord[], customId: string): JsonRecord | undefined {
  for (const component of components) {
    if (component.custom_id === customId) return component;
    const children = [
      ...(Array.isArray(component.components) ? component.components.filter(isRecord) : []),
      ...(isRecord(component.accessory) ? [component.accessory] : []),
    ];
    const found = findComponent(children, customId);
    if (found) return found;
  }
  return undefined;
}

function customIdsOf(components: readonly JsonRecord[]): string[] {
  return components.flatMap((component) => [
    ...(typeof component.custom_id === "string" ? [component.custom_id] : []),
    ...customIdsOf(Array.isArray(component.components) ? component.components.filter(isRecord) : []),
    ...customIdsOf(isRecord(component.accessory) ? [component.accessory] : []),
  ]);
}

export function buildComponent(world: FakeDiscordWorld, input: ComponentInput): StoredInteraction {
  const messageId = typeof input.message === "string" ? input.message : input.message.id;
  const message = world.messages.get(messageId);
  if (!message) fail(`message ${messageId} does not exist`);
  if (message.deleted) fail(`message ${messageId} was deleted; nobody can click it`);
  if (message.guildId === null) fail(`message ${messageId} is not in a guild`);
  const envelope = makeInteractionEnvelope(world, { ...input, guildId: message.guildId }, message.channelId, fail);
  if (message.recipientId !== null && message.recipientId !== envelope.user.id) {
    fail(`message ${messageId} is ephemeral and only visible to user ${message.recipientId}`);
  }
  const component = findComponent(message.components, input.customId);
  if (!component) fail(`message ${messageId} has no component with custom_id "${input.customId}" (it has: ${customIdsOf(message.components).join(", ") || "none"})`);
  const componentType = component.type;
  if (!isInteger(componentType)) fail(`component "${input.customId}" has no type`);
  if (input.componentType !== undefined && input.componentType !== componentType) {
    fail(`component "${input.customId}" is a ${ComponentType[componentType]}, not a ${ComponentType[input.componentType]}`);
  }
  if (component.disabled === true) fail(`component "${input.customId}" is disabled; a user cannot use it`);
  if (componentType === ComponentType.Button && (component.style === ButtonStyle.Link || component.style === ButtonStyle.Premium)) {
    fail(`button "${input.customId}" is a link/premium button; it sends no interaction`);
  }
  const data: JsonRecord = { custom_id: input.customId, component_type: componentType, id: component.id };
  if (componentType === ComponentType.Button) {
    if (input.values !== undefined) fail(`button "${input.customId}" takes no values`);
  } else {
    const values = [...(input.values ?? [])];
    const min = isInteger(component.min_values) ? component.min_values : 1;
    const max = isInteger(component.max_values) ? component.max_values : 1;
    if (values.length < min || values.length > max) fail(`select "${input.customId}" needs ${min}-${max} values; got ${values.length}`);
    if (componentType === ComponentType.StringSelect) {
      const allowed = Array.isArray(component.options) ? component.options.filter(isRecord).map((option) => option.value) : [];
      const unknown = values.filter((value) => !allowed.includes(value));
      if (unknown.length > 0) fail(`select "${input.customId}" has no option(s) ${unknown.join(", ")} (options: ${allowed.join(", ")})`);
    } else {
      const resolved: Resolved = {};
      for (const value of values) if (world.users.has(value)) resolveUser(world, envelope, value, resolved);
      if (Object.keys(resolved).length > 0) data.resolved = resolved;
    }
    data.values = values;
  }
  return newInteraction(world, envelope, InteractionType.MessageComponent, data, {
    sourceMessage: message,
    message: renderMessage(world, message) as unknown as JsonRecord,
  });
}

function latestModalSource(world: FakeDiscordWorld, input: ModalSubmitInput): StoredInteraction {
  if (input.from) {
    const source = world.interactions.get(input.from.id);
    if (!source?.modal) fail(`interaction ${input.from.id} did not show a modal`);
    if (source.modal.custom_id !== input.customId) fail(`interaction ${input.from.id} showed modal "${source.modal.custom_id}", not "${input.customId}"`);
    if (source.modalSubmitted) fail(`modal "${input.customId}" of interaction ${source.id} was already submitted`);
    return source;
  }
  const shown = [...world.interactions.values()].filter((interaction) => interaction.modal !== undefined);
  const source = shown.reverse().find((interaction) => interaction.modal?.custom_id === input.customId && !interaction.modalSubmitted);
  if (!source) fail(`no open modal "${input.customId}" (shown: ${shown.map((i) => i.modal?.custom_id).join(", ") || "none"})`);
  return source;
}

interface TextInputSpec {
  readonly id: number;
  readonly customId: string;
  readonly required: boolean;
  readonly minLength: number;
  readonly maxLength: number;
}

function textInputSpec(component: JsonRecord): TextInputSpec {
  return {
    id: isInteger(component.id) ? component.id : 0,
    customId: String(component.custom_id),
    required: component.required !== false,
    minLength: isInteger(component.min_length) ? component.min_length : 0,
    maxLength: isInteger(component.max_length) ? component.max_length : 4000,
  };
}

/** What Discord sends back for one text input, after the checks its modal UI enforces. */
function submittedTextInput(spec: TextInputSpec, fields: Readonly<Record<string, string>>): JsonRecord {
  const value = fields[spec.customId] ?? "";
  const length = textLength(value);
  if (spec.required && length === 0) fail(`text input "${spec.customId}" is required; the user cannot submit it empty`);
  if (length > 0 && (length < spec.minLength || length > spec.maxLength)) {
    fail(`text input "${spec.customId}" accepts ${spec.minLength}-${spec.maxLength} characters; got ${length}`);
  }
  return { type: ComponentType.TextInput, id: spec.id, custom_id: spec.customId, value };
}

export function buildModalSubmit(world: FakeDiscordWorld, input: ModalSubmitInput): StoredInteraction {
  const source = latestModalSource(world, input);
  const modal = source.modal;
  if (!modal) fail("modal vanished");
  const envelope = makeInteractionEnvelope(world, { ...input, user: input.user ?? source.user, guildId: source.guildId ?? undefined }, source.channelId, fail);
  if (envelope.user.id !== source.user.id) fail(`modal "${input.customId}" was shown to user ${source.user.id}, not ${envelope.user.id}`);
  const known = new Set<string>();
  const components = (modal.components as unknown as JsonRecord[]).map((component): JsonRecord => {
    const id = isInteger(component.id) ? component.id : 0;
    if (component.type === ComponentType.ActionRow) {
      const child = Array.isArray(component.components) ? component.components.find(isRecord) : undefined;
      if (!child) return { type: ComponentType.ActionRow, id, components: [] };
      const spec = textInputSpec(child);
      known.add(spec.customId);
      return { type: ComponentType.ActionRow, id, components: [submittedTextInput(spec, input.fields)] };
    }
    if (component.type === ComponentType.Label && isRecord(component.component)) {
      const child = component.component;
      if (child.type !== ComponentType.TextInput) {
        if (child.required !== false) fail(`modal component "${String(child.custom_id)}" is a ${String(child.type)}; the fake only fills text inputs`);
        return { type: ComponentType.Label, id, component: { type: child.type, id: child.id, custom_id: child.custom_id, values: [] } };
      }
      const spec = textInputSpec(child);
      known.add(spec.customId);
      return { type: ComponentType.Label, id, component: submittedTextInput(spec, input.fields) };
    }
    return { type: component.type, id };
  });
  const unknown = Object.keys(input.fields).filter((key) => !known.has(key));
  if (unknown.length > 0) fail(`modal "${input.customId}" has no text input(s) ${unknown.join(", ")} (it has: ${[...known].join(", ")})`);
  const sourceMessage = source.sourceMessageId === null ? null : (world.messages.get(source.sourceMessageId) ?? null);
  source.modalSubmitted = true;
  const extra = sourceMessage
    ? { sourceMessage, message: renderMessage(world, sourceMessage) as unknown as JsonRecord, triggeringInteractionId: source.id }
    : { triggeringInteractionId: source.id };
  return newInteraction(world, envelope, InteractionType.ModalSubmit, { custom_id: modal.custom_id, components }, extra);
}
