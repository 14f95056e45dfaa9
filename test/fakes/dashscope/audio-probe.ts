import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg";
import ffprobeInstaller from "@ffprobe-installer/ffprobe";

/**
 * What the fake's "model" hears in an input file, measured with the real ffprobe/ffmpeg binaries
 * (the npm installer packages, kept apart from the bot's own `src/audio` so the two implementations
 * check each other).
 *
 * - `audio`: the first audio stream decoded; duration from the container, or — for streamed files
 *   with no duration in their header (WebM from MediaRecorder) — from decoding the whole stream.
 * - `not-media`: ffprobe cannot open the bytes and they do not start like an audio/video container
 *   (text, HTML error pages…), or the file opens but holds no audio stream (an image).
 * - `broken-audio`: the bytes start like an audio/video container (ftyp, OggS, RIFF, ID3, an MPEG
 *   frame sync, fLaC, #!AMR, EBML) but cannot be opened or decoded.
 *
 * Results are cached per content hash for the life of the process.
 */

export type ProbedAudio = {
  kind: "audio";
  seconds: number;
  channels: number;
  codec: string;
  sampleRate: number;
  container: string;
  /** First 8 hex digits of the SHA-256 of the bytes: tells pieces apart in answers. */
  fingerprint: string;
  bytes: number;
};

export type ProbeResult = ProbedAudio | { kind: "not-media"; detail: string } | { kind: "broken-audio"; detail: string };

type RunResult = { code: number | null; stdout: string; stderr: string };

function run(binary: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Leading bytes of containers that carry audio. */
export function looksLikeAudioContainer(bytes: Buffer): boolean {
  const ascii = (start: number, end: number): string => bytes.subarray(start, end).toString("latin1");
  if (bytes.length < 4) return false;
  if (ascii(4, 8) === "ftyp") return true; // MP4 / M4A / 3GP
  if (ascii(0, 4) === "OggS" || ascii(0, 4) === "fLaC" || ascii(0, 3) === "ID3") return true;
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WAVE") return true;
  if (ascii(0, 5) === "#!AMR") return true;
  if (bytes.readUInt32BE(0) === 0x1a45dfa3) return true; // EBML: Matroska / WebM
  return bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0; // MPEG audio / ADTS frame sync
}

type FfprobeReport = {
  streams?: Array<{ codec_type?: string; codec_name?: string; channels?: number; sample_rate?: string; duration?: string }>;
  format?: { format_name?: string; duration?: string };
};

const cache = new Map<string, Promise<ProbeResult>>();
const CACHE_LIMIT = 64;

export function probeAudio(bytes: Buffer): Promise<ProbeResult> {
  const hash = createHash("sha256").update(bytes).digest("hex");
  const cached = cache.get(hash);
  if (cached) return cached;
  const probed = measure(bytes, hash.slice(0, 8));
  probed.catch(() => cache.delete(hash));
  cache.set(hash, probed);
  if (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return probed;
}

async function measure(bytes: Buffer, fingerprint: string): Promise<ProbeResult> {
  // A file, not stdin: MP4 keeps its index at the end and Ogg/FLAC durations need seeking.
  const file = join(tmpdir(), `fake-dashscope-input-${randomBytes(8).toString("hex")}`);
  await writeFile(file, bytes);
  try {
    const probe = await run(ffprobeInstaller.path, [
      ...["-v", "error", "-of", "json"],
      ...["-show_entries", "format=format_name,duration:stream=codec_type,codec_name,channels,sample_rate,duration"],
      file,
    ]);
    const brokenOrNot = (detail: string): ProbeResult =>
      looksLikeAudioContainer(bytes) ? { kind: "broken-audio", detail } : { kind: "not-media", detail };
    if (probe.code !== 0) return brokenOrNot(probe.stderr.trim() || `ffprobe exited ${probe.code}`);
    let report: FfprobeReport;
    try {
      report = JSON.parse(probe.stdout) as FfprobeReport;
    } catch {
      return brokenOrNot("ffprobe printed no report");
    }
    const stream = report.streams?.find((s) => s.codec_type === "audio");
    if (stream === undefined) {
      const kinds = (report.streams ?? []).map((s) => s.codec_type ?? "?").join(",") || "none";
      return { kind: "not-media", detail: `no audio stream (${report.format?.format_name ?? "?"}: ${kinds})` };
    }
    let seconds = Number(stream.duration ?? report.format?.duration ?? Number.NaN);
    // Decoding also proves the stream is readable, which ffprobe alone does not.
    const decoded = await run(ffmpegInstaller.path, ["-hide_banner", "-nostats", "-v", "info", "-i", file, "-map", "0:a:0", "-f", "null", "-"]);
    if (decoded.code !== 0) return { kind: "broken-audio", detail: decoded.stderr.trim().split("\n").at(-1) ?? "ffmpeg failed" };
    if (!Number.isFinite(seconds) || seconds <= 0) {
      const times = [...decoded.stderr.matchAll(/time=(\d+):(\d+):(\d+(?:\.\d+)?)/g)];
      const last = times.at(-1);
      seconds = last ? Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3]) : 0;
    }
    if (!(seconds > 0)) return { kind: "broken-audio", detail: "the audio stream decodes to nothing" };
    return {
      kind: "audio",
      seconds,
      channels: stream.channels ?? 1,
      codec: stream.codec_name ?? "unknown",
      sampleRate: Number(stream.sample_rate ?? 0),
      container: report.format?.format_name ?? "unknown",
      fingerprint,
      bytes: bytes.length,
    };
  } finally {
    await rm(file, { force: true });
  }
}
