import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * The bot's Prometheus metrics: one registry per bot instance (never prom-client's global default
 * registry: tests run several bots in one process, and each must count only its own work), and a
 * few typed functions that the rest of the bot calls. Nothing here knows Discord or DashScope; the
 * composition root (main.ts) passes these functions to whatever produces the events.
 */

/** What the DashScope client reports when a call ends (its `onCallFinished` option). */
export type DashScopeCallFinished = {
  /** Which API: e.g. `music`, `audio`, `upload-policy`, `oss-upload`. */
  api: string;
  /** HTTP status of the last answer, or a code such as `NetworkError` when none arrived. */
  status: number | string;
  durationMs: number;
  requestId?: string | undefined;
};

/** What the usage ledger saw for one DashScope call (a subset of its CallRecord). */
export type RecordedCall = {
  feature: "song" | "analysis" | "follow-up";
  /** `ok`, or the error code. */
  outcome: string;
  musicSeconds?: number | undefined;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  audioTokens?: number | undefined;
};

export type TokenKind = "input" | "output" | "audio";

/** Job counts by state (`queued`, `running`, …), as the job queue knows them at scrape time. */
export type JobCounts = Readonly<Record<string, number>>;

export type Metrics = {
  /** The registry `/metrics` serves, and that a shard sends to the manager process as JSON. */
  readonly registry: Registry;
  /** A song request ended: `ok` or the error code. */
  songFinished(outcome: string): void;
  /** A Qwen-Audio call of Analyze audio ended (each part and each follow-up counts). */
  analysisFinished(outcome: string): void;
  /** Shaped like the DashScope client's `onCallFinished` option, so it can be passed as it is. */
  observeDashScopeCall(call: DashScopeCallFinished): void;
  musicSecondsBilled(seconds: number): void;
  tokensUsed(kind: TokenKind, count: number): void;
  /** One ledger row: songs or analyses by outcome, billed music seconds and tokens, at once. */
  callRecorded(call: RecordedCall): void;
  /** A Discord REST answer that was an error (4xx/5xx). */
  discordRestError(status: number): void;
  /** Sets (or replaces) what `dashtune_jobs` asks for its counts at each scrape. */
  countJobsWith(count: () => JobCounts | Promise<JobCounts>): void;
};

export type CreateMetricsOptions = {
  /**
   * Asked at every scrape for the jobs per state. May be set later with `countJobsWith`, since the
   * job queue is usually created after the metrics.
   */
  countJobs?: (() => JobCounts | Promise<JobCounts>) | undefined;
  /** prom-client's default process and Node metrics (event-loop lag among them). Default: on. */
  defaultMetrics?: boolean | undefined;
};

/** Seconds; DashScope calls range from a 100 ms policy fetch to a multi-minute song. */
const DASHSCOPE_DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

/** Creates a registry holding every dashtune metric, and the functions that feed them. */
export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  let countJobs = options.countJobs;

  const songs = new Counter({
    name: "dashtune_songs_total",
    help: "Fun-Music song calls by outcome (ok, or the error code)",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const analyses = new Counter({
    name: "dashtune_analyses_total",
    help: "Qwen-Audio calls of Analyze audio by outcome (each part and each follow-up question counts)",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const dashscopeRequests = new Counter({
    name: "dashtune_dashscope_requests_total",
    help: "HTTP requests to DashScope and its temporary storage, by API and HTTP status (or error code)",
    labelNames: ["api", "status"] as const,
    registers: [registry],
  });
  const dashscopeDuration = new Histogram({
    name: "dashtune_dashscope_request_duration_seconds",
    help: "Duration of DashScope calls, retries included, by API",
    labelNames: ["api"] as const,
    buckets: DASHSCOPE_DURATION_BUCKETS,
    registers: [registry],
  });
  const musicSeconds = new Counter({
    name: "dashtune_music_seconds_billed_total",
    help: "Seconds of music Fun-Music billed (usage.duration)",
    registers: [registry],
  });
  const tokens = new Counter({
    name: "dashtune_tokens_total",
    help: "Qwen-Audio tokens by kind (input: text input, output, audio)",
    labelNames: ["kind"] as const,
    registers: [registry],
  });
  const discordRestErrors = new Counter({
    name: "dashtune_discord_rest_errors_total",
    help: "Discord REST answers with an error status (429 included), by status",
    labelNames: ["status"] as const,
    registers: [registry],
  });
  new Gauge({
    name: "dashtune_jobs",
    help: "Jobs by state, read from the job queue at scrape time",
    labelNames: ["state"] as const,
    // With several shards every process reads the same shared queue: summing would count it N times.
    aggregator: "max",
    registers: [registry],
    async collect() {
      if (!countJobs) return;
      this.reset();
      const counts = await countJobs();
      for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
    },
  });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const songFinished = (outcome: string) => songs.inc({ outcome });
  const analysisFinished = (outcome: string) => analyses.inc({ outcome });
  const musicSecondsBilled = (seconds: number) => {
    if (seconds > 0 && Number.isFinite(seconds)) musicSeconds.inc(seconds);
  };
  const tokensUsed = (kind: TokenKind, count: number) => {
    if (count > 0 && Number.isFinite(count)) tokens.inc({ kind }, count);
  };

  return {
    registry,
    songFinished,
    analysisFinished,
    observeDashScopeCall(call) {
      dashscopeRequests.inc({ api: call.api, status: String(call.status) });
      dashscopeDuration.observe({ api: call.api }, Math.max(0, call.durationMs) / 1000);
    },
    musicSecondsBilled,
    tokensUsed,
    callRecorded(call) {
      if (call.feature === "song") songFinished(call.outcome);
      else analysisFinished(call.outcome);
      musicSecondsBilled(call.musicSeconds ?? 0);
      tokensUsed("input", call.inputTokens ?? 0);
      tokensUsed("output", call.outputTokens ?? 0);
      tokensUsed("audio", call.audioTokens ?? 0);
    },
    discordRestError(status) {
      discordRestErrors.inc({ status: String(status) });
    },
    countJobsWith(count) {
      countJobs = count;
    },
  };
}
