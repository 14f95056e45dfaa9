import type { UsageStore } from "../usage/store.js";
import type { GuildSettings, GuildSettingsStore } from "./guild-settings.js";

/** How long a server's settings are reused without asking the database (another process may change them). */
const CACHE_MS = 60_000;

/**
 * Server settings in the bot's database, so an admin's choice survives a restart. Read on every
 * Analyze audio before it is acknowledged, so they are kept in memory for a minute; a change made
 * in this process is seen at once, one made by another shard process within the minute.
 */
export function createDbGuildSettingsStore(store: UsageStore, defaults: GuildSettings): GuildSettingsStore {
  const { db } = store;
  const cache = new Map<string, { settings: GuildSettings; until: number }>();
  return {
    async get(guildId) {
      if (!guildId) return defaults;
      const cached = cache.get(guildId);
      if (cached && cached.until > Date.now()) return cached.settings;
      const row = await db.selectFrom("bot_guild_settings").selectAll().where("guild_id", "=", guildId).executeTakeFirst();
      const settings = row ? { analysisRepliesPublic: Number(row.analysis_replies_public) === 1 } : defaults;
      cache.set(guildId, { settings, until: Date.now() + CACHE_MS });
      return settings;
    },
    async update(guildId, change) {
      const updated = { ...(await this.get(guildId)), ...change };
      const values = { guild_id: guildId, analysis_replies_public: updated.analysisRepliesPublic ? 1 : 0, updated_at: store.now().getTime() };
      await db
        .insertInto("bot_guild_settings")
        .values(values)
        .onConflict((oc) => oc.column("guild_id").doUpdateSet({ analysis_replies_public: values.analysis_replies_public, updated_at: values.updated_at }))
        .execute();
      cache.set(guildId, { settings: updated, until: Date.now() + CACHE_MS });
      return updated;
    },
  };
}
