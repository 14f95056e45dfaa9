import type { UsageStore } from "../usage/store.js";
import type { GuildSettings, GuildSettingsStore } from "./guild-settings.js";

/** Server settings in the bot's database, so an admin's choice survives a restart. */
export function createDbGuildSettingsStore(store: UsageStore, defaults: GuildSettings): GuildSettingsStore {
  const { db } = store;
  return {
    async get(guildId) {
      if (!guildId) return defaults;
      const row = await db.selectFrom("bot_guild_settings").selectAll().where("guild_id", "=", guildId).executeTakeFirst();
      return row ? { analysisRepliesPublic: Number(row.analysis_replies_public) === 1 } : defaults;
    },
    async update(guildId, change) {
      const updated = { ...(await this.get(guildId)), ...change };
      const values = { guild_id: guildId, analysis_replies_public: updated.analysisRepliesPublic ? 1 : 0, updated_at: store.now().getTime() };
      await db
        .insertInto("bot_guild_settings")
        .values(values)
        .onConflict((oc) => oc.column("guild_id").doUpdateSet({ analysis_replies_public: values.analysis_replies_public, updated_at: values.updated_at }))
        .execute();
      return updated;
    },
  };
}
