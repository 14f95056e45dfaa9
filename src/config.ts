import { z } from "zod";
import { parseUsageConfig, type UsageConfig } from "./usage/config.js";

/**
 * Everything the bot reads from its environment, validated once at boot.
 * `parseConfig` is pure so that tests can feed it any environment and see every problem at once.
 */

const snowflake = z.string().regex(/^\d{17,20}$/, "must be a Discord id (17–20 digits)");

const httpUrl = z
  .string()
  .url("must be a URL")
  .refine((value) => /^https?:\/\//.test(value), "must start with http:// or https://")
  .transform((value) => value.replace(/\/+$/, ""));

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const configSchema = z.object({
  DISCORD_TOKEN: z.string({ error: "is required" }).min(1, "is required"),
  DASHSCOPE_API_KEY: z.string({ error: "is required" }).min(1, "is required"),
  DISCORD_API_URL: httpUrl.default("https://discord.com/api"),
  DASHSCOPE_HTTP_BASE_URL: httpUrl.default("https://dashscope.aliyuncs.com/api/v1"),
  DEV_GUILD_ID: snowflake.optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  FUN_MUSIC_MODEL: z.enum(["fun-music-v1", "fun-music-preview"]).default("fun-music-v1"),
  FFMPEG_PATH: z.string().optional(),
  FFPROBE_PATH: z.string().optional(),
  DOWNLOAD_MAX_BYTES: positiveInt(64 * 1024 * 1024),
  MUSIC_TIMEOUT_SECONDS: positiveInt(600),
  // Discord rate-limits edits, and a reply that changes more than every second or so reads as noise.
  PROGRESS_INTERVAL_SECONDS: z.coerce.number().min(1, "must be at least 1 (second)").default(4),
  SONG_CONCURRENCY: positiveInt(2),
  QWEN_AUDIO_MODEL: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "must be a DashScope model name").default("qwen2-audio-instruct"),
  ANALYSIS_MAX_FILE_MB: z.coerce.number().positive().max(500).default(25),
  ANALYSIS_MAX_PARTS: positiveInt(10),
  // Parts of one recording asked at once: 11 asks a whole 5-minute recording in one wave.
  ANALYSIS_CONCURRENCY: positiveInt(11),
  ANALYSIS_UPLOAD_CONCURRENCY: positiveInt(3),
  ANALYSIS_TIMEOUT_SECONDS: positiveInt(120),
  ANALYSIS_REPLIES_PUBLIC: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
  ANALYSIS_SEND_DISCORD_LINKS: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
  ANALYSES_AT_ONCE: positiveInt(2),
  OWNER_IDS: z
    .string()
    .regex(/^\d{17,20}(\s*,\s*\d{17,20})*$/, "must be Discord user ids separated by commas")
    .optional(),
});

export type Config = {
  discordToken: string;
  dashscopeApiKey: string;
  discordApiUrl: string;
  dashscopeBaseUrl: string;
  devGuildId: string | undefined;
  logLevel: z.infer<typeof configSchema>["LOG_LEVEL"];
  funMusicModel: z.infer<typeof configSchema>["FUN_MUSIC_MODEL"];
  ffmpegPath: string | undefined;
  ffprobePath: string | undefined;
  downloadMaxBytes: number;
  musicTimeoutMs: number;
  progressIntervalMs: number;
  songConcurrency: number;
  qwenAudioModel: string;
  analysisMaxDownloadBytes: number;
  analysisMaxPieces: number;
  /** Parts of one recording asked of Qwen-Audio at once. */
  analysisConcurrency: number;
  /** Parts of one recording uploaded to DashScope's temporary storage at once. */
  analysisUploadConcurrency: number;
  analysisTimeoutMs: number;
  analysisRepliesPublic: boolean;
  analysisSendDiscordLinks: boolean;
  analysesAtOnce: number;
  /** Bot owners: they see usage across every server. */
  ownerIds: ReadonlySet<string>;
  /** Ledger database, prices and quota defaults (see src/usage/config.ts). */
  usage: UsageConfig;
};

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Empty strings count as unset, as in t3-env: `FOO=` in a .env file means "use the default". */
function withoutEmptyValues(env: Record<string, string | undefined>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== "") result[key] = value.trim();
  }
  return result;
}

export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = configSchema.safeParse(withoutEmptyValues(env));
  const usage = parseUsageConfig(env);
  if (!parsed.success || !usage.ok) {
    const problems = [
      ...(parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`)),
      ...(usage.ok ? [] : usage.problems),
    ];
    return { ok: false, problems };
  }
  const e = parsed.data;
  // A hold must outlive the longest song call, or a slow song's hold would expire while it runs.
  if (usage.config.reservationTtlMs < e.MUSIC_TIMEOUT_SECONDS * 1000 + 5 * 60 * 1000) {
    return { ok: false, problems: [`QUOTA_RESERVATION_TTL_SECONDS must be at least MUSIC_TIMEOUT_SECONDS + 300 (${e.MUSIC_TIMEOUT_SECONDS + 300})`] };
  }
  return {
    ok: true,
    config: {
      discordToken: e.DISCORD_TOKEN,
      dashscopeApiKey: e.DASHSCOPE_API_KEY,
      discordApiUrl: e.DISCORD_API_URL,
      dashscopeBaseUrl: e.DASHSCOPE_HTTP_BASE_URL,
      devGuildId: e.DEV_GUILD_ID,
      logLevel: e.LOG_LEVEL,
      funMusicModel: e.FUN_MUSIC_MODEL,
      ffmpegPath: e.FFMPEG_PATH,
      ffprobePath: e.FFPROBE_PATH,
      downloadMaxBytes: e.DOWNLOAD_MAX_BYTES,
      musicTimeoutMs: e.MUSIC_TIMEOUT_SECONDS * 1000,
      progressIntervalMs: Math.round(e.PROGRESS_INTERVAL_SECONDS * 1000),
      songConcurrency: e.SONG_CONCURRENCY,
      qwenAudioModel: e.QWEN_AUDIO_MODEL,
      analysisMaxDownloadBytes: Math.round(e.ANALYSIS_MAX_FILE_MB * 1024 * 1024),
      analysisMaxPieces: e.ANALYSIS_MAX_PARTS,
      analysisConcurrency: e.ANALYSIS_CONCURRENCY,
      analysisUploadConcurrency: e.ANALYSIS_UPLOAD_CONCURRENCY,
      analysisTimeoutMs: e.ANALYSIS_TIMEOUT_SECONDS * 1000,
      analysisRepliesPublic: e.ANALYSIS_REPLIES_PUBLIC,
      analysisSendDiscordLinks: e.ANALYSIS_SEND_DISCORD_LINKS,
      analysesAtOnce: e.ANALYSES_AT_ONCE,
      ownerIds: new Set((e.OWNER_IDS ?? "").split(",").map((id) => id.trim()).filter((id) => id !== "")),
      usage: usage.config,
    },
  };
}

const discordOnlySchema = configSchema.pick({ DISCORD_TOKEN: true, DISCORD_API_URL: true, DEV_GUILD_ID: true });

/** What `npm run register` needs: Discord settings only, so it runs before a DashScope key exists. */
export function parseDiscordConfig(
  env: Record<string, string | undefined>,
): { ok: true; config: Pick<Config, "discordToken" | "discordApiUrl" | "devGuildId"> } | { ok: false; problems: string[] } {
  const parsed = discordOnlySchema.safeParse(withoutEmptyValues(env));
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`) };
  return { ok: true, config: { discordToken: parsed.data.DISCORD_TOKEN, discordApiUrl: parsed.data.DISCORD_API_URL, devGuildId: parsed.data.DEV_GUILD_ID } };
}

/** The secrets a log line or a reply must never contain: the two keys, and a database password. */
export function secretsOf(config: Config): string[] {
  const secrets = [config.discordToken, config.dashscopeApiKey];
  const database = config.usage.database;
  if (database.dialect === "postgres") {
    try {
      const password = new URL(database.connectionString).password;
      if (password) secrets.push(password, decodeURIComponent(password));
    } catch {
      // A connection string that isn't a URL carries no password we could find; pg reports it.
    }
  }
  return secrets;
}
