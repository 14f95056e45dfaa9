/** Per-server choices an admin makes in Discord. */
export type GuildSettings = {
  /** Analyze audio replies are visible to the whole channel, not just the person who asked. */
  analysisRepliesPublic: boolean;
};

export type GuildSettingsStore = {
  get(guildId: string | null): Promise<GuildSettings>;
  update(guildId: string, change: Partial<GuildSettings>): Promise<GuildSettings>;
};
