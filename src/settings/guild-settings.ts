/** Per-server choices an admin makes in Discord. */
export type GuildSettings = {
  /** Analyze audio replies are visible to the whole channel, not just the person who asked. */
  analysisRepliesPublic: boolean;
};

export type GuildSettingsStore = {
  get(guildId: string | null): Promise<GuildSettings>;
  update(guildId: string, change: Partial<GuildSettings>): Promise<GuildSettings>;
};

/** Settings kept in memory; defaults come from config. */
export function createMemoryGuildSettingsStore(defaults: GuildSettings): GuildSettingsStore {
  const settings = new Map<string, GuildSettings>();
  return {
    async get(guildId) {
      return (guildId && settings.get(guildId)) || defaults;
    },
    async update(guildId, change) {
      const updated = { ...((await this.get(guildId)) as GuildSettings), ...change };
      settings.set(guildId, updated);
      return updated;
    },
  };
}
