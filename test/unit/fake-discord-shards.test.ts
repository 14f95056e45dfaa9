import {
  ApplicationCommandType,
  Client,
  Events,
  GatewayIntentBits,
  InteractionContextType,
  MessageFlags,
  Routes,
  type Interaction,
} from "discord.js";
import { afterEach, describe, expect, it } from "vitest";
import { FakeDiscordUsageError, startFakeDiscord, type FakeDiscord, type StartFakeDiscordOptions } from "../fakes/discord/index.js";
import { connectRaw, identifyPayload } from "../fakes/discord/raw-gateway.js";

/**
 * The fake Discord shards as Discord does (gateway.mdx, "Sharding"): GET /gateway/bot recommends a
 * count, IDENTIFY carries `shard: [id, count]`, each session gets the guilds with
 * `(guild_id >> 22) % count === id`, and events go to the session that owns their guild (DMs to 0).
 */

/** A snowflake whose timestamp part is `300_000_000_000 + n`, so the shard it lands on is known. */
function guildId(n: number): string {
  return (((300_000_000_000n + BigInt(n)) << 22n) | 7n).toString();
}

/** Independent of the fake's helper: the formula as the docs print it. */
function expectedShard(id: string, count: number): number {
  return Number((BigInt(id) >> 22n) % BigInt(count));
}

// 300_000_000_000 is even: n = 0, 2 land on shard 0 of 2; n = 1, 3 on shard 1.
const GUILDS = [0, 1, 2, 3].map((n) => ({ id: guildId(n), name: `guild ${n}` }));
const SHARD0_GUILDS = GUILDS.filter((guild) => expectedShard(guild.id, 2) === 0).map((guild) => guild.id);
const SHARD1_GUILDS = GUILDS.filter((guild) => expectedShard(guild.id, 2) === 1).map((guild) => guild.id);

const started: Array<{ fake: FakeDiscord; clients: Client[] }> = [];

async function start(options: StartFakeDiscordOptions = {}): Promise<{ fake: FakeDiscord; clients: Client[] }> {
  const entry = { fake: await startFakeDiscord({ guilds: GUILDS, ...options }), clients: [] as Client[] };
  started.push(entry);
  return entry;
}

/** A real discord.js client that runs only `shard` of `count`, as one ShardingManager child does. */
async function loginShard(entry: { fake: FakeDiscord; clients: Client[] }, shard: number, count: number): Promise<Client> {
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: entry.fake.restUrl }, shards: [shard], shardCount: count });
  entry.clients.push(client);
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(entry.fake.token);
  await ready;
  return client;
}

function interactionsOf(client: Client): Interaction[] {
  const seen: Interaction[] = [];
  client.on(Events.InteractionCreate, (interaction) => seen.push(interaction));
  return seen;
}

afterEach(async () => {
  for (const { fake, clients } of started.splice(0)) {
    await Promise.all(clients.map((client) => client.destroy()));
    await fake.close();
  }
});

describe("fake Discord sharding", () => {
  it("splits the test guilds over both shards, so the routing tests below mean something", () => {
    expect(SHARD0_GUILDS.length).toBeGreaterThan(0);
    expect(SHARD1_GUILDS.length).toBeGreaterThan(0);
  });

  it("recommends a shard count and reports the session start limit in GET /gateway/bot", async () => {
    const { fake } = await start({ recommendedShards: 3, maxConcurrency: 2, sessionStartLimit: 50 });
    const get = async () => (await fetch(`${fake.restUrl}/v10/gateway/bot`, { headers: { authorization: `Bot ${fake.token}` } })).json();
    expect(await get()).toEqual({
      url: fake.gatewayUrl,
      shards: 3,
      session_start_limit: { total: 50, remaining: 50, reset_after: expect.any(Number), max_concurrency: 2 },
    });
    const raw = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await raw.next();
    raw.send(identifyPayload(fake.token, { shard: [0, 3] }));
    expect(await raw.next()).toMatchObject({ t: "READY" });
    expect(((await get()) as { session_start_limit: { remaining: number } }).session_start_limit.remaining).toBe(49);
    raw.ws.close(1000);
  });

  it("recommends one shard per 1,000 guilds by default", async () => {
    const { fake } = await start();
    const body = (await (await fetch(`${fake.restUrl}/v10/gateway/bot`, { headers: { authorization: `Bot ${fake.token}` } })).json()) as { shards: number };
    expect(body.shards).toBe(1);
  });

  it("gives each shard's session only the guilds (guild_id >> 22) % count assigns it", async () => {
    const entry = await start();
    const shard0 = await loginShard(entry, 0, 2);
    const shard1 = await loginShard(entry, 1, 2);
    expect([...shard0.guilds.cache.keys()].sort()).toEqual([...SHARD0_GUILDS].sort());
    expect([...shard1.guilds.cache.keys()].sort()).toEqual([...SHARD1_GUILDS].sort());
    const sessions = entry.fake.sessions();
    expect(sessions.map((session) => session.shard).sort()).toEqual([
      [0, 2],
      [1, 2],
    ]);
    expect(sessions.find((session) => session.shard[0] === 1)?.guildIds).toEqual(SHARD1_GUILDS);
    expect(entry.fake.shardOf(SHARD1_GUILDS[0] ?? "", 2)).toBe(1);
  });

  it("delivers a guild's interaction only to the shard that owns the guild", async () => {
    const entry = await start();
    const shard0 = await loginShard(entry, 0, 2);
    const shard1 = await loginShard(entry, 1, 2);
    const onShard0 = interactionsOf(shard0);
    const onShard1 = interactionsOf(shard1);
    const target = SHARD1_GUILDS[0] ?? "";
    await shard1.rest.put(Routes.applicationGuildCommands(entry.fake.applicationId, target), { body: [{ name: "ping", description: "Ping" }] });
    const arrived = new Promise<Interaction>((resolve) => shard1.once(Events.InteractionCreate, resolve));
    const handle = await entry.fake.sendSlashCommand({ name: "ping", guildId: target });
    const interaction = await arrived;
    expect(interaction.guildId).toBe(target);
    expect(handle.deliveredTo()).toEqual([[1, 2]]);
    if (interaction.isRepliable()) await interaction.reply({ content: "pong", flags: MessageFlags.Ephemeral });
    expect((await handle.waitForOriginal()).content).toBe("pong");
    expect(onShard0).toHaveLength(0);
    expect(onShard1).toHaveLength(1);
  });

  it("delivers a DM interaction (no guild) to shard 0 only", async () => {
    const entry = await start();
    const shard0 = await loginShard(entry, 0, 2);
    const shard1 = await loginShard(entry, 1, 2);
    const onShard1 = interactionsOf(shard1);
    await shard0.rest.put(Routes.applicationCommands(entry.fake.applicationId), {
      body: [
        { name: "hello", description: "Hello in DMs", contexts: [InteractionContextType.Guild, InteractionContextType.BotDM] },
        { name: "guildonly", description: "Guilds only", contexts: [InteractionContextType.Guild] },
      ],
    });
    const arrived = new Promise<Interaction>((resolve) => shard0.once(Events.InteractionCreate, resolve));
    const handle = await entry.fake.sendSlashCommand({ name: "hello", dm: true });
    const interaction = await arrived;
    expect(interaction.guildId).toBeNull();
    expect(interaction.context).toBe(InteractionContextType.BotDM);
    expect(interaction.user.id).toBe(entry.fake.defaultUser.id);
    if (interaction.isRepliable()) await interaction.reply({ content: "hi" });
    expect((await handle.waitForOriginal()).content).toBe("hi");
    expect(handle.deliveredTo()).toEqual([[0, 2]]);
    expect(onShard1).toHaveLength(0);
    await expect(entry.fake.sendSlashCommand({ name: "guildonly", dm: true })).rejects.toThrow(FakeDiscordUsageError);
  });

  it("routes a raw dispatch by its guild_id, and one without a guild to shard 0", async () => {
    const entry = await start();
    const shard0 = await loginShard(entry, 0, 2);
    const shard1 = await loginShard(entry, 1, 2);
    const raw = (client: Client) => {
      const seen: string[] = [];
      client.on(Events.Raw, (packet: { t: string | null }) => {
        if (packet.t?.startsWith("TEST_")) seen.push(packet.t);
      });
      return seen;
    };
    const seen0 = raw(shard0);
    const seen1 = raw(shard1);
    entry.fake.dispatch("TEST_GUILD", { guild_id: SHARD1_GUILDS[0] });
    entry.fake.dispatch("TEST_NO_GUILD", { hello: true });
    // A following event on each shard proves the earlier ones had their chance to arrive.
    const marker = (client: Client) => new Promise<void>((resolve) => client.on(Events.Raw, (packet: { t: string | null }) => packet.t === "TEST_MARK" && resolve()));
    const marks = Promise.all([marker(shard0), marker(shard1)]);
    entry.fake.dispatch("TEST_MARK", { guild_id: SHARD0_GUILDS[0] });
    entry.fake.dispatch("TEST_MARK", { guild_id: SHARD1_GUILDS[0] });
    await marks;
    expect(seen0).toEqual(["TEST_NO_GUILD", "TEST_MARK"]);
    expect(seen1).toEqual(["TEST_GUILD", "TEST_MARK"]);
  });

  it("closes with 4010 Invalid shard for a shard id outside the count or a malformed shard", async () => {
    const { fake } = await start();
    for (const shard of [[2, 2], [-1, 2], [0, 0], [0.5, 2], "0,2", [0]]) {
      const raw = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
      await raw.next();
      raw.send(identifyPayload(fake.token, { shard }));
      expect((await raw.closed).code, JSON.stringify(shard)).toBe(4010);
    }
  });

  it("closes with 4011 Sharding required when one session would hold more guilds than a shard may", async () => {
    const { fake } = await start({ maxGuildsPerShard: 2 });
    const unsharded = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await unsharded.next();
    unsharded.send(identifyPayload(fake.token));
    expect((await unsharded.closed).code).toBe(4011);

    const sharded = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await sharded.next();
    sharded.send(identifyPayload(fake.token, { shard: [1, 2] }));
    const ready = await sharded.next();
    expect(ready).toMatchObject({ t: "READY", d: { shard: [1, 2], guilds: SHARD1_GUILDS.map((id) => ({ id, unavailable: true })) } });
    sharded.ws.close(1000);
  });

  it("answers an IDENTIFY beyond max_concurrency in its bucket within 5 s with Invalid Session, when enforced", async () => {
    let now = 1_700_000_000_000;
    const { fake } = await start({ enforceIdentifyRateLimit: true, maxConcurrency: 2, clock: () => now });
    const identifyAs = async (shard: [number, number]) => {
      const raw = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
      await raw.next();
      raw.send(identifyPayload(fake.token, { shard }));
      const answer = await raw.next();
      raw.ws.close(1000);
      return answer;
    };
    // Shards 0 and 1 are different buckets (id % 2), so both may start at once; shard 2 shares 0's.
    expect(await identifyAs([0, 4])).toMatchObject({ t: "READY" });
    expect(await identifyAs([1, 4])).toMatchObject({ t: "READY" });
    expect(await identifyAs([2, 4])).toMatchObject({ op: 9, d: false });
    now += 5001;
    expect(await identifyAs([2, 4])).toMatchObject({ t: "READY" });
  });

  it("resets the token and ends every session when the day's session starts run out", async () => {
    const { fake } = await start({ sessionStartLimit: 1 });
    const first = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await first.next();
    first.send(identifyPayload(fake.token));
    expect(await first.next()).toMatchObject({ t: "READY" });

    const second = connectRaw(`${fake.gatewayUrl}/?v=10&encoding=json`);
    await second.next();
    second.send(identifyPayload(fake.token));
    expect((await second.closed).code).toBe(4004);
    expect((await first.closed).code).toBe(4004);
    const rest = await fetch(`${fake.restUrl}/v10/users/@me`, { headers: { authorization: `Bot ${fake.token}` } });
    expect(rest.status).toBe(401);
  });

  it("keeps a plain unsharded client on all guilds, as before", async () => {
    const entry = await start();
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: entry.fake.restUrl } });
    entry.clients.push(client);
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(entry.fake.token);
    await ready;
    expect(client.guilds.cache.size).toBe(GUILDS.length);
    await client.rest.put(Routes.applicationGuildCommands(entry.fake.applicationId, SHARD1_GUILDS[0] ?? ""), {
      body: [{ type: ApplicationCommandType.ChatInput, name: "ping", description: "Ping" }],
    });
    const handle = await entry.fake.sendSlashCommand({ name: "ping", guildId: SHARD1_GUILDS[0] });
    expect(handle.deliveredTo()).toEqual([[0, 1]]);
    expect(entry.fake.internalErrors).toEqual([]);
  });
});
