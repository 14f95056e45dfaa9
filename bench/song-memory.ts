/**
 * Memory of songs in flight (issue 8, item 2): `--songs` members (default 200) send `/song` at once
 * with `SONG_CONCURRENCY` equal to that number, each song a ~5 MB mp3 (the fake's 160 kbps CBR,
 * `--song-seconds` 250), and the bot's resident memory is sampled every 50 ms from
 * /proc/<pid>/status (VmRSS; VmHWM, the kernel's own peak, is reset before the burst) until every
 * song is posted.
 *
 *   npx tsx bench/song-memory.ts [--songs 200] [--song-seconds 250] [--generation-ms 2000]
 *
 * The bot runs in a child process of its own (`node --import tsx src/main.ts`, bench/crowd.ts), so
 * the fakes, which hold every song too (the fake Discord keeps each upload), are not counted.
 * Baseline: the bot's RSS once it has posted one song and settled. Per song: (peak − baseline) /
 * the most songs in flight at once / the song's size; in flight = Fun-Music calls started − songs
 * posted. The peak often comes as the last songs are posted: RSS holds the garbage of songs
 * already posted until V8 collects it, and that is memory the machine must have. Linux only.
 * BENCH_BOT_NODE_OPTIONS, if set, becomes the bot's NODE_OPTIONS (e.g. an `--import` preload that
 * logs `process.memoryUsage()`, to see which part of the memory grows).
 */
import { readFile, writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { makeSongAudio } from "../test/fakes/dashscope/audio-maker.js";
import type { FakeDiscord } from "../test/fakes/discord/index.js";
import { percentile, sendSongBurst, startCrowdBot, waitUntil } from "./crowd.js";
import { loadAverage } from "./stall-probe.js";

const { values: args } = parseArgs({
  options: {
    songs: { type: "string", default: "200" },
    "song-seconds": { type: "string", default: "250" },
    "generation-ms": { type: "string", default: "2000" },
    "timeout-s": { type: "string", default: "300" },
  },
});
const songs = Number(args.songs);
const songSeconds = Number(args["song-seconds"]);
const MUSIC_PATH = "/api/v1/services/audio/music/generation";
const MB = 1e6;

/** VmRSS and VmHWM of a process, in bytes. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

/** Accepted bot edits of an interaction's reply that carry a file. */
function postings(discord: FakeDiscord) {
  return discord.requests.filter((request) => request.method === "PATCH" && request.files.length > 0 && request.status < 300);
}

/** Songs posted: interactions whose reply got a file (one posted twice counts once). */
function songsPosted(discord: FakeDiscord): number {
  return new Set(postings(discord).map((request) => request.interactionId)).size;
}

const song = await makeSongAudio({ format: "mp3", seconds: songSeconds, watermark: false, gender: "female" });
console.log(
  `${songs} songs of ${(song.bytes.length / MB).toFixed(2)} MB (mp3, ${songSeconds} s) in flight, SONG_CONCURRENCY=${songs}, ` +
    `${args["generation-ms"]} ms per song; bot in a child process; ${loadAverage()}`,
);

const bot = await startCrowdBot({
  child: true,
  dashscope: { generationMs: Number(args["generation-ms"]), songSeconds },
  env: { SONG_CONCURRENCY: String(songs), LOG_LEVEL: "info", ...(process.env.BENCH_BOT_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_BOT_NODE_OPTIONS } : {}) },
});
try {
  // One song end to end first, so that what a song loads once (ffmpeg checks, modules) is in the baseline.
  await sendSongBurst(bot.discord, 1, { label: "warmup" });
  await waitUntil(() => songsPosted(bot.discord) >= 1, "the warm-up song", 60_000);
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const settled: number[] = [];
  for (let i = 0; i < 20; i++) {
    settled.push((await memoryOf(bot.pid)).rss);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const baseline = percentile(settled, 50);
  // Writing 5 to clear_refs resets VmHWM (proc(5)), so the kernel's peak is the burst's.
  const hwmReset = await writeFile(`/proc/${bot.pid}/clear_refs`, "5").then(() => true, () => false);

  const postedBefore = songsPosted(bot.discord);
  const callsBefore = bot.dashscope.requests.filter((request) => request.path === MUSIC_PATH).length;
  let peak = { rss: 0, inFlight: 0, atMs: 0 };
  let maxInFlight = 0;
  const started = performance.now();
  let done = false;
  const sampling = (async () => {
    while (!done) {
      const { rss } = await memoryOf(bot.pid);
      const calls = bot.dashscope.requests.filter((request) => request.path === MUSIC_PATH).length - callsBefore;
      const inFlight = calls - (songsPosted(bot.discord) - postedBefore);
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (rss > peak.rss) peak = { rss, inFlight, atMs: performance.now() - started };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await sendSongBurst(bot.discord, songs);
  await waitUntil(() => songsPosted(bot.discord) - postedBefore >= songs, `${songs} songs posted`, Number(args["timeout-s"]) * 1000, 200).catch((error: unknown) => {
    const problems = bot.logs().filter((line) => Number(line.level) >= 40).map((line) => String(line.msg));
    const counts = [...new Set(problems)].map((msg) => `${msg} ×${problems.filter((m) => m === msg).length}`);
    console.log(`  ${songsPosted(bot.discord) - postedBefore} of ${songs} posted; bot warnings and errors: ${counts.join("; ") || "none"}`);
    throw error;
  });
  done = true;
  await sampling;
  const kernelPeak = (await memoryOf(bot.pid)).peak;
  const postedTwice = postings(bot.discord).length - songsPosted(bot.discord);
  if (postedTwice > 0) console.log(`  ${postedTwice} song(s) posted more than once (the same reply edited with its file again)`);
  const seconds = (performance.now() - started) / 1000;

  const perSong = (peak.rss - baseline) / Math.max(1, maxInFlight);
  console.log(`  baseline RSS ${(baseline / MB).toFixed(0)} MB; all ${songs} posted in ${seconds.toFixed(1)} s; most in flight at once ${maxInFlight}`);
  console.log(`  peak RSS sampled ${(peak.rss / MB).toFixed(0)} MB at ${(peak.atMs / 1000).toFixed(1)} s with ${peak.inFlight} in flight` + (hwmReset ? `; kernel's peak (VmHWM) ${(kernelPeak / MB).toFixed(0)} MB` : "; VmHWM could not be reset"));
  console.log(
    `  per song in flight: ${(perSong / MB).toFixed(2)} MB = ${(perSong / song.bytes.length).toFixed(2)}× the song's size (target ≤ 1.5×); ` +
      `peak ${(peak.rss / 1e9).toFixed(2)} GB (target < 1.5 GB for 200); ${loadAverage()}`,
  );
} finally {
  await bot.close();
}
