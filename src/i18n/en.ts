/**
 * English user-facing text: the source of truth for every message key. Every other catalog
 * (`zh-CN.ts`, `ja.ts`) must give every key with these parameters: the type checker refuses one
 * that misses a key or uses a parameter English does not have.
 */

import { enUsage } from "./en-usage.js";
import { formatClock, formatInteger } from "./format.js";

/** What a limit counts, as the Fun-Music reference states it; `field` is the input it counts. */
type LimitUnit = "chinese-characters" | "english-characters" | "english-words" | "characters";
type SongField = "lyrics" | "prompt";

const plural = (count: number, one: string, many: string) => (count === 1 ? one : many);

/** `3 Chinese characters`, `1 English word`, `1,200 characters`. */
function counted(count: number, unit: LimitUnit): string {
  const n = formatInteger(count, "en");
  switch (unit) {
    case "chinese-characters":
      return `${n} Chinese ${plural(count, "character", "characters")}`;
    case "english-words":
      return `${n} English ${plural(count, "word", "words")}`;
    case "english-characters":
    case "characters":
      return `${n} ${plural(count, "character", "characters")}`;
  }
}

/** "Your lyrics are", "Your prompt is": lyrics is a plural noun. */
const yourField = (field: SongField) => (field === "lyrics" ? "Your lyrics are" : "Your prompt is");

export const en = {
  ...enUsage,
  // /song: input problems
  "song.input.missing": () => "Give me a **prompt** (a description of the song) or **lyrics** to sing.",
  "song.input.tooShort": (p: { field: SongField; unit: LimitUnit; min: number; actual: number }) =>
    `${yourField(p.field)} too short: ${counted(p.actual, p.unit)}, and Fun-Music needs at least ${counted(p.min, p.unit)}. Add ${formatInteger(p.min - p.actual, "en")} more.`,
  "song.input.tooLong": (p: { field: SongField; unit: LimitUnit; max: number; actual: number }) =>
    `${yourField(p.field)} too long: ${counted(p.actual, p.unit)}, and Fun-Music takes at most ${counted(p.max, p.unit)}. Remove ${formatInteger(p.actual - p.max, "en")}.`,
  "song.input.invisible": (p: { field: SongField }) =>
    `${yourField(p.field)} empty once invisible characters (zero-width spaces, control or text-direction marks) are removed before sending. Type some words and try again. Nothing was sent or charged.`,
  "song.promptIgnored": () =>
    "You gave both lyrics and a prompt. Fun-Music sings the lyrics and ignores the prompt, so your prompt was not used.",

  // /song: progress and result
  "song.progress.queued": (p: { position: number; elapsed: string }) =>
    `⏳ Waiting for a free slot (position ${p.position} in the queue)… ${p.elapsed} waited so far.`,
  "song.progress.generating": (p: { elapsed: string }) => `🎼 Composing your song… ${p.elapsed} elapsed.`,
  "song.progress.streaming": (p: { elapsed: string; audioSeconds: number }) =>
    `🎼 Composing your song… ${p.elapsed} elapsed, ${p.audioSeconds} s of audio received so far.`,
  "song.progress.finishing": (p: { elapsed: string }) => `📦 Preparing the file… ${p.elapsed} elapsed.`,
  "song.untitled": () => "Untitled song",
  "song.embed.vocal": () => "Vocal",
  "song.embed.format": () => "Format",
  "song.embed.duration": () => "Duration",
  "song.embed.prompt": () => "Prompt",
  "song.embed.lyrics": () => "Lyrics",
  "song.embed.lyricsContinued": (p: { part: number }) => `Lyrics (part ${p.part})`,
  "song.embed.noLyrics": () => "*No lyrics came back with this song.*",
  "song.embed.footer": (p: { requestId: string }) => `request_id ${p.requestId}`,
  "song.embed.requestedBy": (p: { user: string }) => `Requested by ${p.user}`,
  "song.vocal.female": () => "Female",
  "song.vocal.male": () => "Male",
  "song.watermark": () => "AIGC watermark",
  "song.delivery.reencoded": (p: { bitrate: number; limitMb: string; url: string; expires: string }) =>
    `The original file is larger than this server's ${p.limitMb} MB upload limit, so this is an MP3 re-encoded at ${p.bitrate} kbps. The original stays downloadable [here](${p.url}) until ${p.expires}.`,
  "song.delivery.linkOnly": (p: { limitMb: string; url: string; expires: string }) =>
    `The song is larger than this server's ${p.limitMb} MB upload limit and could not be made small enough. Download it [here](${p.url}) before it expires ${p.expires}.`,
  "song.delivery.fetchFailed": (p: { url: string; expires: string }) =>
    `The song is ready, but the bot could not fetch the file from DashScope. Download it [here](${p.url}) before it expires ${p.expires}.`,
  "song.delivery.lost": () =>
    "The song was generated but could not be posted, and Fun-Music gave no download link for it. Please try again.",
  "song.button.regenerate": () => "Regenerate",
  "song.button.switchToMale": () => "Switch to male voice",
  "song.button.switchToFemale": () => "Switch to female voice",
  "song.button.editLyrics": () => "Edit lyrics",
  "song.button.analyze": () => "Analyze",
  "song.modal.title": () => "Write a song",
  "song.modal.editTitle": () => "Edit the lyrics",
  "song.modal.lyricsLabel": () => "Lyrics",
  "song.modal.lyricsPlaceholder": () => "[verse]\nYour first lines…\n\n[chorus]\nThe hook…",
  "song.modal.styleLabel": () => "Style (used when no lyrics are given)",
  "song.modal.stylePlaceholder": () => "e.g. upbeat summer folk, acoustic guitar and harmonica",
  "song.record.gone": () =>
    "I no longer have the details of this song (the bot may have restarted). Run `/song` again to make a new one.",
  "song.notYours": () => "Only the person who asked for this song, or a server admin, can use these buttons.",
  "busy": () => "You already have a request in progress. Wait for it to finish, then try again.",

  // Analyze audio
  "analysis.noAudio": () => "That message has no voice message or audio file I can listen to.",
  "analysis.tooLarge": (p: { sizeMb: string; maxMb: string }) =>
    `That file is ${p.sizeMb} MB; I analyse files up to ${p.maxMb} MB.`,
  "analysis.noSoundTrack": (p: { name: string }) => `\`${p.name}\` has no sound to listen to.`,
  "analysis.downloadFailed": () => "I couldn't download that file from Discord. Try again in a moment.",
  "analysis.emptyQuestion": () => "Type a question about the audio first.",
  "analysis.alreadyShared": () => "This answer is already shared in the channel.",
  "analysis.undecodable": (p: { name: string }) => `I couldn't decode \`${p.name}\` as audio. Is the file complete and in a common audio format?`,
  "analysis.progress.preparing": (p: { elapsed: string }) => `🎧 Fetching and preparing the audio… ${p.elapsed}`,
  "analysis.progress.listening": (p: { elapsed: string }) => `🎧 Listening… ${p.elapsed}`,
  "analysis.progress.pieces": (p: { done: number; total: number; elapsed: string }) => `🎧 Listening… ${p.done} of ${p.total} parts done, ${p.elapsed}`,
  "analysis.title.overview": (p: { name: string }) => `What I hear in ${p.name}`,
  "analysis.title.transcribe": () => "Transcript",
  "analysis.title.music": () => "The music",
  "analysis.title.emotion": () => "Emotion",
  "analysis.title.translate": (p: { language: string }) => `Translation into ${p.language}`,
  "analysis.title.ask": (p: { question: string }) => `Q: ${p.question}`,
  "analysis.section.Summary": () => "Summary",
  "analysis.section.Transcript": () => "Transcript",
  "analysis.section.Language": () => "Language",
  "analysis.section.Speaker": () => "Speaker",
  "analysis.section.Emotion": () => "Emotion",
  "analysis.section.Sounds": () => "Sounds and environment",
  "analysis.section.Music": () => "Music",
  "analysis.note.split": (p: { pieces: number; duration: string }) => `The recording (${p.duration}) was longer than 30 s, so I listened to it in ${p.pieces} parts, marked with their time ranges.`,
  "analysis.note.truncated": (p: { analysed: string; duration: string }) => `Only the first ${p.analysed} of ${p.duration} were analysed.`,
  "analysis.note.failedParts": (p: { ranges: string }) => `These parts could not be analysed: ${p.ranges}.`,
  "analysis.note.cutShort": () => "The answer reached the model's length limit and may end early.",
  "analysis.note.otherFiles": (p: { count: number }) => `This message has ${p.count} more audio ${plural(p.count, "file", "files")}: pick one below to analyse it.`,
  "analysis.footer": (p: { page: number; pages: number; model: string }) => `Page ${p.page}/${p.pages} · ${p.model}`,
  "analysis.button.transcribe": () => "Transcribe",
  "analysis.button.music": () => "Describe the music",
  "analysis.button.emotion": () => "Emotion",
  "analysis.button.translate": (p: { language: string }) => `Translate to ${p.language}`,
  "analysis.button.ask": () => "Ask a question",
  "analysis.button.share": () => "Share in channel",
  "analysis.button.previous": () => "Previous",
  "analysis.button.next": () => "Next",
  "analysis.select.placeholder": () => "Analyse another audio file from this message",
  "analysis.modal.title": () => "Ask about this audio",
  "analysis.modal.questionLabel": () => "Your question",
  "analysis.modal.questionPlaceholder": () => "e.g. What instrument plays at the start?",
  "analysis.gone": () => "This analysis has expired (or the bot restarted). Run **Analyze audio** on the message again.",
  "analysis.notYours": () => "Only the person who asked for this analysis can use these buttons.",
  "analysis.sharedBy": (p: { user: string }) => `Shared by ${p.user}`,
  "analysis.shared": () => "Shared in the channel.",

  // Quotas (resets is a Discord timestamp)
  "quota.pending": () =>
    "This server's limit is taken by requests still being made right now. Try again in a few minutes, when they finish.",
  "quota.song-cooldown": (p: { resets: string }) => `Songs have a cooldown. You can make your next one ${p.resets}.`,
  "quota.user-daily-songs": (p: { resets: string }) => `You've made all the songs you can today. The limit resets ${p.resets}.`,
  "quota.user-daily-music-seconds": (p: { resets: string }) => `You've used today's music time. It resets ${p.resets}.`,
  "quota.user-daily-analyses": (p: { resets: string }) => `You've used all of today's audio analyses. They reset ${p.resets}.`,
  "quota.guild-monthly-music-seconds": (p: { resets: string }) =>
    `This server has used its music budget for the month. It resets ${p.resets}; a server admin can raise it with /limits.`,
  "quota.guild-monthly-cost": (p: { resets: string }) =>
    `This server has reached its spending budget for the month. It resets ${p.resets}; a server admin can raise it with /limits.`,

  // Server settings
  "settings.saved.analysisVisibility": (p: { visibility: string }) => `Analyze audio replies are now ${p.visibility} by default in this server.`,
  "settings.visibility.public": () => "public",
  "settings.visibility.private": () => "private (only the person who asked sees them)",
  "settings.needsManageServer": () => "Only members with the Manage Server permission can change these settings.",
  "settings.guildOnly": () => "This command works only inside a server.",

  // DashScope failures, mapped by error code family
  "dashscope.invalidApiKey": () =>
    "The bot's DashScope API key was refused. A server admin needs to check `DASHSCOPE_API_KEY`.",
  "dashscope.accessDenied": () =>
    "The bot's DashScope account has no access to this model. A server admin needs to request access in the DashScope console (Fun-Music is an invitational preview in the Beijing region).",
  "dashscope.arrearage": () =>
    "The bot's DashScope account is out of credit or overdue. A server admin needs to top it up in the Alibaba Cloud console.",
  "dashscope.throttled": (p: { wait: string }) => `DashScope is rate-limiting the bot right now. Try again in ${p.wait}.`,
  "wait.aMinute": () => "a minute",
  "wait.seconds": (p: { seconds: number }) => `${p.seconds} seconds`,
  "dashscope.dataInspection": () => "DashScope's content check refused this request. Change what you sent and try again.",
  "dashscope.mediaUnreadable": () =>
    "DashScope could not fetch or read the audio. Try again; if it keeps happening, tell a server admin.",
  "dashscope.invalidParameter": (p: { reference: string }) =>
    `DashScope refused the request as invalid. Try changing what you sent; if it keeps happening, give a server admin this reference: \`${p.reference}\`.`,
  "dashscope.timeout": () =>
    "DashScope took too long to answer, so the bot stopped waiting. Try again, perhaps with shorter lyrics; if it keeps happening, tell a server admin.",
  "dashscope.network": () => "The bot could not reach DashScope. Try again in a moment.",
  "dashscope.outcomeUnknown": () =>
    "The connection to DashScope broke after your request was sent, so the bot can't tell whether it was made. It may have been charged, so it was not sent again. Try again if you still want it.",
  "dashscope.timeoutMaybeCharged": () =>
    "DashScope took longer than the bot waits, so it stopped waiting. The request may have been charged, so it was not sent again. Try again if you still want it.",
  "dashscope.streamIdle": (p: { seconds: number }) =>
    `DashScope sent nothing for ${p.seconds} seconds, so the bot stopped waiting. The request may have been charged; it was not sent again. Try again if you still want it.`,
  "dashscope.unavailable": () => "DashScope had an internal problem. Try again in a few minutes.",
  "dashscope.malformed": () => "DashScope sent an answer the bot could not read. Try again; if it keeps happening, tell a server admin.",

  // Durable jobs: waiting, restarts, cancel, try again
  "job.progress.requeued": (p: { position: number; elapsed: string }) =>
    `⏳ The bot restarted. Your request kept its place in the queue (position ${p.position})… ${p.elapsed} waited so far.`,
  "job.progress.restarting": () => "⏳ The bot is restarting. Your request keeps its place in the queue and will continue shortly.",
  "job.button.cancel": () => "Cancel",
  "job.button.retry": () => "Try again",
  "job.cancelled": () => "✖️ Cancelled. Nothing was charged.",
  "job.cancel.running": () => "This request is already being made and can't be cancelled: DashScope may already be charging for it.",
  "job.cancel.finished": () => "This request has already finished.",
  "job.gone": () => "This request is no longer known to the bot. Run the command again.",
  "job.notYours": () => "Only the person who asked, or someone who can manage the server, can do that.",
  "job.notRetryable": () => "This request did not fail, so there is nothing to try again.",
  "job.interrupted.restart": () =>
    "The bot restarted while your request was being made, and it could not be recovered. DashScope may still have charged for it. Press **Try again** to ask again.",
  "job.privateExpired": () =>
    "Your private analysis finished after Discord's 15-minute reply window closed, so it can't be shown. Run **Analyze audio** on the message again to see it.",

  // Generic
  "error.unexpected": (p: { reference: string }) =>
    `Something went wrong on my side. If it keeps happening, give a server admin this reference: \`${p.reference}\`.`,
  "error.unknownInteraction": () => "I don't know this button or command any more. Try running the command again.",
  "duration.seconds": (p: { seconds: number }) => formatClock(p.seconds),
} satisfies Record<string, (params: never) => string>;

export type MessageKey = keyof typeof en;
export type MessageParams<K extends MessageKey> = Parameters<(typeof en)[K]>[0];

/**
 * What a translation must be: every key, each taking exactly English's parameters. Declared with
 * `satisfies Catalog`, a catalog that misses a key, adds one, or reads a parameter English does not
 * pass fails `npm run typecheck`.
 */
export type Catalog = { [K in MessageKey]: (typeof en)[K] };
