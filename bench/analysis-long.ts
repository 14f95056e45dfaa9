/**
 * Long recordings (issue 8: a 5-minute recording answered within 1.3× the time of a 30 s one, with
 * 2 s per Qwen-Audio call). Against the fake DashScope (test/fakes/dashscope, `generationMs: 2000`:
 * every Qwen-Audio answer takes 2 s) with the real client, upload, ffmpeg and the bot's settings,
 * times the first question of an "Analyze audio" from the downloaded file to the last answer:
 * - the bot's path, `prepareAndAsk` (each part asked as soon as it is uploaded, 11 at once);
 * - for comparison in the same run, the path before it: every part prepared and uploaded, then
 *   asked 3 at a time (`prepareAudio` + `askPieces`, the old ANALYSIS_CONCURRENCY of 3).
 * Recordings are 44.1 kHz stereo mp3 tones (30 s and 300 s), 128 kbps by default: their parts
 * are cut from their own frames without re-encoding (src/analysis/prepare.ts, `COPY_MAX_KBPS`);
 * `--kbps 192` makes recordings whose parts are re-encoded, to time that path. The download is
 * left out (the bytes are handed over in memory), and the upload goes to a local fake: neither
 * depends on the pipeline, but the copied parts are larger to upload (480 KB instead of 240 KB
 * per 30 s at 128 kbps), which a real uplink would feel and this bench does not.
 * Prints each median and the long-to-short ratio of medians, taken in the same run.
 *
 *   npx tsx bench/analysis-long.ts [--runs 3] [--quick] [--kbps 128]
 */
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { askPieces, type AskPiecesDeps } from "../src/analysis/ask-pieces.js";
import { prepareAndAsk } from "../src/analysis/prepare-and-ask.js";
import { partsCopiedFrom, prepareAudio, type PrepareDeps, type PrepareLimits } from "../src/analysis/prepare.js";
import { createAudioTools, locateFfmpeg, makeWav } from "../src/audio/index.js";
import { askQwenAudio, trimConversationToBudget } from "../src/dashscope/audio.js";
import { createDashScopeClient } from "../src/dashscope/client.js";
import { uploadTemporaryFile } from "../src/dashscope/upload.js";
import { startFakeDashScope } from "../test/fakes/dashscope/index.js";
import { loadAverage } from "./stall-probe.js";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "3" }, quick: { type: "boolean", default: false }, kbps: { type: "string", default: "128" } },
});
const runs = args.quick ? 1 : Number(args.runs);
const sourceKbps = Number(args.kbps);
const MODEL_CALL_MS = 2000;
const MODEL = "qwen2-audio-instruct";

const silent = pino({ level: "silent" });
const located = locateFfmpeg({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH, pathEnv: process.env.PATH });
const audioTools = createAudioTools({ ffmpegPath: located.ffmpegPath, ffprobePath: located.ffprobePath, logger: silent });
const fake = await startFakeDashScope({ generationMs: MODEL_CALL_MS });
const client = createDashScopeClient({ baseUrl: fake.baseUrl, apiKey: fake.apiKey, logger: silent });

const recording = async (seconds: number) =>
  audioTools.transcode(makeWav({ seconds, sampleRate: 44_100, channels: 2, frequencyHz: 330 }), { format: "mp3", bitrateKbps: sourceKbps });
const recordings = { short: await recording(30), long: await recording(300) };
const partsCopied = partsCopiedFrom(await audioTools.probe(recordings.long));

/** The bot's defaults (src/config.ts), with the 11 parts a 5-minute recording makes. */
const limits: PrepareLimits = { maxDownloadBytes: 25 * 1024 * 1024, maxPieces: 11, uploadConcurrency: 3, sendDiscordLinks: false };
const askDeps = (concurrency: number): AskPiecesDeps => ({
  ask: (options) => askQwenAudio(client, options),
  fitToBudget: (messages, piece) => trimConversationToBudget(messages, { lastUsage: piece.lastUsage, audioSeconds: piece.endSeconds - piece.startSeconds }),
  model: MODEL,
  concurrency,
  timeoutMs: 120_000,
});
const prepareDeps = (bytes: Buffer): PrepareDeps => ({
  download: async () => bytes,
  audioTools,
  upload: (file) => uploadTemporaryFile({ client, logger: silent }, { ...file, model: MODEL, timeoutMs: 120_000 }),
  log: silent,
});
const source = (bytes: Buffer) => ({ name: "recording.mp3", url: "https://cdn.discordapp.com/recording.mp3", contentType: "audio/mpeg", sizeBytes: bytes.length, durationSeconds: null, isVoiceMessage: false });

type Path = (bytes: Buffer) => Promise<number>;
/** The bot's path: returns the number of parts answered. */
const pipelined: Path = async (bytes) =>
  (await prepareAndAsk(source(bytes), { kind: "overview" }, "English", { prepare: prepareDeps(bytes), ask: askDeps(11) }, limits)).result.answers.length;
/** Before: prepare everything, then ask 3 parts at a time. */
const sequential: Path = async (bytes) => {
  const prepared = await prepareAudio(source(bytes), prepareDeps(bytes), limits);
  const pieces = prepared.pieces.map((piece) => ({ ...piece, history: [], lastUsage: undefined }));
  return (await askPieces(pieces, { kind: "overview" }, "English", askDeps(3))).answers.length;
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function timeOf(path: Path, bytes: Buffer): Promise<{ ms: number; parts: number }> {
  const started = performance.now();
  const parts = await path(bytes);
  return { ms: performance.now() - started, parts };
}

console.log(`node ${process.version}; fake DashScope at ${MODEL_CALL_MS} ms per Qwen-Audio call; ${runs} run(s), short and long alternating; ${loadAverage()} on ${availableParallelism()} CPUs`);
console.log(`  recordings: ${sourceKbps} kbps mp3, parts ${partsCopied ? "cut from their own frames (no encode)" : "re-encoded to 16 kHz mono 64 kbps"}`);
await timeOf(pipelined, recordings.short); // warm-up: policy cache, ffmpeg on disk
for (const [label, path] of [
  ["prepareAndAsk (the bot's path: pipelined, 11 parts at once)", pipelined],
  ["prepare all, then ask 3 at a time (before)", sequential],
] as const) {
  const short: number[] = [];
  const long: number[] = [];
  let parts = { short: 0, long: 0 };
  for (let i = 0; i < runs; i++) {
    const s = await timeOf(path, recordings.short);
    const l = await timeOf(path, recordings.long);
    short.push(s.ms);
    long.push(l.ms);
    parts = { short: s.parts, long: l.parts };
  }
  const ratio = median(long) / median(short);
  console.log(`  ${label}`);
  console.log(
    `    30 s (${parts.short} part): median ${(median(short) / 1000).toFixed(2)} s; 5 min (${parts.long} parts): median ${(median(long) / 1000).toFixed(2)} s; ` +
      `long-to-short ratio ${ratio.toFixed(2)}× (goal ≤ 1.3×)`,
  );
}
console.log(`${loadAverage()} at the end`);
await fake.close();
