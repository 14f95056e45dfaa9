import { pathToFileURL } from "node:url";
import { Client, Events, GatewayIntentBits } from "discord.js";
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
import type { SongServices } from "./discord/song/flow.js";
import { askPieces, type AskPiecesDeps } from "./analysis/ask-pieces.js";
import { createMemoryConversationStore } from "./analysis/conversations.js";
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
  type AnalysisServices,
} from "./discord/analysis/flow.js";
import { createAnalyzeAudioCommand } from "./discord/analysis/command.js";
import { createLimitsCommand } from "./discord/usage/limits-command.js";
import { createSettingsCommand } from "./discord/usage/settings-command.js";
import { createUsageCommand } from "./discord/usage/usage-command.js";
import { createJobQueue } from "./jobs/job-queue.js";
import { createLogger, type Logger } from "./log.js";
import { createDownloader, defaultDownloadHosts, hostOfUrl } from "./net/download.js";
import { createDbGuildSettingsStore } from "./settings/guild-settings-db.js";
import { createDbSongRecordStore } from "./songs/song-records-db.js";
import { openUsageStore, sweepReservations, type UsageStore } from "./usage/index.js";
import { createMetering } from "./usage/metering.js";

/**
 * The composition root: config → logger → clients → Discord client. Nothing else wires.
 * `startBot` is exported so end-to-end tests run exactly what `npm start` runs.
 */

/** How long a song's buttons keep working. */
const SONG_RECORD_DAYS = 30;

export type RunningBot = {
  client: Client;
  /** The usage ledger (tests read it; the bot writes it). */
  usageStore: UsageStore;
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
  const metering = createMetering(usageStore, logger.child({ component: "ledger" }));

  const download = createDownloader({
    allowedHosts: [...defaultDownloadHosts, hostOfUrl(config.dashscopeBaseUrl), hostOfUrl(config.discordApiUrl)],
    maxBytes: config.downloadMaxBytes,
  });
  const dashscope = createDashScopeClient({ baseUrl: config.dashscopeBaseUrl, apiKey: config.dashscopeApiKey, logger: logger.child({ component: "dashscope" }) });
  // Located once at boot, so a wrong FFMPEG_PATH stops the bot now rather than failing a paid song later.
  const ffmpeg = locateFfmpeg({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath, pathEnv: process.env.PATH });
  logger.info({ ffmpeg: ffmpeg.ffmpegPath, source: ffmpeg.source, ffprobeSource: ffmpeg.ffprobeSource }, "audio tools located");
  const audioTools = createAudioTools({ ffmpegPath: ffmpeg.ffmpegPath, ffprobePath: ffmpeg.ffprobePath, logger: logger.child({ component: "audio" }) });
  const queue = createJobQueue({ concurrency: config.songConcurrency });

  const guildSettings = createDbGuildSettingsStore(usageStore, { analysisRepliesPublic: config.analysisRepliesPublic });
  const songRecords = createDbSongRecordStore(usageStore);
  const analysisQueue = createJobQueue({ concurrency: config.analysesAtOnce });
  const analysisAskDeps: AskPiecesDeps = {
    ask: (options) => askQwenAudio(dashscope, options),
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
  const analysisServices: AnalysisServices = {
    prepareAndAsk: (source, question, language, log, progress) =>
      prepareAndAsk(source, question, language, { prepare: analysisPrepareDeps(log), ask: analysisAskDeps }, analysisPrepareLimits, progress),
    askPieces: (pieces, question, language, progress) => askPieces(pieces, question, language, analysisAskDeps, progress),
    conversations: createMemoryConversationStore({ maxConversations: 2000, ttlMs: 24 * 60 * 60 * 1000 }),
    guildSettings,
    queue: analysisQueue,
    metering,
    model: config.qwenAudioModel,
    // A streaming answer is worth seeing sooner than song progress, but no more than about once a second.
    progressIntervalMs: Math.min(config.progressIntervalMs, 1000),
  };

  // Holds left by a crash expire on their own, and old song records are of no more use (their links
  // expired); the sweep just keeps the tables small.
  const sweepTimer = setInterval(() => {
    sweepReservations(usageStore).catch((error: unknown) => logger.warn({ err: error }, "sweeping expired quota holds failed"));
    songRecords.prune(SONG_RECORD_DAYS * 24 * 60 * 60 * 1000).catch((error: unknown) => logger.warn({ err: error }, "pruning old song records failed"));
  }, 5 * 60 * 1000);
  sweepTimer.unref();

  const songServices: SongServices = {
    checkSongInput,
    generateSong: (input, options) =>
      generateSong(
        { client: dashscope, model: config.funMusicModel, downloadAudio: (url, options) => download(url, options), maxAudioBytes: config.downloadMaxBytes },
        input,
        options,
      ),
    fitUnderBytes: (audio, format, maxBytes) => audioTools.fitUnderBytes(audio, format, maxBytes),
    songRecords,
    queue,
    metering,
    musicModel: config.funMusicModel,
    progressIntervalMs: config.progressIntervalMs,
    musicTimeoutMs: config.musicTimeoutMs,
  };

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

  // Every message sets its own allowed mentions; this default is the backstop for one that forgets.
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: discordRestOptions(config.discordApiUrl), allowedMentions: { parse: [] } });
  client.on(Events.InteractionCreate, (interaction) => void routeInteraction(interaction));
  client.on(Events.Error, (error) => logger.error({ err: error }, "discord client error"));
  client.on(Events.ShardDisconnect, (event, shardId) => logger.warn({ code: event.code, shardId }, "gateway disconnected"));

  const ready = new Promise<void>((resolve) => {
    client.once(Events.ClientReady, async (readyClient) => {
      logger.info({ user: readyClient.user.tag, guilds: readyClient.guilds.cache.size }, "connected to Discord");
      try {
        const definitions = allCommandDefinitions();
        if (config.devGuildId) await readyClient.application.commands.set(definitions, config.devGuildId);
        else await readyClient.application.commands.set(definitions);
        logger.info({ commands: definitions.map((d) => d.name), scope: config.devGuildId ? `guild ${config.devGuildId}` : "global" }, "commands registered");
      } catch (error) {
        logger.error({ err: error }, "registering commands failed; existing registrations stay in effect");
      }
      resolve();
    });
  });

  try {
    await client.login(config.discordToken);
  } catch (error) {
    clearInterval(sweepTimer);
    await usageStore.close();
    throw error;
  }
  await ready;

  return {
    client,
    usageStore,
    async stop(graceMs = 60_000) {
      const [songs, analyses] = await Promise.all([queue.shutdown(graceMs), analysisQueue.shutdown(graceMs)]);
      const unfinished = songs.unfinished + analyses.unfinished;
      if (unfinished > 0) logger.warn({ unfinished }, "stopping with work still under way");
      clearInterval(sweepTimer);
      await client.destroy();
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
  const logger = createLogger({ level: config.logLevel, secrets: secretsOf(config) });

  let bot: RunningBot;
  try {
    bot = await startBot(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, "could not start");
    logger.flush();
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing songs under way");
    void bot.stop().finally(() => {
      logger.info("stopped");
      logger.flush();
      process.exit(0);
    });
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
