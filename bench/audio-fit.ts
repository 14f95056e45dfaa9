/**
 * Audio-tools benchmark, with the ffmpeg the bot would use (`locateFfmpeg`: FFMPEG_PATH/FFPROBE_PATH,
 * else PATH, else the @ffmpeg-installer binaries) and the bot's `createAudioTools` defaults
 * (two ffmpeg processes at once):
 * - `fitUnderBytes`: a 200 s 48 kHz stereo 16-bit wav (the size of a long Fun-Music song, ~38 MB)
 *   made to fit Discord's 10 MiB attachment limit as an mp3;
 * - `split`: a 10-minute recording cut into ≤30 s mp3 pieces with the Analyze-audio target
 *   (64 kbps mono 16 kHz, src/analysis/prepare.ts), from a wav and from a 192 kbps mp3.
 * For each: median wall time; the main thread's busy time per call (the encoding is in child
 * processes; this is what the bot's event loop pays for piping, cutting and collecting buffers);
 * the longest event-loop stall seen (the one that matters for Discord's 3 s reply window; it also
 * counts time the OS gave the CPU to others, so it is noisy on a shared machine); the sizes.
 *
 *   npx tsx bench/audio-fit.ts [--runs 3] [--quick]
 *
 * --quick runs each case once. The inputs are sine tones made with makeWav: an encoder spends about
 * as long on a tone as on music at a constant bitrate, but real music would make different sizes
 * only for variable-bitrate output (we use constant bitrates). Not part of the test suite.
 */
import { execFileSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { createAudioTools, locateFfmpeg, makeWav, type AudioTarget } from "../src/audio/index.js";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    quick: { type: "boolean", default: false },
  },
});
const runs = args.quick ? 1 : Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${args.runs}`);

const MIB = 1024 * 1024;
const DISCORD_ATTACHMENT_BYTES = 10 * MIB;
/** The Analyze-audio piece target (src/analysis/prepare.ts) and Qwen-Audio's 30 s limit. */
const PIECE_SECONDS = 30;
const PIECE_TARGET: AudioTarget = { format: "mp3", bitrateKbps: 64, channels: 1, sampleRate: 16_000 };

const located = locateFfmpeg({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH, pathEnv: process.env.PATH });
const version = execFileSync(located.ffmpegPath, ["-version"], { encoding: "utf8" }).split("\n")[0] ?? "?";
const tools = createAudioTools({
  ffmpegPath: located.ffmpegPath,
  ffprobePath: located.ffprobePath,
  logger: pino({ level: "silent" }),
  // Longer than the bot's 120 s default, so that a loaded machine measures slowly instead of failing.
  timeoutMs: 600_000,
});

type Measured = { median: number; busy: number; stall: number };

/** Runs `work` `runs` times (after one warm-up when there is more than one run). */
async function measure<T>(work: () => Promise<T>): Promise<Measured & { last: T }> {
  let last = runs > 1 ? await work() : undefined;
  const times: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const elu = performance.eventLoopUtilization();
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    last = await work();
    times.push(performance.now() - started);
  }
  const busy = performance.eventLoopUtilization(elu).active / runs;
  loop.disable();
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, busy, stall: loop.max / 1e6, last: last as T };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ms = (value: number) => `${value.toFixed(0)} ms`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;

console.log(
  `node ${process.version}; ${version}; ffmpeg from ${located.source} (${located.ffmpegPath}); ` +
    `load average ${loadavg().map((n) => n.toFixed(1)).join(" ")} on ${availableParallelism()} CPUs; ` +
    `${runs} run(s) per case${runs > 1 ? " after a warm-up" : ""}`,
);

// 1. A long song under Discord's attachment limit.
const song = makeWav({ seconds: 200, sampleRate: 48_000, channels: 2, frequencyHz: 440 });
const fit = await measure(() => tools.fitUnderBytes(song, "wav", DISCORD_ATTACHMENT_BYTES));
if (fit.last === undefined) throw new Error("fitUnderBytes found no bitrate that fits");
console.log("\nfitUnderBytes: 200 s 48 kHz stereo wav under 10 MiB");
console.log(`  input ${mb(song.length)} wav → ${fit.last.bitrateKbps} kbps mp3, ${mb(fit.last.audio.length)} (limit ${mb(DISCORD_ATTACHMENT_BYTES)})`);
console.log(`  median ${s(fit.median)}; main thread busy ${s(fit.busy)} per call; longest event-loop stall ${ms(fit.stall)}`);

// 2. A 10-minute recording split for Qwen-Audio.
const recordingWav = makeWav({ seconds: 600, sampleRate: 48_000, channels: 2, frequencyHz: 220 });
const recordingMp3 = await tools.transcode(recordingWav, { format: "mp3", bitrateKbps: 192 });
console.log(`\nsplit: 10-minute recording into ≤${PIECE_SECONDS} s mp3 pieces (64 kbps mono 16 kHz)`);
for (const [label, input] of [
  ["48 kHz stereo wav", recordingWav],
  ["192 kbps 48 kHz stereo mp3", recordingMp3],
] as const) {
  const split = await measure(() => tools.split(input, PIECE_SECONDS, PIECE_TARGET));
  const sizes = split.last.map((piece) => piece.audio.length);
  const total = sizes.reduce((a, b) => a + b, 0);
  const longest = Math.max(...split.last.map((piece) => piece.endSeconds - piece.startSeconds));
  console.log(
    `  from a ${label} (${mb(input.length)}): ${split.last.length} pieces, longest ${longest.toFixed(2)} s, ` +
      `${mb(total)} in all (${(Math.min(...sizes) / 1000).toFixed(0)}–${(Math.max(...sizes) / 1000).toFixed(0)} KB each)`,
  );
  console.log(`    median ${s(split.median)}; main thread busy ${s(split.busy)} per call; longest event-loop stall ${ms(split.stall)}`);
}
