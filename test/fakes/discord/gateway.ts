import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { constants as zlibConstants, createDeflate, deflateSync, type Deflate } from "node:zlib";
import { GatewayCloseCodes, GatewayDispatchEvents, GatewayIntentBits, GatewayOpcodes, type GatewayIdentifyData } from "discord.js";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { isInteger, isRecord, type JsonRecord } from "./json.js";
import { guildCreatePayload, readyPayload } from "./payloads.js";
import { makeSessionId, shardOfGuild } from "./snowflake.js";
import type { FakeDiscordWorld } from "./state.js";
import type { FakeGatewaySession } from "./types.js";

/** Intents Discord gates behind approval (developers/events/gateway.mdx, "Privileged Intents"). */
const PRIVILEGED_INTENTS = GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent;
const KNOWN_INTENTS = Object.values(GatewayIntentBits)
  .filter((value): value is number => typeof value === "number")
  .reduce((all, bit) => all | bit, 0);

/** Gateway limits from developers/events/gateway.mdx ("Sending Events", "Rate Limiting"). */
const MAX_CLIENT_PAYLOAD_BYTES = 4096;
const MAX_CLIENT_PAYLOADS_PER_MINUTE = 120;
/** How many past dispatches a session keeps for RESUME replays. */
const RESUME_BUFFER = 1000;
/** `max_concurrency` counts IDENTIFYs per 5 seconds in each bucket (gateway.mdx, "Session Start Limit Object"). */
const IDENTIFY_WINDOW_MS = 5000;

interface DispatchRecord {
  readonly s: number;
  readonly t: string;
  readonly d: unknown;
}

interface Session {
  readonly id: string;
  readonly identify: GatewayIdentifyData;
  readonly intents: number;
  readonly shard: readonly [number, number];
  readonly guildIds: readonly string[];
  seq: number;
  ready: boolean;
  resumable: boolean;
  resumes: number;
  connection: Connection | null;
  readonly buffer: DispatchRecord[];
}

interface Connection {
  readonly ws: WebSocket;
  readonly transportCompression: Deflate | null;
  payloadCompression: boolean;
  session: Session | null;
  /** Sends are chained so a shared zlib context sees payloads in order. */
  sendChain: Promise<void>;
  readonly receivedAt: number[];
}

export class FakeGateway {
  private readonly server = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly connections = new Set<Connection>();
  private readonly sessionsById = new Map<string, Session>();

  constructor(
    private readonly world: FakeDiscordWorld,
    private readonly gatewayUrl: () => string,
  ) {}

  sessions(): FakeGatewaySession[] {
    return [...this.sessionsById.values()].map((session) => ({
      sessionId: session.id,
      identify: session.identify,
      intents: session.intents,
      shard: session.shard,
      guildIds: session.guildIds,
      ready: session.ready,
      connected: session.connection !== null,
      resumes: session.resumes,
    }));
  }

  hasReadyConnection(): boolean {
    return [...this.sessionsById.values()].some((session) => session.ready && session.connection !== null);
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? "/", "ws://127.0.0.1");
    if (url.pathname !== "/") {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.accept(ws, url.searchParams));
  }

  private accept(ws: WebSocket, query: URLSearchParams): void {
    const version = query.get("v");
    const encoding = query.get("encoding") ?? "json";
    const compress = query.get("compress");
    // discord.js asks for v=10&encoding=json and adds compress=zlib-stream only when zlib-sync is installed.
    if (version !== "10" && version !== "9") return ws.close(GatewayCloseCodes.InvalidAPIVersion, "Invalid API version");
    if (encoding !== "json") return ws.close(GatewayCloseCodes.DecodeError, `fake-discord supports encoding=json only, not ${encoding}`);
    if (compress !== null && compress !== "zlib-stream") {
      return ws.close(GatewayCloseCodes.DecodeError, `fake-discord supports compress=zlib-stream only, not ${compress}`);
    }
    const connection: Connection = {
      ws,
      transportCompression: compress === "zlib-stream" ? createDeflate() : null,
      payloadCompression: false,
      session: null,
      sendChain: Promise.resolve(),
      receivedAt: [],
    };
    this.connections.add(connection);
    ws.on("message", (data, isBinary) => this.onMessage(connection, data, isBinary));
    ws.on("close", (code) => this.onClose(connection, code));
    ws.on("error", () => undefined);
    this.send(connection, { op: GatewayOpcodes.Hello, d: { heartbeat_interval: this.world.options.heartbeatIntervalMs }, s: null, t: null });
  }

  private onClose(connection: Connection, code: number): void {
    this.connections.delete(connection);
    connection.transportCompression?.close();
    const session = connection.session;
    if (!session || session.connection !== connection) return;
    session.connection = null;
    // Closing with 1000/1001 ends the session for good (gateway.mdx, "Disconnecting"); other codes may resume.
    if (code === 1000 || code === 1001) session.resumable = false;
    this.world.notify();
  }

  private close(connection: Connection, code: number, reason: string): void {
    if (connection.ws.readyState === WebSocket.OPEN) connection.ws.close(code, reason);
  }

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    const now = this.world.clock();
    connection.receivedAt.push(now);
    while (connection.receivedAt.length > 0 && (connection.receivedAt[0] ?? now) < now - 60_000) connection.receivedAt.shift();
    if (connection.receivedAt.length > MAX_CLIENT_PAYLOADS_PER_MINUTE) return this.close(connection, GatewayCloseCodes.RateLimited, "Rate limited.");
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) return this.close(connection, GatewayCloseCodes.DecodeError, "Error while decoding payload.");
    if (buffer.length > MAX_CLIENT_PAYLOAD_BYTES) return this.close(connection, GatewayCloseCodes.DecodeError, "Error while decoding payload.");
    let payload: unknown;
    try {
      payload = JSON.parse(buffer.toString("utf8"));
    } catch {
      return this.close(connection, GatewayCloseCodes.DecodeError, "Error while decoding payload.");
    }
    if (!isRecord(payload) || !isInteger(payload.op)) return this.close(connection, GatewayCloseCodes.DecodeError, "Error while decoding payload.");
    switch (payload.op) {
      case GatewayOpcodes.Heartbeat:
        return this.send(connection, { op: GatewayOpcodes.HeartbeatAck });
      case GatewayOpcodes.Identify:
        return this.identify(connection, payload.d);
      case GatewayOpcodes.Resume:
        return this.resume(connection, payload.d);
      case GatewayOpcodes.PresenceUpdate:
      case GatewayOpcodes.VoiceStateUpdate:
      case GatewayOpcodes.RequestGuildMembers:
      case GatewayOpcodes.RequestSoundboardSounds:
        if (!connection.session) return this.close(connection, GatewayCloseCodes.NotAuthenticated, "Not authenticated.");
        if (payload.op === GatewayOpcodes.RequestGuildMembers) this.answerMemberRequest(connection, payload.d);
        return;
      default:
        return this.close(connection, GatewayCloseCodes.UnknownOpcode, "Unknown opcode.");
    }
  }

  private identify(connection: Connection, data: unknown): void {
    if (connection.session) return this.close(connection, GatewayCloseCodes.AlreadyAuthenticated, "Already authenticated.");
    if (!isRecord(data) || !isRecord(data.properties)) return this.close(connection, GatewayCloseCodes.DecodeError, "Error while decoding payload.");
    if (data.token !== this.world.options.token || this.world.tokenReset) {
      return this.close(connection, GatewayCloseCodes.AuthenticationFailed, "Authentication failed.");
    }
    const intents = data.intents;
    if (!isInteger(intents) || intents < 0 || (intents & ~KNOWN_INTENTS) !== 0) {
      return this.close(connection, GatewayCloseCodes.InvalidIntents, "Invalid intent(s).");
    }
    const privileged = intents & PRIVILEGED_INTENTS;
    if ((privileged & ~this.world.options.approvedPrivilegedIntents) !== 0) {
      return this.close(connection, GatewayCloseCodes.DisallowedIntents, "Disallowed intent(s).");
    }
    let shard: readonly [number, number] = [0, 1];
    if (data.shard !== undefined) {
      const [shardId, shardCount] = Array.isArray(data.shard) ? data.shard : [];
      if (!isInteger(shardId) || !isInteger(shardCount) || shardCount < 1 || shardId < 0 || shardId >= shardCount) {
        return this.close(connection, GatewayCloseCodes.InvalidShard, "Invalid shard.");
      }
      shard = [shardId, shardCount];
    }
    const guilds = this.world.guilds.filter((guild) => shardOfGuild(guild.info.id, shard[1]) === shard[0]);
    if (guilds.length > this.world.options.maxGuildsPerShard) {
      return this.close(connection, GatewayCloseCodes.ShardingRequired, "Sharding required.");
    }
    if (this.identifyRateLimited(shard[0])) return this.send(connection, { op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null });
    this.world.sessionStarts += 1;
    if (this.world.sessionStarts > this.world.options.sessionStartLimit) {
      // Discord resets the token and ends every session of the app (gateway.mdx, "Identifying").
      this.world.tokenReset = true;
      for (const other of this.connections) this.close(other, GatewayCloseCodes.AuthenticationFailed, "Authentication failed.");
      return;
    }
    const session: Session = {
      id: makeSessionId(),
      identify: data as unknown as GatewayIdentifyData,
      intents,
      shard,
      guildIds: guilds.map((guild) => guild.info.id),
      seq: 0,
      ready: false,
      resumable: true,
      resumes: 0,
      connection,
      buffer: [],
    };
    connection.session = session;
    connection.payloadCompression = data.compress === true && connection.transportCompression === null;
    this.sessionsById.set(session.id, session);
    this.dispatchTo(session, GatewayDispatchEvents.Ready, readyPayload(this.world, session.id, this.gatewayUrl(), guilds, shard));
    // Without the GUILDS intent Discord sends no GUILD_CREATE; discord.js then stops waiting at once.
    if ((intents & GatewayIntentBits.Guilds) !== 0) {
      for (const guild of guilds) this.dispatchTo(session, GatewayDispatchEvents.GuildCreate, guildCreatePayload(this.world, guild));
    }
    void connection.sendChain.then(() => {
      session.ready = true;
      this.world.notify();
    });
  }

  /** True when this shard's bucket (`shard_id % max_concurrency`) already identified within the window. */
  private identifyRateLimited(shardId: number): boolean {
    if (!this.world.options.enforceIdentifyRateLimit) return false;
    const now = this.world.clock();
    const bucket = shardId % this.world.options.maxConcurrency;
    const recent = (this.world.identifiesByBucket.get(bucket) ?? []).filter((at) => at > now - IDENTIFY_WINDOW_MS);
    if (recent.length > 0) return true;
    this.world.identifiesByBucket.set(bucket, [...recent, now]);
    return false;
  }

  private resume(connection: Connection, data: unknown): void {
    if (connection.session) return this.close(connection, GatewayCloseCodes.AlreadyAuthenticated, "Already authenticated.");
    if (!isRecord(data) || typeof data.session_id !== "string") return this.close(connection, GatewayCloseCodes.DecodeError, "Error while decoding payload.");
    if (data.token !== this.world.options.token) return this.close(connection, GatewayCloseCodes.AuthenticationFailed, "Authentication failed.");
    const session = this.sessionsById.get(data.session_id);
    if (!session || !session.resumable || session.connection !== null) {
      return this.send(connection, { op: GatewayOpcodes.InvalidSession, d: false, s: null, t: null });
    }
    const seq = isInteger(data.seq) ? data.seq : 0;
    if (seq > session.seq) return this.close(connection, GatewayCloseCodes.InvalidSeq, "Invalid seq.");
    connection.session = session;
    session.connection = connection;
    session.resumes += 1;
    for (const record of session.buffer) {
      if (record.s > seq) this.send(connection, { op: GatewayOpcodes.Dispatch, t: record.t, s: record.s, d: record.d });
    }
    this.dispatchTo(session, GatewayDispatchEvents.Resumed, { _trace: ['["gateway-prd-fake",{"micros":0}]'] });
    this.world.notify();
  }

  private answerMemberRequest(connection: Connection, data: unknown): void {
    if (!isRecord(data) || typeof data.guild_id !== "string" || !connection.session) return;
    const guild = this.world.guild(data.guild_id);
    if (!guild) return;
    const wanted = Array.isArray(data.user_ids) ? data.user_ids.map(String) : typeof data.user_ids === "string" ? [data.user_ids] : null;
    const members = [...guild.members.values()].filter((member) => wanted === null || wanted.includes(member.user.id));
    const notFound = wanted === null ? [] : wanted.filter((id) => !guild.members.has(id));
    const chunk: JsonRecord = { guild_id: guild.info.id, members, chunk_index: 0, chunk_count: 1, not_found: notFound };
    if (data.nonce !== undefined) chunk.nonce = data.nonce;
    this.dispatchTo(connection.session, GatewayDispatchEvents.GuildMembersChunk, chunk);
  }

  private dispatchTo(session: Session, event: string, data: unknown): void {
    session.seq += 1;
    const record: DispatchRecord = { s: session.seq, t: event, d: data };
    session.buffer.push(record);
    if (session.buffer.length > RESUME_BUFFER) session.buffer.shift();
    if (session.connection) this.send(session.connection, { op: GatewayOpcodes.Dispatch, t: event, s: record.s, d: data });
  }

  /**
   * Dispatches an event to every ready session whose shard owns `guildId`, connected or waiting to
   * resume (Discord replays missed events on RESUME). An event without a guild (a DM) goes to
   * shard 0 only (gateway.mdx, "Sharding"). Resolves, once the frames were handed to the sockets,
   * with the `[shard_id, num_shards]` of each session it went to.
   */
  async dispatch(event: string, data: unknown, guildId: string | null = null): Promise<Array<readonly [number, number]>> {
    const chains: Promise<void>[] = [];
    const shards: Array<readonly [number, number]> = [];
    for (const session of this.sessionsById.values()) {
      if (!session.ready || !session.resumable) continue;
      const owner = guildId === null ? 0 : shardOfGuild(guildId, session.shard[1]);
      if (owner !== session.shard[0]) continue;
      this.dispatchTo(session, event, data);
      shards.push(session.shard);
      if (session.connection) chains.push(session.connection.sendChain);
    }
    await Promise.all(chains);
    return shards;
  }

  /** True when some ready session asked for `intent` (e.g. GUILD_MESSAGES for MESSAGE_CREATE). */
  anySessionHasIntent(intent: number): boolean {
    return [...this.sessionsById.values()].some((session) => session.ready && (session.intents & intent) !== 0);
  }

  private send(connection: Connection, payload: JsonRecord): void {
    const text = JSON.stringify(payload);
    const write = async (): Promise<void> => {
      if (connection.ws.readyState !== WebSocket.OPEN) return;
      if (connection.transportCompression) {
        const chunk = await deflateWithSyncFlush(connection.transportCompression, Buffer.from(text));
        connection.ws.send(chunk, { binary: true });
      } else if (connection.payloadCompression && payload.op === GatewayOpcodes.Dispatch) {
        // IDENTIFY `compress: true`: each dispatch is its own zlib stream, sent as a binary frame.
        connection.ws.send(deflateSync(text), { binary: true });
      } else {
        connection.ws.send(text);
      }
    };
    // A socket that dies mid-send is a client disconnect, handled in onClose; keep the chain usable.
    connection.sendChain = connection.sendChain.then(write).catch(() => undefined);
  }

  /** Closes every socket; used by `FakeDiscord.close()`. */
  async closeAll(): Promise<void> {
    for (const connection of this.connections) {
      connection.ws.terminate();
      connection.transportCompression?.close();
    }
    this.connections.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** zlib-stream transport compression: one shared context, each payload ends with Z_SYNC_FLUSH (00 00 ff ff). */
function deflateWithSyncFlush(deflate: Deflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
    };
    const onError = (error: Error): void => {
      deflate.off("data", onData);
      reject(error);
    };
    deflate.on("data", onData);
    deflate.once("error", onError);
    deflate.write(input);
    deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
      deflate.off("data", onData);
      deflate.off("error", onError);
      resolve(Buffer.concat(chunks));
    });
  });
}

