import { randomBytes } from "node:crypto";

/** Discord's epoch (2015-01-01T00:00:00Z); every snowflake encodes milliseconds since it. */
export const DISCORD_EPOCH_MS = 1_420_070_400_000n;

/**
 * Makes snowflakes the way Discord does (timestamp << 22 | worker | increment), so ids sort by
 * creation time and discord.js can read `createdTimestamp` from them. Ids stay strictly increasing
 * even when the clock stands still (tests with a frozen clock still get distinct ids).
 */
export function createSnowflakeGenerator(clock: () => number): () => string {
  let last = 0n;
  let increment = 0n;
  return () => {
    increment = (increment + 1n) & 0xfffn;
    const candidate = ((BigInt(Math.floor(clock())) - DISCORD_EPOCH_MS) << 22n) | (1n << 17n) | increment;
    last = candidate > last ? candidate : last + 1n;
    return last.toString();
  };
}

/**
 * The shard that owns a guild: `(guild_id >> 22) % num_shards` (gateway.mdx, "Sharding Formula").
 * BigInt, because a snowflake does not fit in a double.
 */
export function shardOfGuild(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

/** Milliseconds since the Unix epoch encoded in a snowflake. */
export function snowflakeTimestamp(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH_MS);
}

/**
 * Interaction tokens look like Discord's: base64url of `interaction:<id>:<random>`. Their shape
 * matters little to discord.js, but a realistic one keeps log-redaction tests honest.
 */
export function makeInteractionToken(interactionId: string): string {
  const secret = randomBytes(72).toString("base64url");
  return Buffer.from(`interaction:${interactionId}:${secret}`).toString("base64url");
}

export function makeSessionId(): string {
  return randomBytes(16).toString("hex");
}
