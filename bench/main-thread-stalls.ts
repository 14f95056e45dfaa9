/**
 * Main-thread stalls during the bot's heavy operations (issue 8: none over 50 ms), each measured
 * with the 1 ms probe of stall-probe.ts over `--runs` runs after a warm-up:
 * - delivering a 10 MB wav to Discord: @discordjs/rest (what discord.js's `editReply({ files })`
 *   ends in) posting to a local HTTP server that reads the whole upload, as given today (a Buffer,
 *   no content type) and with the content type set (see BENCHMARKS.md for why that matters);
 * - a re-encode: `fitUnderBytes` of a 200 s 48 kHz stereo wav under 10 MiB;
 * - a split of a 10-minute recording (48 kHz stereo wav) into ≤30 s mp3 parts;
 * - a usage chart render of 366 days (the bot's worker-thread path).
 *
 *   npx tsx bench/main-thread-stalls.ts [--runs 5] [--quick]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { REST } from "@discordjs/rest";
import { pino } from "pino";
import { createAudioTools, locateFfmpeg, makeWav } from "../src/audio/index.js";
import { renderDailyUsageChart } from "../src/reports/usage-chart.js";
import { formatStalls, loadAverage, withStallProbe, type StallFigures } from "./stall-probe.js";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "5" }, quick: { type: "boolean", default: false } } });
const runs = args.quick ? 1 : Number(args.runs);

const located = locateFfmpeg({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH, pathEnv: process.env.PATH });
const tools = createAudioTools({ ffmpegPath: located.ffmpegPath, ffprobePath: located.ffprobePath, logger: pino({ level: "silent" }), timeoutMs: 600_000 });

/** A stand-in for Discord's API: reads the whole multipart upload, answers like "edit message". */
async function startUploadSink(): Promise<{ api: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.on("data", () => {});
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: "1", channel_id: "1", content: "", attachments: [] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { api: `http://127.0.0.1:${port}/api`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Worst of each figure over the runs (after one warm-up run when there are several). */
async function measure(label: string, work: () => Promise<unknown>): Promise<void> {
  if (runs > 1) await work();
  const all: StallFigures[] = [];
  for (let i = 0; i < runs; i++) all.push((await withStallProbe(work)).stalls);
  const worst = (key: keyof StallFigures) => Math.max(...all.map((figures) => figures[key]));
  const sum = (key: keyof StallFigures) => all.reduce((total, figures) => total + figures[key], 0);
  console.log(
    `  ${label.padEnd(58)} ${formatStalls({ p50: worst("p50"), p99: worst("p99"), max: worst("max"), histogramMax: worst("histogramMax"), over50: sum("over50"), ticks: sum("ticks") })}`,
  );
}

console.log(`node ${process.version}; ${runs} run(s) per case, worst run shown; ${loadAverage()} on ${availableParallelism()} CPUs`);

const sink = await startUploadSink();
const rest = new REST({ api: sink.api, version: "10" }).setToken("bench-token-not-secret");
const songWav = makeWav({ seconds: 52, sampleRate: 48_000, channels: 2, frequencyHz: 440 }); // ≈ 10 MB
const deliver = (contentType: string | undefined) => () =>
  rest.patch("/webhooks/1/token/messages/@original", {
    files: [{ name: "song.wav", data: songWav, ...(contentType === undefined ? {} : { contentType }) }],
    body: { content: "" },
  });
/**
 * The same upload with a multipart body we build ourselves and hand over as an async iterable of
 * the three parts (head, the song's own Buffer, tail): nothing copies the song, and undici writes
 * each part to the socket as it is; @discordjs/rest passes such a body through unchanged.
 */
const deliverPrebuilt = () => {
  const boundary = `dashtune${Date.now().toString(36)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="payload_json"\r\nContent-Type: application/json\r\n\r\n` +
      `${JSON.stringify({ content: "", attachments: [{ id: 0, filename: "song.wav" }] })}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="files[0]"; filename="song.wav"\r\nContent-Type: audio/wav\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return rest.patch("/webhooks/1/token/messages/@original", {
    body: (async function* () {
      yield head;
      yield songWav;
      yield tail;
    })(),
    passThroughBody: true,
    headers: { "Content-Type": `multipart/form-data; boundary=${boundary}`, "Content-Length": String(head.length + songWav.length + tail.length) },
  });
};
console.log(`\ndelivery of a ${(songWav.length / 1e6).toFixed(1)} MB wav through @discordjs/rest:`);
await measure("files: [Buffer] (what discord.js's editReply sends today)", deliver(undefined));
await measure("files: [Buffer] with contentType", deliver("audio/wav"));
await measure("pre-built multipart, passThroughBody (no copy of the song)", deliverPrebuilt);
await sink.close();

console.log("\nre-encode and split:");
const longSong = makeWav({ seconds: 200, sampleRate: 48_000, channels: 2, frequencyHz: 440 });
await measure("fitUnderBytes, 200 s 48 kHz stereo wav under 10 MiB", () => tools.fitUnderBytes(longSong, "wav", 10 * 1024 * 1024));
const recording = makeWav({ seconds: 600, sampleRate: 48_000, channels: 2, frequencyHz: 220 });
await measure("split, 10-minute 48 kHz stereo wav into ≤30 s mp3 parts", () =>
  tools.split(recording, 30, { format: "mp3", bitrateKbps: 64, channels: 1, sampleRate: 16_000 }),
);

console.log("\nchart:");
const points = Array.from({ length: 366 }, (_, i) => ({
  day: new Date(Date.parse("2025-01-01T00:00:00Z") + i * 86_400_000).toISOString().slice(0, 10),
  songs: 5 + (i % 7),
  analyses: 3 + (i % 5),
  musicSeconds: (i * 997) % 5400,
  tokens: 40_000 + ((i * 7919) % 900_000),
}));
await measure("usage chart, 366 days (worker thread)", () => renderDailyUsageChart(points, { title: "Usage", metric: "requests" }));
console.log(`\n${loadAverage()} at the end`);
