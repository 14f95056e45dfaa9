import { z } from "zod";
import { resolveDatabaseTarget, type DatabaseTarget } from "./db.js";
import { parsePrices, type PriceTable } from "./prices.js";
import { DEFAULT_QUOTA_SETTINGS, type QuotaSettings } from "./quota-settings.js";
import { DEFAULT_RESERVATION_TTL_MS } from "./store.js";

/*
 * The usage store's part of the environment, to be folded into src/config.ts. Pure, lists every
 * problem at once, and treats empty values as unset (like parseConfig).
 *
 *   DATABASE_URL                       empty: ./data/dashtune.sqlite; postgres://…; or sqlite:<path>
 *   PRICES_JSON                        prices per model (see prices.ts); empty: the EXAMPLE prices
 *   QUOTA_USER_DAILY_SONGS             default 10
 *   QUOTA_USER_DAILY_MUSIC_SECONDS     default 1200
 *   QUOTA_USER_DAILY_ANALYSES          default 30
 *   QUOTA_GUILD_MONTHLY_MUSIC_SECONDS  default 36000
 *   QUOTA_GUILD_MONTHLY_COST           default unlimited
 *   QUOTA_SONG_COOLDOWN_SECONDS        default 60
 *   QUOTA_RESERVATION_TTL_SECONDS      default 1800
 * Every limit accepts `unlimited`. Guild admins override the limits per guild.
 */

export type UsageConfig = {
  database: DatabaseTarget;
  prices: PriceTable;
  quotaDefaults: QuotaSettings;
  reservationTtlMs: number;
};

export type UsageConfigResult = { ok: true; config: UsageConfig } | { ok: false; problems: string[] };

const limit = (integer: boolean) =>
  z.union([
    z.literal("unlimited").transform(() => null),
    (integer ? z.coerce.number().int("must be a whole number or unlimited") : z.coerce.number())
      .nonnegative("must not be negative")
      .finite("must be a number or unlimited"),
  ]);

const envSchema = z.object({
  QUOTA_USER_DAILY_SONGS: limit(true).optional(),
  QUOTA_USER_DAILY_MUSIC_SECONDS: limit(false).optional(),
  QUOTA_USER_DAILY_ANALYSES: limit(true).optional(),
  QUOTA_GUILD_MONTHLY_MUSIC_SECONDS: limit(false).optional(),
  QUOTA_GUILD_MONTHLY_COST: limit(false).optional(),
  QUOTA_SONG_COOLDOWN_SECONDS: z.coerce.number().int("must be a whole number").min(0).max(86_400).optional(),
  QUOTA_RESERVATION_TTL_SECONDS: z.coerce.number().int("must be a whole number").min(60).max(86_400).optional(),
});

export function parseUsageConfig(env: Record<string, string | undefined>): UsageConfigResult {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== "") clean[key] = value.trim();
  }
  const problems: string[] = [];

  let database: DatabaseTarget | undefined;
  try {
    database = resolveDatabaseTarget(clean.DATABASE_URL);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const prices = parsePrices(clean.PRICES_JSON);
  if (!prices.ok) problems.push(...prices.problems);

  const parsed = envSchema.safeParse(clean);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`));
  }
  if (problems.length > 0 || !parsed.success || !prices.ok || !database) return { ok: false, problems };

  const e = parsed.data;
  const d = DEFAULT_QUOTA_SETTINGS;
  const pick = <T>(value: T | undefined, fallback: T): T => (value === undefined ? fallback : value);
  return {
    ok: true,
    config: {
      database,
      prices: prices.prices,
      quotaDefaults: {
        userDailySongs: pick(e.QUOTA_USER_DAILY_SONGS, d.userDailySongs),
        userDailyMusicSeconds: pick(e.QUOTA_USER_DAILY_MUSIC_SECONDS, d.userDailyMusicSeconds),
        userDailyAnalyses: pick(e.QUOTA_USER_DAILY_ANALYSES, d.userDailyAnalyses),
        guildMonthlyMusicSeconds: pick(e.QUOTA_GUILD_MONTHLY_MUSIC_SECONDS, d.guildMonthlyMusicSeconds),
        guildMonthlyCost: pick(e.QUOTA_GUILD_MONTHLY_COST, d.guildMonthlyCost),
        songCooldownSeconds: pick(e.QUOTA_SONG_COOLDOWN_SECONDS, d.songCooldownSeconds),
      },
      reservationTtlMs:
        e.QUOTA_RESERVATION_TTL_SECONDS === undefined ? DEFAULT_RESERVATION_TTL_MS : e.QUOTA_RESERVATION_TTL_SECONDS * 1000,
    },
  };
}
