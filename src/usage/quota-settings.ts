import { z } from "zod";

/*
 * Quota settings: defaults come from configuration, each guild may override any of them (admins
 * change them through Discord). A limit of `null` means unlimited.
 */

const countLimit = z.number().int("must be a whole number").nonnegative("must not be negative").nullable();
const amountLimit = z.number().nonnegative("must not be negative").finite().nullable();
const cooldownSeconds = z
  .number()
  .int("must be a whole number")
  .min(0, "must not be negative")
  .max(86_400, "must be at most 86400 (a day)");

export const quotaSettingsSchema = z.strictObject({
  /** Songs a member may start per UTC day in a guild. */
  userDailySongs: countLimit,
  /** Seconds of music a member may have generated per UTC day in a guild. */
  userDailyMusicSeconds: amountLimit,
  /** Qwen-Audio calls (analyses and their follow-up questions) a member may make per UTC day in a guild. */
  userDailyAnalyses: countLimit,
  /** Seconds of music a whole guild may have generated per UTC month. */
  guildMonthlyMusicSeconds: amountLimit,
  /** Estimated cost (in the prices' currency) a whole guild may spend per UTC month. */
  guildMonthlyCost: amountLimit,
  /** Seconds a member waits between the starts of two songs (0 = no cooldown; at most a day). */
  songCooldownSeconds: cooldownSeconds,
});
export type QuotaSettings = z.infer<typeof quotaSettingsSchema>;
export type QuotaSettingName = keyof QuotaSettings;
export const QUOTA_SETTING_NAMES = Object.keys(quotaSettingsSchema.shape) as QuotaSettingName[];

/** What a guild stores: only the settings it overrides. */
export const quotaOverridesSchema = quotaSettingsSchema.partial();
export type QuotaOverrides = z.infer<typeof quotaOverridesSchema>;

const orDefault = <T extends z.ZodType>(schema: T) => z.union([schema, z.literal("default")]).optional();

/**
 * A change made by an admin: a value (a number, or `null` for unlimited) overrides the default,
 * `"default"` removes the override, an absent key leaves the setting as it is.
 */
export const quotaSettingsPatchSchema = z.strictObject({
  userDailySongs: orDefault(countLimit),
  userDailyMusicSeconds: orDefault(amountLimit),
  userDailyAnalyses: orDefault(countLimit),
  guildMonthlyMusicSeconds: orDefault(amountLimit),
  guildMonthlyCost: orDefault(amountLimit),
  songCooldownSeconds: orDefault(cooldownSeconds),
});
export type QuotaSettingsPatch = z.infer<typeof quotaSettingsPatchSchema>;

/**
 * Defaults when configuration sets none. Generous for a small server, and they stop a runaway
 * loop from emptying the account: 10 songs and 20 minutes of music per member per day, 30
 * Qwen-Audio calls per member per day, 10 hours of music per guild per month, one song start per
 * minute per member, no cost budget (prices are estimates until configured).
 */
export const DEFAULT_QUOTA_SETTINGS: QuotaSettings = {
  userDailySongs: 10,
  userDailyMusicSeconds: 1200,
  userDailyAnalyses: 30,
  guildMonthlyMusicSeconds: 36_000,
  guildMonthlyCost: null,
  songCooldownSeconds: 60,
};

export function applyOverrides(defaults: QuotaSettings, overrides: QuotaOverrides): QuotaSettings {
  const result = { ...defaults };
  for (const name of QUOTA_SETTING_NAMES) {
    const value = overrides[name];
    if (value !== undefined) (result as Record<QuotaSettingName, number | null>)[name] = value;
  }
  return result;
}

export function applyPatch(overrides: QuotaOverrides, patch: QuotaSettingsPatch): QuotaOverrides {
  const result: Record<string, number | null> = { ...overrides };
  for (const name of QUOTA_SETTING_NAMES) {
    const value = patch[name];
    if (value === undefined) continue;
    if (value === "default") delete result[name];
    else result[name] = value;
  }
  return result as QuotaOverrides;
}
