import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DiscordHttpError, FakeDiscordUsageError, type DiscordErrorBody, discordError } from "./errors.js";
import { FakeGateway } from "./gateway.js";
import { parseBody, readRawBody, type ParsedBody } from "./http-body.js";
import { createInteractionHandle } from "./interaction-handle.js";
import { interactionRoutes, recordedFiles } from "./interaction-routes.js";
import { cloneJson, isRecord } from "./json.js";
import { viewMessage } from "./messages.js";
import { makeGuildState, makeUser } from "./payloads.js";
import { botRoutes } from "./rest-routes.js";
import { findRoute, type Route } from "./router.js";
import { buildComponent, buildMessageCommand, buildModalSubmit, buildSlashCommand, dispatchInteraction } from "./simulate.js";
import { createSnowflakeGenerator, shardOfGuild } from "./snowflake.js";
import { FakeDiscordWorld, type MutableRecordedRequest, type ResolvedOptions, type StoredInteraction } from "./state.js";
import type { FakeDiscord, FakeGatewaySession, InteractionHandle, StartFakeDiscordOptions } from "./types.js";

const ROUTES: readonly Route[] = [...botRoutes, ...interactionRoutes];
/** API versions the real REST API still serves; discord.js 14 uses v10. */
const API_PATH = /^\/api\/v(9|10)(\/.*)$/;

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (status === 204 || body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
}

function describeError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

class RequestHandler {
  constructor(
    private readonly world: FakeDiscordWorld,
    private readonly gateway: FakeGateway,
  ) {}

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = (request.method ?? "GET").toUpperCase();
    const hosted = method === "GET" ? this.world.hostedFiles.get(url.pathname) : undefined;
    if (hosted) {
      response.writeHead(200, { "content-type": hosted.contentType ?? "application/octet-stream", "content-length": hosted.bytes.length }).end(hosted.bytes);
      return;
    }
    const record: MutableRecordedRequest = {
      at: this.world.clock(),
      method,
      path: url.pathname,
      route: null,
      query: Object.fromEntries(url.searchParams),
      authorization: typeof request.headers.authorization === "string" ? request.headers.authorization : null,
      contentType: typeof request.headers["content-type"] === "string" ? request.headers["content-type"] : null,
      json: undefined,
      files: [],
      status: 0,
      responseBody: undefined,
      error: null,
      interactionId: null,
    };
    this.world.requests.push(record);
    let status: number;
    let body: unknown;
    try {
      ({ status, body } = await this.route(request, url, method, record));
    } catch (error) {
      if (error instanceof DiscordHttpError) {
        status = error.status;
        body = error.body;
        record.error = error.body;
      } else {
        this.world.internalErrors.push(describeError(error));
        status = 500;
        body = { message: "500: Internal Server Error", code: 0 } satisfies DiscordErrorBody;
        record.error = body as DiscordErrorBody;
      }
    }
    record.status = status;
    record.responseBody = body === undefined ? undefined : cloneJson(body);
    this.world.notify();
    sendJson(response, status, body);
  }

  private async route(request: IncomingMessage, url: URL, method: string, record: MutableRecordedRequest): Promise<{ status: number; body: unknown }> {
    const raw = await readRawBody(request);
    const apiPath = API_PATH.exec(url.pathname)?.[2];
    if (apiPath === undefined) throw discordError.notFound();
    const match = findRoute(ROUTES, method, apiPath);
    if (match === undefined) throw discordError.notFound();
    if (match === "method-not-allowed") throw discordError.methodNotAllowed();
    record.route = match.route.template;
    if (match.route.auth === "bot" && (this.world.tokenReset || record.authorization !== `Bot ${this.world.options.token}`)) throw discordError.unauthorized();
    const parsed: ParsedBody = await parseBody(raw, record.contentType);
    record.json = parsed.json;
    record.files = recordedFiles(parsed.files);
    const result = await match.route.handle({
      world: this.world,
      gateway: this.gateway,
      params: match.params,
      query: url.searchParams,
      body: parsed,
      record,
    });
    return { status: result.status, body: result.body };
  }
}

function resolveOptions(options: StartFakeDiscordOptions): ResolvedOptions {
  return {
    token: options.token ?? "fake-discord-token",
    attachmentSizeLimit: options.attachmentSizeLimit ?? 10 * 1024 * 1024,
    interactionResponseWindowMs: options.interactionResponseWindowMs ?? 3000,
    interactionTokenLifetimeMs: options.interactionTokenLifetimeMs ?? 15 * 60 * 1000,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41_250,
    approvedPrivilegedIntents: options.approvedPrivilegedIntents ?? 0,
    recommendedShards: options.recommendedShards ?? null,
    maxGuildsPerShard: options.maxGuildsPerShard ?? 2500,
    maxConcurrency: options.maxConcurrency ?? 1,
    enforceIdentifyRateLimit: options.enforceIdentifyRateLimit ?? false,
    sessionStartLimit: options.sessionStartLimit ?? 1000,
  };
}

/**
 * Starts a fake Discord (REST + gateway on one 127.0.0.1 port) that a real discord.js client can
 * log into with `rest: { api: fake.restUrl }`.
 */
/** Ids must be snowflakes: discord.js and the gateway's shard routing parse them as integers. */
function checkSnowflakes(options: StartFakeDiscordOptions): void {
  const ids: Array<[string, string | undefined]> = [
    ["applicationId", options.applicationId],
    ["botUserId", options.botUserId],
    ...(options.guilds ?? []).flatMap((guild, index): Array<[string, string | undefined]> => [
      [`guilds[${index}].id`, guild.id],
      [`guilds[${index}].ownerId`, guild.ownerId],
    ]),
    ...(options.guildsWithoutBot ?? []).flatMap((guild, index): Array<[string, string | undefined]> => [
      [`guildsWithoutBot[${index}].id`, guild.id],
      [`guildsWithoutBot[${index}].ownerId`, guild.ownerId],
    ]),
  ];
  for (const [name, id] of ids) {
    if (id !== undefined && !/^\d{1,20}$/.test(id)) throw new TypeError(`fake-discord: ${name} must be a snowflake (digits), got "${id}"`);
  }
}

export async function startFakeDiscord(options: StartFakeDiscordOptions = {}): Promise<FakeDiscord> {
  checkSnowflakes(options);
  const clock = options.clock ?? Date.now;
  const nextId = createSnowflakeGenerator(clock);
  const resolved = resolveOptions(options);
  const applicationId = options.applicationId ?? nextId();
  const botUser = makeUser(options.botUserId ?? applicationId, options.botUsername ?? "dashtune", { bot: true });
  const defaultUser = makeUser(nextId(), "tester");
  const world = new FakeDiscordWorld(resolved, clock, nextId, applicationId, botUser, defaultUser);
  const owner = makeUser(nextId(), "server-owner");
  world.users.set(owner.id, owner);
  const guildInputs = options.guilds ?? [{ id: nextId(), name: "dashtune test server" }];
  for (const input of guildInputs) world.guilds.push(makeGuildState(world, input, owner));
  for (const input of options.guildsWithoutBot ?? []) world.guildsWithoutBot.push(makeGuildState(world, input, owner, { withBot: false }));

  const gateway = new FakeGateway(world, () => world.gatewayUrl);
  const handler = new RequestHandler(world, gateway);
  const server: Server = createServer((request, response) => {
    handler.handle(request, response).catch((error: unknown) => {
      world.internalErrors.push(describeError(error));
      if (!response.headersSent) sendJson(response, 500, { message: "500: Internal Server Error", code: 0 });
    });
  });
  server.on("upgrade", (request, socket, head) => gateway.handleUpgrade(request, socket, head));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  world.baseUrl = `http://127.0.0.1:${port}`;
  world.gatewayUrl = `ws://127.0.0.1:${port}`;

  const handles = new Map<string, InteractionHandle>();
  const handleFor = (interaction: StoredInteraction): InteractionHandle => {
    let handle = handles.get(interaction.id);
    if (!handle) {
      handle = createInteractionHandle(world, interaction);
      handles.set(interaction.id, handle);
    }
    return handle;
  };
  const send = async (interaction: StoredInteraction): Promise<InteractionHandle> => {
    await dispatchInteraction(world, gateway, interaction);
    return handleFor(interaction);
  };
  let closed = false;

  const fake: FakeDiscord = {
    restUrl: `${world.baseUrl}/api`,
    gatewayUrl: world.gatewayUrl,
    token: resolved.token,
    applicationId,
    botUser,
    guilds: world.guilds.map((guild) => guild.info),
    guildsWithoutBot: world.guildsWithoutBot.map((guild) => guild.info),
    botDmChannelId(userId: string) {
      const user = world.users.get(userId);
      if (!user) throw new FakeDiscordUsageError(`fake-discord: user ${userId} is unknown; create it with fake.createUser()`);
      return world.botDmChannel(user).id as string;
    },
    defaultUser,
    get requests() {
      return world.recordedRequests();
    },
    get internalErrors() {
      return [...world.internalErrors];
    },
    sessions: () => gateway.sessions(),
    createUser(input = {}) {
      const user = makeUser(input.id ?? nextId(), input.username ?? `user-${world.users.size}`, { globalName: input.globalName });
      world.users.set(user.id, user);
      return user;
    },
    waitForSession(predicate, timeoutMs = 10_000) {
      return world.waitFor(
        () => gateway.sessions().find((session) => session.ready && session.connected && predicate(session)),
        timeoutMs,
        () => `waiting for a matching ready session; sessions: ${JSON.stringify(gateway.sessions().map(({ identify: _identify, ...rest }) => rest))}`,
      );
    },
    shardOf: shardOfGuild,
    waitForReady(timeoutMs = 10_000): Promise<FakeGatewaySession> {
      return world.waitFor(
        () => gateway.sessions().find((session) => session.ready && session.connected),
        timeoutMs,
        () => `waiting for a client to IDENTIFY and receive READY; sessions: ${JSON.stringify(gateway.sessions().map(({ identify: _identify, ...rest }) => rest))}; REST calls: ${world.requests.map((r) => `${r.method} ${r.path} → ${r.status}`).join("; ") || "none"}`,
      );
    },
    registeredCommands(guildId?: string) {
      return cloneJson(guildId === undefined ? world.globalCommands : (world.guildCommands.get(guildId) ?? []));
    },
    // Async so a usage error surfaces as a rejected promise, like every other failure here.
    sendSlashCommand: async (input) => send(buildSlashCommand(world, input)),
    sendMessageCommand: async (input) => send(buildMessageCommand(world, input)),
    sendComponent: async (input) => send(buildComponent(world, input)),
    sendModalSubmit: async (input) => send(buildModalSubmit(world, input)),
    messages(channelId?: string) {
      return [...world.messages.values()].filter((message) => channelId === undefined || message.channelId === channelId).map((message) => viewMessage(world, message));
    },
    message(id: string) {
      const message = world.messages.get(id);
      return message ? viewMessage(world, message) : undefined;
    },
    dispatch(event: string, data: unknown) {
      const guildId = isRecord(data) && typeof data.guild_id === "string" ? data.guild_id : null;
      void gateway.dispatch(event, data, guildId);
    },
    async close() {
      if (closed) return;
      closed = true;
      await gateway.closeAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return fake;
}
