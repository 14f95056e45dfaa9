import {
  ApplicationFlags,
  ApplicationIntegrationType,
  PermissionFlagsBits,
  ChannelType,
  GatewayIntentBits,
  GuildDefaultMessageNotifications,
  GuildExplicitContentFilter,
  GuildMFALevel,
  GuildNSFWLevel,
  GuildPremiumTier,
  GuildSystemChannelFlags,
  GuildVerificationLevel,
  InteractionContextType,
  Locale,
  type APIGuild,
  type APIGuildMember,
  type APIInteractionGuildMember,
  type APIRole,
  type APIUser,
  type GatewayReadyDispatchData,
  type GuildMemberFlags,
  type RoleFlags,
  type UserFlags,
} from "discord.js";
import type { JsonRecord } from "./json.js";
import { FakePermissions, permissionsToString } from "./permissions.js";
import type { FakeDiscordWorld, GuildState } from "./state.js";
import type { FakeGuild, FakeGuildInput, InteractionContextInput } from "./types.js";

export function makeUser(id: string, username: string, options: { bot?: boolean; globalName?: string | null } = {}): APIUser {
  const user: APIUser = {
    id,
    username,
    discriminator: "0",
    global_name: options.globalName === undefined ? (options.bot ? null : username) : options.globalName,
    avatar: null,
    public_flags: 0 as UserFlags,
    flags: 0 as UserFlags,
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
  };
  if (options.bot) {
    user.bot = true;
    user.verified = true;
    user.mfa_enabled = false;
  }
  return user;
}

function role(id: string, name: string, permissions: string, position: number, extra: Partial<APIRole> = {}): APIRole {
  return {
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions,
    managed: false,
    mentionable: false,
    flags: 0 as RoleFlags,
    ...extra,
  };
}

export function makeMember(user: APIUser, roles: readonly string[], joinedAt: string): APIGuildMember {
  return {
    user,
    nick: null,
    avatar: null,
    banner: null,
    roles: [...roles],
    joined_at: joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0 as GuildMemberFlags,
    pending: false,
    communication_disabled_until: null,
  };
}

/**
 * Builds a guild with the shape GUILD_CREATE needs: @everyone, a bot role, a text and a voice
 * channel. A guild without the bot (`withBot: false`) has neither the bot's role nor its member.
 */
export function makeGuildState(world: FakeDiscordWorld, input: FakeGuildInput, owner: APIUser, options: { withBot?: boolean } = {}): GuildState {
  const withBot = options.withBot ?? true;
  const joinedAt = new Date(world.clock()).toISOString();
  const locale = (input.preferredLocale ?? Locale.EnglishUS) as Locale;
  const textChannelId = world.nextId();
  const voiceChannelId = world.nextId();
  const botRoleId = world.nextId();
  const info: FakeGuild = {
    id: input.id,
    name: input.name,
    ownerId: input.ownerId ?? owner.id,
    textChannelId,
    voiceChannelId,
    // Discord's @everyone role shares the guild's id.
    everyoneRoleId: input.id,
    preferredLocale: locale,
  };
  const roles = [
    role(input.id, "@everyone", FakePermissions.member, 0),
    ...(withBot ? [role(botRoleId, world.botUser.username, FakePermissions.bot, 1, { managed: true, tags: { bot_id: world.botUser.id } })] : []),
  ];
  const channelBase = { guild_id: input.id, permission_overwrites: [], flags: 0, parent_id: null, nsfw: false };
  const channels: JsonRecord[] = [
    {
      ...channelBase,
      id: textChannelId,
      type: ChannelType.GuildText,
      name: "general",
      position: 0,
      topic: null,
      last_message_id: null,
      rate_limit_per_user: 0,
    },
    {
      ...channelBase,
      id: voiceChannelId,
      type: ChannelType.GuildVoice,
      name: "General",
      position: 0,
      bitrate: 64_000,
      user_limit: 0,
      rtc_region: null,
      last_message_id: null,
      rate_limit_per_user: 0,
    },
  ];
  const members = new Map<string, APIGuildMember>();
  if (withBot) members.set(world.botUser.id, makeMember(world.botUser, [botRoleId], joinedAt));
  if (!members.has(info.ownerId)) {
    const ownerUser = world.users.get(info.ownerId) ?? (info.ownerId === owner.id ? owner : makeUser(info.ownerId, "server-owner"));
    world.users.set(ownerUser.id, ownerUser);
    members.set(info.ownerId, makeMember(ownerUser, [], joinedAt));
  }
  return { info, roles, channels, members, joinedAt, locale };
}

function guildObject(guild: GuildState): APIGuild {
  return {
    id: guild.info.id,
    name: guild.info.name,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    owner_id: guild.info.ownerId,
    region: "deprecated",
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: GuildVerificationLevel.Low,
    default_message_notifications: GuildDefaultMessageNotifications.OnlyMentions,
    explicit_content_filter: GuildExplicitContentFilter.AllMembers,
    roles: guild.roles,
    emojis: [],
    features: [],
    mfa_level: GuildMFALevel.None,
    application_id: null,
    system_channel_id: guild.info.textChannelId,
    system_channel_flags: GuildSystemChannelFlags.SuppressJoinNotificationReplies,
    rules_channel_id: null,
    max_presences: null,
    max_members: 25_000_000,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: GuildPremiumTier.None,
    premium_subscription_count: 0,
    preferred_locale: guild.locale,
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: GuildNSFWLevel.Default,
    stickers: [],
    premium_progress_bar_enabled: false,
    hub_type: null,
    safety_alerts_channel_id: null,
    incidents_data: null,
  };
}

/**
 * GUILD_CREATE as sent after READY. Members list only what a bot without GUILD_MEMBERS would see
 * (itself and the owner), presences stay empty without GUILD_PRESENCES.
 */
export function guildCreatePayload(world: FakeDiscordWorld, guild: GuildState): JsonRecord {
  return {
    ...guildObject(guild),
    joined_at: guild.joinedAt,
    large: false,
    unavailable: false,
    member_count: guild.members.size,
    voice_states: [],
    members: [...guild.members.values()],
    channels: guild.channels,
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
    embedded_activities: [],
    lazy: true,
    application_command_counts: {},
    home_header: null,
    latest_onboarding_question_id: null,
    inventory_settings: null,
    version: world.clock(),
  };
}

/** The REST view of a guild (GET /guilds/:id): no channels, members, or gateway-only fields. */
export function restGuildPayload(guild: GuildState): APIGuild {
  return guildObject(guild);
}

export function applicationFlags(approvedPrivilegedIntents: number): number {
  let flags = ApplicationFlags.ApplicationCommandBadge;
  if (approvedPrivilegedIntents & GatewayIntentBits.GuildPresences) flags |= ApplicationFlags.GatewayPresenceLimited;
  if (approvedPrivilegedIntents & GatewayIntentBits.GuildMembers) flags |= ApplicationFlags.GatewayGuildMembersLimited;
  if (approvedPrivilegedIntents & GatewayIntentBits.MessageContent) flags |= ApplicationFlags.GatewayMessageContentLimited;
  return flags;
}

export function readyPayload(
  world: FakeDiscordWorld,
  sessionId: string,
  resumeUrl: string,
  guilds: readonly GuildState[],
  shard: readonly [number, number],
): GatewayReadyDispatchData & JsonRecord {
  return {
    v: 10,
    user: world.botUser,
    guilds: guilds.map((guild) => ({ id: guild.info.id, unavailable: true })),
    session_id: sessionId,
    session_type: "normal",
    resume_gateway_url: resumeUrl,
    shard: [shard[0], shard[1]],
    // Real READY carries only id and flags here; discord-api-types also lists an undocumented `flags_new`.
    application: { id: world.applicationId, flags: applicationFlags(world.options.approvedPrivilegedIntents) } as GatewayReadyDispatchData["application"],
    private_channels: [],
    presences: [],
    relationships: [],
    guild_join_requests: [],
    geo_ordered_rtc_regions: ["hongkong", "singapore", "japan", "india", "sydney"],
    auth: {},
    user_settings: {},
    _trace: ['["gateway-prd-fake",{"micros":0}]'],
  };
}

export function applicationPayload(world: FakeDiscordWorld): JsonRecord {
  return {
    id: world.applicationId,
    name: world.botUser.username,
    icon: null,
    description: "",
    summary: "",
    type: null,
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: "0".repeat(64),
    flags: applicationFlags(world.options.approvedPrivilegedIntents),
    hook: true,
    is_monetized: false,
    bot: world.botUser,
    owner: world.users.get(world.guilds[0]?.info.ownerId ?? "") ?? world.defaultUser,
    team: null,
    install_params: { scopes: ["bot", "applications.commands"], permissions: FakePermissions.bot },
    integration_types_config: { "0": {} },
    interactions_endpoint_url: null,
    redirect_uris: [],
    approximate_guild_count: world.guilds.length,
  };
}

export interface InteractionEnvelope {
  readonly guild: GuildState;
  /** False in a server without the bot, which only a member's user install reaches. */
  readonly botIsMember: boolean;
  /** The member uses the app through their own install (`authorizing_integration_owners["1"]`). */
  readonly userInstall: boolean;
  readonly channel: JsonRecord;
  readonly user: APIUser;
  readonly member: APIInteractionGuildMember;
  readonly locale: Locale;
  readonly appPermissions: string;
  readonly attachmentSizeLimit: number;
}

/**
 * `app_permissions` where the bot is not a member (a user install in a server without it, or
 * other people's DMs): only what an interaction response can use, plus Use External Apps, as
 * Discord reports it (2022-06-29 changelog on calculated permissions; payloads seen from Discord).
 */
export const USER_INSTALL_APP_PERMISSIONS = (
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.MentionEveryone |
  PermissionFlagsBits.UseExternalEmojis |
  PermissionFlagsBits.UseExternalApps
).toString();

/** Resolves where an interaction happens and who triggers it; throws a usage error for unknown places. */
export function makeInteractionEnvelope(
  world: FakeDiscordWorld,
  input: InteractionContextInput,
  fallbackChannelId: string | null,
  fail: (message: string) => never,
): InteractionEnvelope {
  const guildId = input.guildId ?? world.guilds[0]?.info.id;
  const found = guildId === undefined ? undefined : world.anyGuild(guildId);
  if (!found) {
    const known = [...world.guilds, ...world.guildsWithoutBot].map((g) => g.info.id).join(", ");
    return fail(`guild ${String(guildId)} is not one the fake knows (${known})`);
  }
  const { guild, botIsMember } = found;
  const userInstall = input.userInstall === true;
  if (!botIsMember && !userInstall) return fail(`the bot is not in guild ${guild.info.id}: only a member's user install reaches it (pass userInstall: true)`);
  const channelId = input.channelId ?? fallbackChannelId ?? guild.info.textChannelId;
  const channel = guild.channels.find((candidate) => candidate.id === channelId);
  if (!channel) return fail(`channel ${channelId} is not in guild ${guild.info.id}`);
  const user = input.user ?? world.defaultUser;
  world.users.set(user.id, user);
  if (userInstall) world.userInstalls.add(user.id);
  const roles = input.memberRoles ?? guild.members.get(user.id)?.roles ?? [];
  const baseMember = makeMember(user, roles, guild.members.get(user.id)?.joined_at ?? guild.joinedAt);
  guild.members.set(user.id, baseMember);
  const member: APIInteractionGuildMember = {
    ...baseMember,
    user,
    permissions: permissionsToString(input.memberPermissions ?? FakePermissions.member),
  };
  const defaultAppPermissions = botIsMember ? FakePermissions.bot : USER_INSTALL_APP_PERMISSIONS;
  return {
    guild,
    botIsMember,
    userInstall,
    channel,
    user,
    member,
    locale: (input.locale ?? Locale.EnglishUS) as Locale,
    appPermissions: permissionsToString(input.appPermissions ?? defaultAppPermissions),
    attachmentSizeLimit: input.attachmentSizeLimit ?? world.options.attachmentSizeLimit,
  };
}

/**
 * `authorizing_integration_owners`: the guild install ("0": the guild's id, or "0" in the bot's
 * DM) and the user install ("1": the user's id), each when it is what authorized the interaction.
 */
export function authorizingOwners(options: { guildInstall: string | null; userInstall: string | null }): Record<string, string> {
  const owners: Record<string, string> = {};
  if (options.guildInstall !== null) owners[ApplicationIntegrationType.GuildInstall] = options.guildInstall;
  if (options.userInstall !== null) owners[ApplicationIntegrationType.UserInstall] = options.userInstall;
  return owners;
}

/** Fields every guild interaction carries (receiving-and-responding.mdx, "Interaction Structure"). */
export function interactionBase(world: FakeDiscordWorld, envelope: InteractionEnvelope, id: string, token: string): JsonRecord {
  const { guild } = envelope;
  return {
    id,
    application_id: world.applicationId,
    token,
    version: 1,
    guild: { id: guild.info.id, locale: guild.locale, features: [] },
    guild_id: guild.info.id,
    guild_locale: guild.locale,
    channel: { ...envelope.channel, permissions: envelope.member.permissions },
    channel_id: envelope.channel.id,
    member: envelope.member,
    locale: envelope.locale,
    app_permissions: envelope.appPermissions,
    entitlements: [],
    authorizing_integration_owners: authorizingOwners({
      guildInstall: envelope.botIsMember ? guild.info.id : null,
      userInstall: envelope.userInstall ? envelope.user.id : null,
    }),
    context: InteractionContextType.Guild,
    attachment_size_limit: envelope.attachmentSizeLimit,
  };
}
