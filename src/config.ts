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
  // A streamed song or analysis silent this long is given up (possibly billed, never re-sent).
  MUSIC_STREAM_IDLE_SECONDS: positiveInt(30),
  ANALYSIS_STREAM_IDLE_SECONDS: positiveInt(30),
  // Discord rate-limits edits, and a reply that changes more than every second or so reads as noise.
  PROGRESS_INTERVAL_SECONDS: z.coerce.number().min(1, "must be at least 1 (second)").default(4),
  SONG_CONCURRENCY: positiveInt(2),
  // A process renews its job leases every third of this; a dead process's jobs are taken over after it.
  JOB_LEASE_SECONDS: z.coerce.number().min(2, "must be at least 2 (seconds)").max(600).default(20),
  // Progress edits of every waiting or working reply together, per second (discord.js allows 50 in all).
  PROGRESS_EDITS_PER_SECOND: z.coerce.number().positive().max(40).default(15),
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
  // "auto": Discord's recommended count from GET /gateway/bot, asked at start.
  SHARD_COUNT: z
    .string()
    .regex(/^(auto|[1-9]\d*)$/, 'must be "auto" or a whole number of shards (1 or more)')
    .transform((value): number | "auto" => (value === "auto" ? "auto" : Number(value)))
    .default(1),
  OWNER_IDS: z
    .string()
    .regex(/^\d{17,20}(\s*,\s*\d{17,20})*$/, "must be Discord user ids separated by commas")
    .optional(),
  // Health and metrics listener: off unless a port is given (0 picks a free one, for tests).
  HTTP_PORT: z.coerce.number().int().min(0).max(65535, "must be a port number (0–65535)").optional(),
  HTTP_HOST: z.string().min(1).default("127.0.0.1"),
  LOG_FORMAT: z.enum(["pretty", "json"]).optional(),
});

/** Settings read by the usage ledger's own parser (src/usage/config.ts). */
const USAGE_SETTING_NAMES = [
  "DATABASE_URL",
  "PRICES_JSON",
  "QUOTA_USER_DAILY_SONGS",
  "QUOTA_USER_DAILY_MUSIC_SECONDS",
  "QUOTA_USER_DAILY_ANALYSES",
  "QUOTA_GUILD_MONTHLY_MUSIC_SECONDS",
  "QUOTA_GUILD_MONTHLY_COST",
  "QUOTA_SONG_COOLDOWN_SECONDS",
  "QUOTA_RESERVATION_TTL_SECONDS",
] as const;

/**
 * Every environment variable the bot reads. Tests hold .env.example, the Docker image and the
 * compose file to this list, so none of them sets a name the bot would silently ignore.
 */
export const SETTING_NAMES: readonly string[] = [...Object.keys(configSchema.shape), ...USAGE_SETTING_NAMES];

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
  /** Longest wait for the next event of a streamed song (`FunMusicDeps.streamIdleTimeoutMs`). */
  musicStreamIdleMs: number;
  /** Longest wait for the next event of an analysis answer (`AskQwenAudioOptions.idleTimeoutMs`). */
  analysisStreamIdleMs: number;
  progressIntervalMs: number;
  songConcurrency: number;
  jobLeaseMs: number;
  progressEditsPerSecond: number;
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
  /** 1: one process, as without sharding; more or "auto": a discord.js ShardingManager and one process per shard. */
  shardCount: number | "auto";
  /** Ledger database, prices and quota defaults (see src/usage/config.ts). */
  usage: UsageConfig;
  /** `/healthz` and `/metrics` listener; `undefined` when HTTP_PORT is unset (no listener). */
  http: { host: string; port: number } | undefined;
  /** `undefined`: pretty in a terminal, JSON otherwise. */
  logFormat: "pretty" | "json" | undefined;
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
  const problems: string[] = [];
  // A hold must outlive the longest song call, or a slow song's hold would expire while it runs.
  if (usage.config.reservationTtlMs < e.MUSIC_TIMEOUT_SECONDS * 1000 + 5 * 60 * 1000) {
    problems.push(`QUOTA_RESERVATION_TTL_SECONDS must be at least MUSIC_TIMEOUT_SECONDS + 300 (${e.MUSIC_TIMEOUT_SECONDS + 300})`);
  }
  // Every shard is its own process on one shared ledger and queue; an SQLite file belongs to one process.
  if (e.SHARD_COUNT !== 1 && usage.config.database.dialect !== "postgres") {
    problems.push(
      `SHARD_COUNT=${e.SHARD_COUNT} needs DATABASE_URL pointing at PostgreSQL (postgres://…): shard processes share one database, and SQLite serves one process only. Use SHARD_COUNT=1, or set DATABASE_URL.`,
    );
  }
  if (problems.length > 0) return { ok: false, problems };
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
      musicStreamIdleMs: e.MUSIC_STREAM_IDLE_SECONDS * 1000,
      analysisStreamIdleMs: e.ANALYSIS_STREAM_IDLE_SECONDS * 1000,
      progressIntervalMs: Math.round(e.PROGRESS_INTERVAL_SECONDS * 1000),
      songConcurrency: e.SONG_CONCURRENCY,
      jobLeaseMs: Math.round(e.JOB_LEASE_SECONDS * 1000),
      progressEditsPerSecond: e.PROGRESS_EDITS_PER_SECOND,
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
      shardCount: e.SHARD_COUNT,
      usage: usage.config,
      http: e.HTTP_PORT === undefined ? undefined : { host: e.HTTP_HOST, port: e.HTTP_PORT },
      logFormat: e.LOG_FORMAT,
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
