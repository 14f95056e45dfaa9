import type { UsageStore } from "./store.js";

/**
 * The names of the servers the bot is in, as the bot last saw them (on connecting, and when it
 * joins a server or a server is renamed), so `npm run report` can show names without asking
 * Discord. A name is only a label: the ledger keys everything by id.
 */

/** Table `guild_names` (migration 0006). */
export interface GuildNameTable {
  guild_id: string;
  name: string;
  /** Epoch ms of the last time the bot saw this name. */
  updated_at: number;
}

type GuildNamesDatabase = { guild_names: GuildNameTable };

export type GuildName = { id: string; name: string };

/** Rows per statement: well under SQLite's 32,766 bound parameters, with 3 per row. */
const BATCH_ROWS = 500;

function namesTable(store: UsageStore) {
  return store.db.withTables<GuildNamesDatabase>();
}

/** Stores (or updates) the names of these guilds. */
export async function rememberGuildNames(store: UsageStore, guilds: readonly GuildName[]): Promise<void> {
  const updatedAt = store.now().getTime();
  const db = namesTable(store);
  for (let start = 0; start < guilds.length; start += BATCH_ROWS) {
    const rows = guilds.slice(start, start + BATCH_ROWS).map((guild) => ({ guild_id: guild.id, name: guild.name, updated_at: updatedAt }));
    await db
      .insertInto("guild_names")
      .values(rows)
      .onConflict((conflict) =>
        conflict.column("guild_id").doUpdateSet((eb) => ({ name: eb.ref("excluded.name"), updated_at: eb.ref("excluded.updated_at") })),
      )
      .execute();
  }
}

/** The known names of these guild ids (ids the bot never saw are absent from the map). */
export async function guildNamesOf(store: UsageStore, ids: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const db = namesTable(store);
  for (let start = 0; start < ids.length; start += BATCH_ROWS) {
    const batch = ids.slice(start, start + BATCH_ROWS);
    const rows = await db.selectFrom("guild_names").select(["guild_id", "name"]).where("guild_id", "in", batch).execute();
    for (const row of rows) names.set(row.guild_id, row.name);
  }
  return names;
}
