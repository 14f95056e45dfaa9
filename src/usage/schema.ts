/**
 * Table types of the usage store, shared by SQLite and PostgreSQL.
 *
 * Times are stored as epoch milliseconds (`bigint` columns) rather than native timestamps so that
 * the same SQL — period filters and `occurred_at / 86400000` day buckets — runs unchanged on both
 * databases. Days and months are UTC.
 */

export const FEATURES = ["song", "analysis", "follow-up"] as const;
/** What a DashScope call was for: a Fun-Music song, a Qwen-Audio analysis, or a follow-up question. */
export type Feature = (typeof FEATURES)[number];

/** Key of calls made outside any guild (direct messages, user-installed app) in keyed tables. */
export const DIRECT_MESSAGES_KEY = "dm";

export function guildKey(guildId: string | null): string {
  return guildId ?? DIRECT_MESSAGES_KEY;
}

/** One row per DashScope call; written once, right after the call returns. */
export interface UsageCallTable {
  /** DashScope `request_id`, or `local-<uuid>` when the call failed before DashScope gave one. */
  request_id: string;
  /** When the call was sent (epoch ms). */
  occurred_at: number;
  /** `null` for a call made outside a guild (direct message or user-installed app). */
  guild_id: string | null;
  channel_id: string | null;
  user_id: string;
  feature: Feature;
  model: string;
  /** `ok`, or the DashScope (or local) error code. */
  outcome: string;
  /** Seconds of music billed (`usage.duration`). */
  music_seconds: number;
  input_tokens: number;
  output_tokens: number;
  audio_tokens: number;
  latency_ms: number;
  /** Bytes sent to Discord; `null` until delivery is recorded (or if delivery never happened). */
  bytes_delivered: number | null;
}

/** Sums of a ledger's rows, kept up to date in the same transaction as each row. */
export interface UsageSums {
  calls: number;
  /** Calls whose outcome is not `ok`. */
  failures: number;
  music_seconds: number;
  input_tokens: number;
  output_tokens: number;
  audio_tokens: number;
  bytes_delivered: number;
}

/** Per guild, UTC day, feature and model: what period reports and daily series read. */
export interface UsageDailyTotalsTable extends UsageSums {
  /** Guild id, or `"dm"` for calls outside any guild. */
  guild_key: string;
  day: number;
  feature: Feature;
  model: string;
}

/** Per guild, member, feature and model, all time: all-time top members and a member's all-time usage. */
export interface UsageMemberTotalsTable extends UsageSums {
  guild_key: string;
  user_id: string;
  feature: Feature;
  model: string;
}

/**
 * Per guild, UTC day, member, feature and model: a guild's top members and a member's own figures
 * and daily series for a period other than "all" (migration 0004).
 */
export interface UsageMemberDayTotalsTable extends UsageSums {
  guild_key: string;
  /** UTC epoch day: `floor(epochMs / 86400000)`. */
  day: number;
  user_id: string;
  feature: Feature;
  model: string;
}

/**
 * Per guild, member, feature and model: the member's sums of every call up to the end of a UTC
 * day, one row per day on which they changed (migration 0007). A period ending now is the member's
 * all-time totals minus the latest snapshot before the period.
 */
export interface UsageMemberSnapshotTable extends UsageSums {
  guild_key: string;
  user_id: string;
  feature: Feature;
  model: string;
  /** UTC epoch day: `floor(epochMs / 86400000)`; the sums include that whole day. */
  day: number;
}

/** Settled usage of one member in one guild on one UTC day. In-flight reservations are not in here. */
export interface QuotaUserDayTable {
  guild_key: string;
  user_id: string;
  /** UTC epoch day: `floor(epochMs / 86400000)`. */
  day: number;
  songs: number;
  music_seconds: number;
  analyses: number;
}

/**
 * Settled usage of one guild in one UTC month. Its row is also the lock that serializes every
 * quota change in that guild (see quotas.ts).
 */
export interface QuotaGuildMonthTable {
  guild_key: string;
  /** `yyyymm`, e.g. 202506. */
  month: number;
  music_seconds: number;
  cost: number;
}

export const RESERVATION_STATUSES = ["held", "settled", "released", "expired"] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** Quota held for a call in flight, then settled with actual figures or released. */
export interface QuotaReservationTable {
  id: string;
  guild_key: string;
  user_id: string;
  feature: Feature;
  model: string | null;
  day: number;
  month: number;
  /** Held seconds while `held`, actual seconds once `settled`. */
  music_seconds: number;
  /** Held estimated cost while `held`, actual estimated cost once `settled`. */
  cost: number;
  status: ReservationStatus;
  created_at: number;
  expires_at: number;
  finished_at: number | null;
}

/** Per-guild overrides of the quota defaults, as validated JSON (see `quotaOverridesSchema`). */
export interface GuildQuotaSettingsTable {
  guild_key: string;
  overrides: string;
  updated_at: number;
  updated_by: string | null;
}

export interface BotSongRecordTable {
  id: string;
  requester_id: string;
  guild_id: string | null;
  channel_id: string | null;
  /** The SongInput as JSON. */
  input_json: string;
  title: string;
  result_lyrics: string | null;
  request_id: string | null;
  audio_url: string | null;
  file_name: string;
  /** Epoch ms. */
  created_at: number;
}

export interface BotGuildSettingsTable {
  guild_id: string;
  /** 0 or 1: integers mean the same to SQLite and PostgreSQL. */
  analysis_replies_public: number;
  updated_at: number;
}

/**
 * One durable song or analysis request (src/jobs/). `interaction_token` is a secret: it edits the
 * requester's reply for 15 minutes and is never logged.
 */
export interface BotJobTable {
  id: string;
  kind: string;
  state: string;
  guild_id: string | null;
  channel_id: string | null;
  user_id: string;
  user_name: string;
  /** The member's language (private text) and the server's (public text). */
  locale: string;
  guild_locale: string | null;
  application_id: string;
  interaction_id: string;
  interaction_token: string;
  /** Epoch ms after which the interaction token no longer works. */
  token_expires_at: number;
  /** 0 or 1: the reply is visible to the requester only. */
  ephemeral: number;
  attachment_limit_bytes: number;
  input_json: string;
  reservation_id: string | null;
  attempts: number;
  request_id: string | null;
  /** What DashScope answered (URL, expiry, lyrics, usage) once billed, as JSON. */
  result_json: string | null;
  error_code: string | null;
  lease_owner: string | null;
  /** Epoch ms. */
  lease_expires_at: number | null;
  /** The public reply's message id, when Discord gave it with the acknowledgement. */
  reply_message_id: string | null;
  created_at: number;
  updated_at: number;
}

/** An analysis conversation (what follow-ups continue), as JSON, for its 24 hours. */
export interface BotConversationTable {
  id: string;
  conversation_json: string;
  expires_at: number;
}

export interface UsageDatabase {
  bot_jobs: BotJobTable;
  bot_conversations: BotConversationTable;
  bot_song_records: BotSongRecordTable;
  bot_guild_settings: BotGuildSettingsTable;
  usage_calls: UsageCallTable;
  usage_daily_totals: UsageDailyTotalsTable;
  usage_member_totals: UsageMemberTotalsTable;
  usage_member_day_totals: UsageMemberDayTotalsTable;
  usage_member_snapshots: UsageMemberSnapshotTable;
  usage_quota_user_day: QuotaUserDayTable;
  usage_quota_guild_month: QuotaGuildMonthTable;
  usage_quota_reservations: QuotaReservationTable;
  usage_guild_settings: GuildQuotaSettingsTable;
}
