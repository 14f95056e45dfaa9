import type {
  APIAllowedMentions,
  APIApplicationCommand,
  APICommandAutocompleteInteractionResponseCallbackData,
  APIEmbed,
  APIInteraction,
  APIInteractionResponseCallbackData,
  APIMessage,
  APIMessageTopLevelComponent,
  APIModalInteractionResponseCallbackData,
  APIUser,
  ApplicationCommandOptionType,
  ComponentType,
  GatewayIdentifyData,
  InteractionResponseType,
  Locale,
} from "discord.js";
import type { DiscordErrorBody } from "./errors.js";

export interface FakeGuildInput {
  readonly id: string;
  readonly name: string;
  readonly ownerId?: string;
  readonly preferredLocale?: Locale | `${Locale}`;
}

export interface StartFakeDiscordOptions {
  /** The bot token the fake accepts (`Authorization: Bot <token>`, IDENTIFY `token`). */
  readonly token?: string;
  readonly applicationId?: string;
  readonly botUserId?: string;
  readonly botUsername?: string;
  /** Guilds the bot is in; default one guild. */
  readonly guilds?: readonly FakeGuildInput[];
  /**
   * Servers simulated users are in but the bot is not. The app reaches them only when a member
   * installed it to their account (`userInstall: true`); the bot's own token sees none of their
   * channels (403 Missing Access).
   */
  readonly guildsWithoutBot?: readonly FakeGuildInput[];
  /** Bytes; default 10 MiB (Discord's default upload limit). Sent as `attachment_size_limit`. */
  readonly attachmentSizeLimit?: number;
  /** Deadline for the initial interaction response; default 3000 ms. */
  readonly interactionResponseWindowMs?: number;
  /** How long an interaction token works for follow-ups and edits; default 15 minutes. */
  readonly interactionTokenLifetimeMs?: number;
  /** HELLO `heartbeat_interval`; default 41250 ms like the real gateway. */
  readonly heartbeatIntervalMs?: number;
  /**
   * Privileged intents the application is approved for (GuildMembers, GuildPresences,
   * MessageContent bits). Asking for any other privileged intent closes the gateway with 4014,
   * as Discord does for unapproved apps. Default 0.
   */
  readonly approvedPrivilegedIntents?: number;
  /** Time source in ms; tests may pass a controllable clock to expire tokens without waiting. */
  readonly clock?: () => number;
  /**
   * `shards` in GET /gateway/bot: the shard count Discord recommends. Default: one per 1,000
   * guilds (at least 1), as Discord computes it.
   */
  readonly recommendedShards?: number;
  /**
   * Most guilds one gateway session may hold; an IDENTIFY whose shard would hold more is closed
   * with 4011 Sharding required. Default 2,500 (gateway.mdx, "Sharding").
   */
  readonly maxGuildsPerShard?: number;
  /** `session_start_limit.max_concurrency`: IDENTIFYs allowed per 5 s per rate-limit bucket. Default 1. */
  readonly maxConcurrency?: number;
  /**
   * Answer an IDENTIFY that exceeds `maxConcurrency` in its bucket (`shard_id % max_concurrency`)
   * within 5 s with Invalid Session (op 9), as Discord does. Off by default because tests restart
   * clients faster than Discord allows; sharding tests turn it on.
   */
  readonly enforceIdentifyRateLimit?: boolean;
  /**
   * `session_start_limit.total`: IDENTIFYs allowed per day. When they run out Discord resets the
   * token and ends every session; the fake closes with 4004 and refuses the old token. Default 1000.
   */
  readonly sessionStartLimit?: number;
}

export interface FakeGuild {
  readonly id: string;
  readonly name: string;
  readonly ownerId: string;
  readonly textChannelId: string;
  readonly voiceChannelId: string;
  readonly everyoneRoleId: string;
  readonly preferredLocale: Locale;
}

export interface RecordedFile {
  /** The multipart field name, e.g. `files[0]`. */
  readonly field: string;
  readonly name: string;
  readonly contentType: string;
  readonly size: number;
  readonly bytes: Buffer;
}

export interface RecordedRequest {
  readonly at: number;
  readonly method: string;
  /** Full path as requested, tokens included: `/api/v10/webhooks/<app>/<token>/messages/@original`. */
  readonly path: string;
  /** The matched route template, e.g. `/webhooks/:applicationId/:interactionToken/messages/:messageId`; `null` for unknown routes. */
  readonly route: string | null;
  readonly query: Readonly<Record<string, string>>;
  readonly authorization: string | null;
  readonly contentType: string | null;
  /** Parsed JSON body (or `payload_json`); `undefined` when there was none. */
  readonly json: unknown;
  readonly files: readonly RecordedFile[];
  readonly status: number;
  readonly responseBody: unknown;
  /** Discord's error body when the request failed. */
  readonly error: DiscordErrorBody | null;
  /** The interaction this request acted on (callback and webhook routes). */
  readonly interactionId: string | null;
}

/** An attachment a test supplies (a user's upload, a voice message on a target message). */
export interface FakeAttachmentInput {
  readonly filename: string;
  /** File content; the fake serves it at the attachment's `url`. */
  readonly bytes?: Uint8Array;
  /** Defaults to `bytes.length`. */
  readonly size?: number;
  readonly contentType?: string;
  readonly description?: string;
  readonly durationSecs?: number;
  /** Base64 waveform, as on voice messages. */
  readonly waveform?: string;
  /** Attachment flags (e.g. IS_REMIX); voice messages use the message flag instead. */
  readonly flags?: number;
  readonly width?: number;
  readonly height?: number;
}

export interface FakeAttachment {
  readonly id: string;
  readonly filename: string;
  readonly contentType: string | null;
  readonly size: number;
  readonly bytes: Buffer;
  readonly url: string;
  readonly description: string | null;
  readonly title: string | null;
  readonly durationSecs: number | null;
  readonly waveform: string | null;
  readonly flags: number;
}

/** A snapshot of a message as the fake stores it (later changes do not alter a snapshot). */
export interface FakeMessageView {
  readonly id: string;
  readonly channelId: string;
  readonly content: string;
  readonly embeds: APIEmbed[];
  readonly components: APIMessageTopLevelComponent[];
  readonly flags: number;
  readonly ephemeral: boolean;
  /** Deferred ("thinking") and not yet edited. */
  readonly loading: boolean;
  readonly attachments: FakeAttachment[];
  /**
   * `allowed_mentions` of the latest write that set content or embeds; `"missing"` when that write
   * sent none, so tests can assert every reply guards against pings.
   */
  readonly allowedMentions: APIAllowedMentions | "missing";
  readonly deleted: boolean;
  readonly editCount: number;
  /** The interaction whose response or follow-up this is; `null` for channel messages. */
  readonly interactionId: string | null;
  /** True for messages the bot wrote; false for messages the fake created for simulated users. */
  readonly fromBot: boolean;
  /** The message exactly as Discord's REST API would return it. */
  readonly raw: APIMessage;
}

export type PermissionsInput = bigint | string;

export interface InteractionContextInput {
  readonly user?: APIUser;
  /** Default: the first guild. */
  readonly guildId?: string;
  /** Default: the guild's text channel. */
  readonly channelId?: string;
  readonly locale?: Locale | `${Locale}`;
  /** The member's resolved permissions in the channel; default {@link FakePermissions.member}. */
  readonly memberPermissions?: PermissionsInput;
  readonly memberRoles?: readonly string[];
  /** The bot's permissions in the channel (`app_permissions`). */
  readonly appPermissions?: PermissionsInput;
  /** Overrides the fake-wide `attachmentSizeLimit` for this interaction (e.g. a boosted guild). */
  readonly attachmentSizeLimit?: number;
  /**
   * The user installed the app to their account and uses it through that install:
   * `authorizing_integration_owners` holds the user key ("1"), and only commands whose
   * `integration_types` include user install (1) are offered. Needed in a server without the bot
   * and in private channels.
   */
  readonly userInstall?: boolean;
}

/** Where a command is used outside the bot's servers (receiving-and-responding.mdx, "Interaction Context Types"). */
export interface PrivatePlaceInput {
  /**
   * In the user's DM with the bot (context 1): only global commands whose `contexts` include
   * BotDM, and Discord delivers it to shard 0.
   */
  readonly dm?: boolean;
  /** In a DM or group DM among users (context 2): only for a user install; the bot is not in it. */
  readonly privateChannel?: boolean;
}

/** A slash-command option as the user filled it in. */
export interface SlashCommandOptionInput {
  readonly type: ApplicationCommandOptionType;
  readonly name: string;
  readonly value?: string | number | boolean;
  /** Nested options of a subcommand or subcommand group. */
  readonly options?: readonly SlashCommandOptionInput[];
  /** For ATTACHMENT options: the file the user uploaded. */
  readonly attachment?: FakeAttachmentInput;
}

export interface SlashCommandInput extends InteractionContextInput, PrivatePlaceInput {
  readonly name: string;
  readonly options?: readonly SlashCommandOptionInput[];
}

export interface FakeTargetMessageInput {
  readonly id?: string;
  readonly content?: string;
  readonly author?: APIUser;
  readonly attachments?: readonly FakeAttachmentInput[];
  /** Message flags, e.g. `MessageFlags.IsVoiceMessage` (8192). */
  readonly flags?: number;
  readonly embeds?: readonly APIEmbed[];
}

export interface MessageCommandInput extends InteractionContextInput, PrivatePlaceInput {
  readonly name: string;
  readonly targetMessage: FakeTargetMessageInput | FakeMessageView;
}

export interface ComponentInput extends Omit<InteractionContextInput, "channelId"> {
  readonly customId: string;
  readonly componentType?: ComponentType;
  readonly values?: readonly string[];
  /** A message the bot posted (a view or its id). */
  readonly message: FakeMessageView | string;
}

export interface ModalSubmitInput extends Omit<InteractionContextInput, "channelId"> {
  readonly customId: string;
  /** Text input custom_id → what the user typed. */
  readonly fields: Readonly<Record<string, string>>;
  /** The interaction that showed the modal; default: the latest unsubmitted modal with this custom_id. */
  readonly from?: InteractionHandle;
}

export type InitialResponseData =
  | APIInteractionResponseCallbackData
  | APIModalInteractionResponseCallbackData
  | APICommandAutocompleteInteractionResponseCallbackData;

export interface InitialResponse {
  readonly type: InteractionResponseType;
  readonly data: InitialResponseData | undefined;
  readonly files: readonly RecordedFile[];
  readonly at: number;
  /** Time from dispatch to the accepted callback. */
  readonly elapsedMs: number;
  readonly withResponse: boolean;
}

export type MessagePredicate = (message: FakeMessageView) => boolean;

export interface InteractionHandle {
  readonly id: string;
  readonly token: string;
  /** The INTERACTION_CREATE payload exactly as dispatched. */
  readonly payload: APIInteraction;
  readonly user: APIUser;
  /** Resolves with the accepted initial callback; rejects after `timeoutMs` (default 5000). */
  response(timeoutMs?: number): Promise<InitialResponse>;
  /** The accepted initial callback so far, if any. */
  initialResponse(): InitialResponse | undefined;
  /** Current state of `@original` (for components after type 6/7: the clicked message). */
  original(): FakeMessageView | undefined;
  readonly originalDeleted: boolean;
  followups(): FakeMessageView[];
  /** The modal shown in response, if any. */
  modal(): APIModalInteractionResponseCallbackData | undefined;
  waitForOriginal(predicate?: MessagePredicate, timeoutMs?: number): Promise<FakeMessageView>;
  waitForFollowup(predicate?: MessagePredicate, timeoutMs?: number): Promise<FakeMessageView>;
  /** Every REST call tied to this interaction, in order, including rejected ones. */
  requests(): RecordedRequest[];
  /** The `[shard_id, num_shards]` of every gateway session INTERACTION_CREATE was sent to. */
  deliveredTo(): Array<readonly [number, number]>;
}

export interface FakeGatewaySession {
  readonly sessionId: string;
  readonly identify: GatewayIdentifyData;
  readonly intents: number;
  readonly shard: readonly [number, number];
  /** Guilds this session was given in READY (the ones its shard owns). */
  readonly guildIds: readonly string[];
  readonly ready: boolean;
  readonly connected: boolean;
  readonly resumes: number;
}

export interface FakeDiscord {
  /** Pass as discord.js `rest.api`, e.g. `http://127.0.0.1:PORT/api`. */
  readonly restUrl: string;
  readonly gatewayUrl: string;
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: APIUser;
  readonly guilds: readonly FakeGuild[];
  /** Servers without the bot (`guildsWithoutBot`). */
  readonly guildsWithoutBot: readonly FakeGuild[];
  /** The id of the bot's DM channel with a user (opened if it was not), where DMs to them land. */
  botDmChannelId(userId: string): string;
  /** The user who triggers interactions unless a test passes another. */
  readonly defaultUser: APIUser;
  /** Every REST request, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Errors thrown inside the fake itself (its own bugs); answered with 500. Should stay empty. */
  readonly internalErrors: readonly Error[];
  sessions(): FakeGatewaySession[];
  createUser(input?: { readonly id?: string; readonly username?: string; readonly globalName?: string | null }): APIUser;
  /** Resolves once a client has IDENTIFIED and received READY and every GUILD_CREATE. */
  waitForReady(timeoutMs?: number): Promise<FakeGatewaySession>;
  /** Resolves with the first connected, ready session for which `predicate` holds. */
  waitForSession(predicate: (session: FakeGatewaySession) => boolean, timeoutMs?: number): Promise<FakeGatewaySession>;
  /** The shard id `(guild_id >> 22) % shardCount` that owns a guild (gateway.mdx, "Sharding Formula"). */
  shardOf(guildId: string, shardCount: number): number;
  /** Current global commands, or a guild's commands, after the bot's bulk overwrites. */
  registeredCommands(guildId?: string): APIApplicationCommand[];
  sendSlashCommand(input: SlashCommandInput): Promise<InteractionHandle>;
  sendMessageCommand(input: MessageCommandInput): Promise<InteractionHandle>;
  sendComponent(input: ComponentInput): Promise<InteractionHandle>;
  sendModalSubmit(input: ModalSubmitInput): Promise<InteractionHandle>;
  /** Every message in a channel (or everywhere), including ones the bot deleted (flagged). */
  messages(channelId?: string): FakeMessageView[];
  message(id: string): FakeMessageView | undefined;
  /**
   * Sends a raw dispatch to the ready sessions that would get it: the shard owning `data.guild_id`,
   * or shard 0 when there is none (for events the helpers do not cover).
   */
  dispatch(event: string, data: unknown): void;
  close(): Promise<void>;
}
