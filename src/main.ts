import { fileURLToPath, pathToFileURL } from "node:url";
import { Client, Events, GatewayIntentBits, RESTEvents, Status } from "discord.js";
import { createAudioTools, locateFfmpeg } from "./audio/index.js";
import { parseConfig, secretsOf, type Config } from "./config.js";
import { createDashScopeClient } from "./dashscope/client.js";
import { checkSongInput, generateSong } from "./dashscope/music.js";
import { allCommandDefinitions } from "./discord/command-definitions.js";
import { createSongCommand } from "./discord/song/command.js";
import { handleSongButton } from "./discord/song/buttons.js";
import { handleEditLyricsModal, handleNewSongModal } from "./discord/song/modals.js";
import { createInteractionRouter } from "./discord/router.js";
import { discordRestOptions } from "./discord/rest-options.js";
import { createSongReplies, retrySong, type SongServices } from "./discord/song/flow.js";
import { askPieces, type AskPiecesDeps } from "./analysis/ask-pieces.js";
import { createDbConversationStore } from "./analysis/conversations-db.js";
import { prepareAndAsk } from "./analysis/prepare-and-ask.js";
import type { PrepareDeps, PrepareLimits } from "./analysis/prepare.js";
import { askQwenAudio, trimConversationToBudget } from "./dashscope/audio.js";
import { uploadTemporaryFile } from "./dashscope/upload.js";
import {
  handleAnalysisAction,
  handleAnalysisPage,
  handleAnalysisPick,
  handleAnalysisShare,
  handleAskQuestionModal,
  createAnalysisReplies,
  retryAnalysis,
  type AnalysisServices,
} from "./discord/analysis/flow.js";
import { showJobProgress } from "./discord/job-reply.js";
import { createAcknowledgementGate, handleJobAction } from "./discord/job-requests.js";
import { createAnalyzeAudioCommand } from "./discord/analysis/command.js";
import { createLimitsCommand } from "./discord/usage/limits-command.js";
import { createSettingsCommand } from "./discord/usage/settings-command.js";
import { createUsageCommand } from "./discord/usage/usage-command.js";
import { createAnalysisJobWork } from "./jobs/analysis-job.js";
import { createJobStore, type JobStore } from "./jobs/job-store.js";
import { createProgressBoard, editingOnlyWhileQueued } from "./jobs/progress-board.js";
import { createJobRunner, newLeaseOwner } from "./jobs/runner.js";
import { createSongJobWork } from "./jobs/song-job.js";
import { chooseLogFormat, createLogger, type Logger } from "./log.js";
import { createDownloader, defaultDownloadHosts, hostOfUrl } from "./net/download.js";
import { createDbGuildSettingsStore } from "./settings/guild-settings-db.js";
import { createDbSongRecordStore } from "./songs/song-records-db.js";
import { openUsageStore, sweepReservations, type UsageStore } from "./usage/index.js";
import { createMetering } from "./usage/metering.js";
import { answerManagerQuestions, processRole, registersCommands, startShardProcesses } from "./shards.js";
import { rememberGuildNames, type GuildName } from "./usage/guild-names.js";
import { databaseCheck } from "./http/health.js";
import { createMetrics, type Metrics } from "./http/metrics.js";
import { startHttpServer, type RunningHttpServer } from "./http/server.js";
import { parentProcessPeer } from "./http/shard-ipc.js";
import { checkDashScopeKey, explainUnreachable, inviteUrl } from "./startup-checks.js";

/**
 * The composition root: config → logger → clients → Discord client. Nothing else wires.
 * `startBot` is exported so end-to-end tests run exactly what `npm start` runs.
 */

/** How long a song's buttons keep working. */
const SONG_RECORD_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
/** How long follow-up buttons keep working: the audio's temporary links expire within a day or two. */
const CONVERSATION_TTL_MS = DAY_MS;

export type RunningBot = {
  client: Client;
  /** The usage ledger (tests read it; the bot writes it). */
  usageStore: UsageStore;
  /** The durable jobs (tests read them; the bot runs them). */
  jobs: JobStore;
  /** This bot's own metrics registry and counters. */
  metrics: Metrics;
  /** The health and metrics listener, when HTTP_PORT is set. */
  http: RunningHttpServer | undefined;
  /** Finish songs under way (up to `graceMs`), then disconnect. */
  stop(graceMs?: number): Promise<void>;
};

export async function startBot(config: Config, logger: Logger): Promise<RunningBot> {
  // Opening the ledger runs its migrations; a database that can't be opened stops the bot here.
  const usageStore = await openUsageStore({
    target: config.usage.database,
    prices: config.usage.prices,
    quotaDefaults: config.usage.quotaDefaults,
    reservationTtlMs: config.usage.reservationTtlMs,
    onBackgroundError: (error) => logger.error({ err: error }, "usage ledger background work failed"),
  });
  // The file's path is logged so a bot started from another directory (a new, empty ledger) shows.
  logger.info(
    { database: config.usage.database.dialect, ...(config.usage.database.dialect === "sqlite" ? { path: config.usage.database.path } : {}) },
    "usage ledger open",
  );
  // An unpriced model costs 0 in every estimate: a cost budget would not see its calls.
  const unpriced = [config.funMusicModel, config.qwenAudioModel].filter((model) => config.usage.prices.models[model] === undefined);
  if (unpriced.length > 0) {
    logger.warn({ models: unpriced }, "PRICES_JSON has no price for these models: their calls count as zero against QUOTA_GUILD_MONTHLY_COST and in cost reports");
  }
  const metrics = createMetrics();
  const metering = createMetering(usageStore, logger.child({ component: "ledger" }), { onCallRecorded: (call) => metrics.callRecorded(call) });

  const download = createDownloader({
    allowedHosts: [...defaultDownloadHosts, hostOfUrl(config.dashscopeBaseUrl), hostOfUrl(config.discordApiUrl)],
    maxBytes: config.downloadMaxBytes,
  });
  const dashscope = createDashScopeClient({
    baseUrl: config.dashscopeBaseUrl,
    apiKey: config.dashscopeApiKey,
    logger: logger.child({ component: "dashscope" }),
    onCallFinished: (call) => metrics.observeDashScopeCall(call),
  });
  // Located once at boot, so a wrong FFMPEG_PATH stops the bot now rather than failing a paid song later.
  const ffmpeg = locateFfmpeg({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath, pathEnv: process.env.PATH });
  logger.info({ ffmpeg: ffmpeg.ffmpegPath, source: ffmpeg.source, ffprobeSource: ffmpeg.ffprobeSource }, "audio tools located");
  const audioTools = createAudioTools({ ffmpegPath: ffmpeg.ffmpegPath, ffprobePath: ffmpeg.ffprobePath, logger: logger.child({ component: "audio" }) });
  const guildSettings = createDbGuildSettingsStore(usageStore, { analysisRepliesPublic: config.analysisRepliesPublic });
  const songRecords = createDbSongRecordStore(usageStore);
  const conversations = createDbConversationStore(usageStore, { ttlMs: CONVERSATION_TTL_MS });
  const jobs = createJobStore(usageStore, { leaseMs: config.jobLeaseMs });
  metrics.countJobsWith(() => jobs.countByState());
  const analysisAskDeps: AskPiecesDeps = {
    ask: (options) => askQwenAudio(dashscope, { ...options, idleTimeoutMs: config.analysisStreamIdleMs }),
    fitToBudget: (messages, piece) => trimConversationToBudget(messages, { lastUsage: piece.lastUsage, audioSeconds: piece.endSeconds - piece.startSeconds }),
    model: config.qwenAudioModel,
    concurrency: config.analysisConcurrency,
    timeoutMs: config.analysisTimeoutMs,
  };
  const analysisPrepareDeps = (log: Logger): PrepareDeps => ({
    download,
    audioTools,
    upload: (file) => uploadTemporaryFile({ client: dashscope, logger: log }, { ...file, model: config.qwenAudioModel, timeoutMs: config.analysisTimeoutMs }),
    log,
  });
  const analysisPrepareLimits: PrepareLimits = {
    maxDownloadBytes: config.analysisMaxDownloadBytes,
    maxPieces: config.analysisMaxPieces,
    uploadConcurrency: config.analysisUploadConcurrency,
    sendDiscordLinks: config.analysisSendDiscordLinks,
  };

  // Every message sets its own allowed mentions; this default is the backstop for one that forgets.
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: discordRestOptions(config.discordApiUrl), allowedMentions: { parse: [] } });

  const jobLogger = logger.child({ component: "jobs" });
  const board = createProgressBoard({
    edit: editingOnlyWhileQueued(jobs, (job, progress, elapsedMs) => showJobProgress(client as Client<true>, job, progress, elapsedMs)),
    tickMs: 1000,
    heartbeatMs: config.progressIntervalMs,
    editsPerSecond: config.progressEditsPerSecond,
    onError: (job, error) => jobLogger.warn({ err: error, jobId: job.id }, "progress edit failed"),
  });
  const runner = createJobRunner({
    jobs,
    owner: newLeaseOwner(),
    board,
    leaseMs: config.jobLeaseMs,
    pollMs: 1000,
    // SQLite is one process's file: at start, every job another process held is an orphan.
    soleProcess: usageStore.dialect === "sqlite",
    logger: jobLogger,
    notices: { restarting: (job) => showJobProgress(client as Client<true>, job, { phase: "restarting" }, 0) },
    work: {
      song: createSongJobWork({
        generateSong: (input, options) =>
          generateSong(
            {
              client: dashscope,
              model: config.funMusicModel,
              downloadAudio: (url, downloadOptions) => download(url, downloadOptions),
              maxAudioBytes: config.downloadMaxBytes,
              streamIdleTimeoutMs: config.musicStreamIdleMs,
            },
            input,
            options,
          ),
        downloadAudio: (url, options) => download(url, { ...options, maxBytes: config.downloadMaxBytes }),
        metering,
        replies: createSongReplies(client, { songRecords, fitUnderBytes: (audio, format, maxBytes) => audioTools.fitUnderBytes(audio, format, maxBytes) }),
        model: config.funMusicModel,
        concurrency: config.songConcurrency,
        timeoutMs: config.musicTimeoutMs,
      }),
      analysis: createAnalysisJobWork({
        prepareAndAsk: (source, question, language, log, progress) =>
          prepareAndAsk(source, question, language, { prepare: analysisPrepareDeps(log), ask: analysisAskDeps }, analysisPrepareLimits, progress),
        askPieces: (pieces, question, language, progress) => askPieces(pieces, question, language, analysisAskDeps, progress),
        conversations,
        metering,
        replies: createAnalysisReplies(client, { conversations, model: config.qwenAudioModel }),
        model: config.qwenAudioModel,
        concurrency: config.analysesAtOnce,
      }),
    },
  });

  const admissions = new Set<string>();
  const acknowledgements = createAcknowledgementGate();
  const analysisServices: AnalysisServices = {
    conversations,
    guildSettings,
    jobs,
    runner,
    metering,
    admissions,
    acknowledgements,
    model: config.qwenAudioModel,
    maxParts: config.analysisMaxPieces,
  };
  const songServices: SongServices = { checkSongInput, songRecords, jobs, runner, metering, admissions, acknowledgements, musicModel: config.funMusicModel };

  // Holds left by a crash expire on their own, and old records are of no more use (their links
  // expired); the sweep just keeps the tables small.
  const sweepTimer = setInterval(() => {
    sweepReservations(usageStore).catch((error: unknown) => logger.warn({ err: error }, "sweeping expired quota holds failed"));
    songRecords.prune(SONG_RECORD_DAYS * DAY_MS).catch((error: unknown) => logger.warn({ err: error }, "pruning old song records failed"));
    conversations.prune().catch((error: unknown) => logger.warn({ err: error }, "pruning old conversations failed"));
    jobs.pruneFinished(SONG_RECORD_DAYS * DAY_MS).catch((error: unknown) => logger.warn({ err: error }, "pruning old jobs failed"));
  }, 5 * 60 * 1000);
  sweepTimer.unref();

  const routeInteraction = createInteractionRouter(
    {
      slashCommands: [
        createSongCommand(songServices),
        createSettingsCommand(guildSettings),
        createUsageCommand({ store: usageStore, ownerIds: config.ownerIds }),
        createLimitsCommand({ store: usageStore }),
      ],
      messageCommands: [createAnalyzeAudioCommand(analysisServices)],
      buttons: {
        "song-action": (interaction, id, context) => handleSongButton(interaction, id, { ...songServices, analysis: analysisServices }, context),
        "analysis-action": (interaction, id, context) => handleAnalysisAction(interaction, id, analysisServices, context),
        "analysis-page": (interaction, id, context) => handleAnalysisPage(interaction, id, analysisServices, context),
        "analysis-share": (interaction, id, context) => handleAnalysisShare(interaction, id, analysisServices, context),
        "job-action": (interaction, id, context) =>
          handleJobAction(
            interaction,
            id,
            {
              jobs,
              runner,
              metering,
              admissions,
              acknowledgements,
              retry: {
                song: (retryInteraction, job, retryContext) => retrySong(retryInteraction, job, songServices, retryContext),
                analysis: (retryInteraction, job, retryContext) => retryAnalysis(retryInteraction, job, analysisServices, retryContext),
              },
            },
            context,
          ),
      },
      selects: {
        "analysis-pick": (interaction, id, context) => handleAnalysisPick(interaction, id, analysisServices, context),
      },
      modals: {
        "song-new-modal": (interaction, id, context) => handleNewSongModal(interaction, id, songServices, context),
        "song-edit-modal": (interaction, id, context) => handleEditLyricsModal(interaction, id, songServices, context),
        "analysis-ask-modal": (interaction, id, context) => handleAskQuestionModal(interaction, id, analysisServices, context),
      },
    },
    logger,
  );

  client.on(Events.InteractionCreate, (interaction) => void routeInteraction(interaction));
  client.on(Events.Error, (error) => logger.error({ err: error }, "discord client error"));
  client.on(Events.ShardDisconnect, (event, shardId) => logger.warn({ code: event.code, shardId }, "gateway disconnected"));
  // Server names for `npm run report`; a write that fails costs only a label.
  const nameWrites = new Set<Promise<void>>();
  const rememberNames = (guilds: GuildName[]) => {
    const write = rememberGuildNames(usageStore, guilds)
      .catch((error: unknown) => logger.warn({ err: error }, "storing server names failed"))
      .finally(() => nameWrites.delete(write));
    nameWrites.add(write);
  };
  client.on(Events.GuildCreate, (guild) => rememberNames([{ id: guild.id, name: guild.name }]));
  client.on(Events.GuildUpdate, (_before, guild) => rememberNames([{ id: guild.id, name: guild.name }]));
  client.rest.on(RESTEvents.Response, (_request, response) => {
    if (response.status >= 400) metrics.discordRestError(response.status);
  });

  const ready = new Promise<void>((resolve) => {
    client.once(Events.ClientReady, async (readyClient) => {
      logger.info({ user: readyClient.user.tag, guilds: readyClient.guilds.cache.size }, "connected to Discord");
      rememberNames(readyClient.guilds.cache.filter((guild) => guild.available).map((guild) => ({ id: guild.id, name: guild.name })));
      if (!registersCommands(readyClient)) return resolve();
      try {
        const definitions = allCommandDefinitions();
        if (config.devGuildId) await readyClient.application.commands.set(definitions, config.devGuildId);
        else await readyClient.application.commands.set(definitions);
        logger.info({ commands: definitions.map((d) => d.name), scope: config.devGuildId ? `guild ${config.devGuildId}` : "global" }, "commands registered");
      } catch (error) {
        logger.error({ err: error }, "registering commands failed; existing registrations stay in effect");
      }
      logger.info({ inviteUrl: inviteUrl(readyClient.application.id) }, "invite the bot to a server with this link");
      resolve();
    });
  });

  // Free (an upload policy), and run beside the login: a refused key is worth a loud line at
  // start, not a bot that won't start. checkDashScopeKey never rejects.
  const dashscopeKeyCheck = checkDashScopeKey(dashscope, { baseUrl: config.dashscopeBaseUrl, model: config.qwenAudioModel, timeoutMs: 10_000 });
  let http: RunningHttpServer | undefined;
  try {
    if (config.http) {
      http = await startHttpServer({
        ...config.http,
        checks: [
          // Every shard of this process; with one process per shard, the manager adds a check per process.
          { name: "discord", check: () => client.isReady() && client.ws.shards.every((shard) => shard.status === Status.Ready) },
          databaseCheck(usageStore.db),
        ],
        metrics: () => metrics.registry,
        logger: logger.child({ component: "http" }),
      });
      logger.info({ url: http.url }, "health and metrics listening (/healthz, /metrics)");
    }
    await client.login(config.discordToken);
  } catch (error) {
    clearInterval(sweepTimer);
    await http?.close();
    await usageStore.close();
    throw explainUnreachable(error, "Discord", config.discordApiUrl);
  }
  await ready;
  const keyCheck = await dashscopeKeyCheck;
  if (keyCheck.ok) logger.info(keyCheck.message);
  else logger.error({ problem: keyCheck.problem }, keyCheck.message);
  // Jobs of a previous run (or of a process that died) are recovered before new work is taken.
  await runner.sweep();
  await runner.pump();

  return {
    client,
    usageStore,
    jobs,
    metrics,
    http,
    async stop(graceMs = 60_000) {
      const { interrupted } = await runner.stop(graceMs);
      if (interrupted > 0) logger.warn({ interrupted }, "stopped with jobs still running: they were interrupted");
      clearInterval(sweepTimer);
      await http?.close();
      await client.destroy();
      await Promise.all(nameWrites);
      await usageStore.close();
    },
  };
}

async function main(): Promise<void> {
  const { config: loadEnvFile } = await import("dotenv");
  loadEnvFile({ quiet: true });
  const parsed = parseConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(`dashtune cannot start; fix these settings (see .env.example):\n${parsed.problems.map((p) => `  - ${p}`).join("\n")}\n`);
    process.exit(1);
  }
  const config = parsed.config;
  const role = processRole(config, process.env);
  const baseLogger = createLogger({ level: config.logLevel, secrets: secretsOf(config), format: chooseLogFormat(config.logFormat, Boolean(process.stdout.isTTY)) });
  const logger = role.kind === "shard" ? baseLogger.child({ shard: role.shardId, pid: process.pid }) : baseLogger;
  const graceMs = 60_000;
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));

  let stopping = false;
  const onStopSignal = (stopAll: () => Promise<void>) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, role.kind === "manager" ? "shutting down: stopping every shard" : "shutting down: finishing songs under way");
      void stopAll().finally(() => {
        logger.info("stopped");
        logger.flush();
        process.exit(0);
      });
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
    // A shard whose manager is gone (killed outright) stops as on SIGTERM rather than run on unmanaged.
    if (role.kind === "shard") process.on("disconnect", () => stop("manager gone"));
  };

  if (role.kind === "manager") {
    // Each shard process runs this same entry; under tsx (tests, development) it is the .ts file.
    const entryFile = fileURLToPath(import.meta.url);
    try {
      const shards = await startShardProcesses({
        config,
        logger: logger.child({ component: "shards" }),
        entryFile,
        execArgv: entryFile.endsWith(".ts") ? ["--import", "tsx"] : process.execArgv,
        graceMs,
      });
      onStopSignal(() => shards.stop(graceMs));
      await shards.ready;
      logger.info({ shardCount: shards.shardCount }, "every shard is ready");
    } catch (error) {
      if (stopping) return;
      logger.fatal({ err: error }, "could not start the shards");
      logger.flush();
      process.exit(1);
    }
    return;
  }

  // discord.js's Client reads SHARD_COUNT from the environment too; unsharded, an empty line in
  // .env would read as 0 shards. The value is in `config` now.
  if (role.kind === "single") delete process.env.SHARD_COUNT;
  let bot: RunningBot | undefined;
  // A shard inherits HTTP_PORT from the manager, which alone listens and asks each shard over IPC.
  if (role.kind === "shard") answerManagerQuestions(parentProcessPeer(process), () => bot);
  const starting = startBot(role.kind === "shard" ? { ...config, http: undefined } : config, logger);
  // A signal during start-up (a respawned shard told to stop at once) stops the bot once it is up.
  onStopSignal(async () => (await starting).stop(graceMs));
  try {
    bot = await starting;
  } catch (error) {
    logger.fatal({ err: error }, "could not start");
    logger.flush();
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
