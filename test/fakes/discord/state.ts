import { EventEmitter } from "node:events";
import { ChannelType } from "discord.js";
import type {
  APIAllowedMentions,
  APIApplicationCommand,
  APIEmbed,
  APIGuildMember,
  APIInteraction,
  APIMessageInteraction,
  APIMessageInteractionMetadata,
  APIModalInteractionResponseCallbackData,
  APIRole,
  APIUser,
  InteractionType,
  Locale,
  MessageType,
} from "discord.js";
import type { DiscordErrorBody } from "./errors.js";
import type { JsonRecord } from "./json.js";
import type { FakeGuild, InitialResponse, RecordedFile, RecordedRequest } from "./types.js";

export interface ResolvedOptions {
  readonly token: string;
  readonly attachmentSizeLimit: number;
  readonly interactionResponseWindowMs: number;
  readonly interactionTokenLifetimeMs: number;
  readonly heartbeatIntervalMs: number;
  readonly approvedPrivilegedIntents: number;
  /** `null`: one shard per 1,000 guilds, as Discord recommends. */
  readonly recommendedShards: number | null;
  readonly maxGuildsPerShard: number;
  readonly maxConcurrency: number;
  readonly enforceIdentifyRateLimit: boolean;
  readonly sessionStartLimit: number;
}

export interface GuildState {
  readonly info: FakeGuild;
  readonly roles: APIRole[];
  /** Raw channel objects as sent in GUILD_CREATE. */
  readonly channels: JsonRecord[];
  readonly members: Map<string, APIGuildMember>;
  readonly joinedAt: string;
  readonly locale: Locale;
}

export interface StoredAttachment {
  readonly id: string;
  readonly filename: string;
  readonly contentType: string | null;
  readonly bytes: Buffer;
  readonly size: number;
  description: string | null;
  title: string | null;
  readonly durationSecs: number | null;
  readonly waveform: string | null;
  readonly flags: number;
  readonly width: number | null;
  readonly height: number | null;
}

export interface StoredMessage {
  readonly id: string;
  readonly channelId: string;
  readonly guildId: string | null;
  readonly type: MessageType;
  readonly author: APIUser;
  readonly fromBot: boolean;
  content: string;
  embeds: APIEmbed[];
  /** Stored as sent (plus assigned component ids); typed loosely because it is validated JSON. */
  components: JsonRecord[];
  flags: number;
  tts: boolean;
  attachments: StoredAttachment[];
  readonly createdAt: number;
  editedAt: number | null;
  deleted: boolean;
  editCount: number;
  allowedMentions: APIAllowedMentions | "missing";
  readonly interactionId: string | null;
  readonly interactionMetadata: APIMessageInteractionMetadata | null;
  readonly interactionLegacy: APIMessageInteraction | null;
  /** For ephemeral messages: the only user who can see (and click) it. */
  readonly recipientId: string | null;
  readonly webhookId: string | null;
  readonly applicationId: string | null;
  nextComponentId: number;
}

export interface StoredInteraction {
  readonly id: string;
  readonly token: string;
  readonly type: InteractionType;
  readonly payload: APIInteraction;
  readonly user: APIUser;
  readonly guildId: string | null;
  readonly channelId: string;
  readonly attachmentSizeLimit: number;
  readonly commandName: string | null;
  dispatchedAt: number;
  initial: InitialResponse | undefined;
  /** The message `@original` refers to: the response message, or the clicked message after type 6/7. */
  originalMessageId: string | null;
  /** For component interactions (and modals opened from one): the message the component sits on. */
  readonly sourceMessageId: string | null;
  /** For modal submits: the interaction that showed the modal. */
  readonly triggeringInteractionId: string | null;
  modal: APIModalInteractionResponseCallbackData | undefined;
  modalSubmitted: boolean;
  readonly followupIds: string[];
  /** `[shard_id, num_shards]` of each session INTERACTION_CREATE went to. */
  readonly deliveredTo: Array<readonly [number, number]>;
}

export interface StoredCommand {
  readonly command: APIApplicationCommand;
}

export interface HostedFile {
  readonly bytes: Buffer;
  readonly contentType: string | null;
  readonly filename: string;
}

/** A request record the router fills in as the request progresses. */
export interface MutableRecordedRequest {
  at: number;
  method: string;
  path: string;
  route: string | null;
  query: Record<string, string>;
  authorization: string | null;
  contentType: string | null;
  json: unknown;
  files: RecordedFile[];
  status: number;
  responseBody: unknown;
  error: DiscordErrorBody | null;
  interactionId: string | null;
}

/** Everything the fake knows; the REST routes and gateway mutate it, the test helpers read it. */
export class FakeDiscordWorld {
  readonly users = new Map<string, APIUser>();
  readonly guilds: GuildState[] = [];
  /** Servers simulated users are in but the bot is not: reachable only through a user install. */
  readonly guildsWithoutBot: GuildState[] = [];
  /** The bot's DM channel with each user (one per pair, as on Discord), by user id. */
  readonly botDmChannels = new Map<string, JsonRecord>();
  /** DMs and group DMs among users (interaction context 2): the bot is not in them. */
  readonly privateChannels = new Map<string, JsonRecord>();
  /** Users who installed the app to their account (a user install). */
  readonly userInstalls = new Set<string>();
  readonly globalCommands: APIApplicationCommand[] = [];
  readonly guildCommands = new Map<string, APIApplicationCommand[]>();
  readonly messages = new Map<string, StoredMessage>();
  readonly interactions = new Map<string, StoredInteraction>();
  readonly interactionsByToken = new Map<string, StoredInteraction>();
  readonly requests: MutableRecordedRequest[] = [];
  readonly internalErrors: Error[] = [];
  readonly hostedFiles = new Map<string, HostedFile>();
  /** Stable command ids per `scope:type:name`, so a re-registered command keeps its id as on Discord. */
  readonly commandIds = new Map<string, string>();
  private readonly changes = new EventEmitter();
  /** IDENTIFYs so far; each uses one of the day's `sessionStartLimit` session starts. */
  sessionStarts = 0;
  /** Set once the session starts ran out: Discord then resets the token, so the old one fails everywhere. */
  tokenReset = false;
  /** Times of recent IDENTIFYs per rate-limit bucket (`shard_id % max_concurrency`). */
  readonly identifiesByBucket = new Map<number, number[]>();
  /** `http://127.0.0.1:PORT`, set once the server listens; attachment URLs hang off it. */
  baseUrl = "";
  gatewayUrl = "";

  constructor(
    readonly options: ResolvedOptions,
    readonly clock: () => number,
    readonly nextId: () => string,
    readonly applicationId: string,
    readonly botUser: APIUser,
    readonly defaultUser: APIUser,
  ) {
    this.changes.setMaxListeners(0);
    this.users.set(botUser.id, botUser);
    this.users.set(defaultUser.id, defaultUser);
  }

  /** GET /gateway/bot `shards`. */
  recommendedShards(): number {
    return this.options.recommendedShards ?? Math.max(1, Math.ceil(this.guilds.length / 1000));
  }

  guild(id: string): GuildState | undefined {
    return this.guilds.find((guild) => guild.info.id === id);
  }

  /** A guild the bot is in, or one it is not in (only user installs reach it). */
  anyGuild(id: string): { guild: GuildState; botIsMember: boolean } | undefined {
    const joined = this.guild(id);
    if (joined) return { guild: joined, botIsMember: true };
    const other = this.guildsWithoutBot.find((guild) => guild.info.id === id);
    return other ? { guild: other, botIsMember: false } : undefined;
  }

  /** The bot's DM channel with a user, opened on first use (POST /users/@me/channels). */
  botDmChannel(user: APIUser): JsonRecord {
    let channel = this.botDmChannels.get(user.id);
    if (!channel) {
      channel = { id: this.nextId(), type: ChannelType.DM, last_message_id: null, flags: 0, recipients: [user] };
      this.botDmChannels.set(user.id, channel);
    }
    return channel;
  }

  /**
   * Whether the bot may send this user a direct message: they share a server with it, or they
   * installed the app to their account. Otherwise Discord answers 50007.
   */
  canDirectMessage(userId: string): boolean {
    if (this.users.get(userId)?.bot === true) return false;
    return this.userInstalls.has(userId) || this.guilds.some((guild) => guild.members.has(userId));
  }

  /**
   * Where a channel id leads for the bot's own token: a channel of its guilds, its DM with a user,
   * a channel it cannot see (a server it is not in, other people's DMs), or nothing at all.
   */
  channelForBot(id: string): { kind: "guild"; guild: GuildState; channel: JsonRecord } | { kind: "bot-dm"; userId: string; channel: JsonRecord } | { kind: "hidden" } | undefined {
    const found = this.channel(id);
    if (found) return { kind: "guild", ...found };
    for (const [userId, channel] of this.botDmChannels) if (channel.id === id) return { kind: "bot-dm", userId, channel };
    if (this.privateChannels.has(id)) return { kind: "hidden" };
    if (this.guildsWithoutBot.some((guild) => guild.channels.some((channel) => channel.id === id))) return { kind: "hidden" };
    return undefined;
  }

  /** Finds a channel by id across the bot's guilds. */
  channel(id: string): { guild: GuildState; channel: JsonRecord } | undefined {
    for (const guild of this.guilds) {
      const channel = guild.channels.find((candidate) => candidate.id === id);
      if (channel) return { guild, channel };
    }
    return undefined;
  }

  /** Tells waiters that something changed (a message, a response, a session). */
  notify(): void {
    this.changes.emit("change");
  }

  /**
   * Resolves with `check()`'s first non-undefined result, re-checking after every change;
   * rejects after `timeoutMs` with `describe()` so the failure shows what the fake did see.
   */
  waitFor<T>(check: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    const immediate = check();
    if (immediate !== undefined) return Promise.resolve(immediate);
    return new Promise<T>((resolve, reject) => {
      const onChange = (): void => {
        let value: T | undefined;
        try {
          value = check();
        } catch (error) {
          cleanup();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake-discord: timed out after ${timeoutMs} ms ${describe()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.changes.off("change", onChange);
      };
      this.changes.on("change", onChange);
    });
  }

  recordedRequests(): RecordedRequest[] {
    return this.requests.map((request) => ({ ...request }));
  }
}
