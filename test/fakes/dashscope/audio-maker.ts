import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ffmpegInstaller from "@ffmpeg-installer/ffmpeg";

/**
 * Real audio for the fake's songs: 48 kHz, stereo, 16-bit — what the seed's `extra_info` reports
 * (`channels: 2`, `sample_rate: "48000"`).
 *
 * WAV is synthesised here (a four-chord loop with a pentatonic melody and a bass line);
 * MP3 is the same PCM encoded by ffmpeg/libmp3lame at 160 kbps CBR. Output is deterministic:
 * the same (format, seconds, watermark, gender) always gives the same bytes, so results are cached
 * per process and shared between fakes.
 *
 * The AIGC watermark is the seed's "Morse code audio signal representing 'AI' (·— ··)" appended
 * to the end: WATERMARK_SECONDS of tail, so a watermarked song is that much longer and
 * `usage.duration` grows with it.
 */

export const SAMPLE_RATE = 48_000;
export const CHANNELS = 2;
export const WATERMARK_SECONDS = 2;

export type AudioFormat = "mp3" | "wav";

export type SongSpec = {
  seconds: number;
  format: AudioFormat;
  watermark: boolean;
  gender: "male" | "female";
};

export type SongAudio = {
  bytes: Buffer;
  /** Seconds of audio, watermark included. */
  seconds: number;
  contentType: string;
};

export const CONTENT_TYPES: Record<AudioFormat, string> = { mp3: "audio/mpeg", wav: "audio/wav" };

const cache = new Map<string, Promise<SongAudio>>();
const CACHE_LIMIT = 24;

/** The song for `spec`, made once per process and then served from memory. */
export function makeSongAudio(spec: SongSpec): Promise<SongAudio> {
  const key = `${spec.format}:${spec.seconds}:${spec.watermark}:${spec.gender}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const made = produce(spec);
  made.catch(() => cache.delete(key));
  cache.set(key, made);
  if (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return made;
}

async function produce(spec: SongSpec): Promise<SongAudio> {
  const pcm = synthesisePcm(spec);
  const seconds = pcm.length / (SAMPLE_RATE * CHANNELS * 2);
  const bytes = spec.format === "wav" ? Buffer.concat([wavHeader(pcm.length), pcm]) : await encodeMp3(pcm);
  return { bytes, seconds, contentType: CONTENT_TYPES[spec.format] };
}

function midiToHz(note: number): number {
  return 440 * 2 ** ((note - 69) / 12);
}

/** C – G – Am – F, two seconds a chord. Roots as MIDI notes, with their triads. */
const PROGRESSION = [
  { root: 48, triad: [60, 64, 67] },
  { root: 43, triad: [55, 59, 62] },
  { root: 45, triad: [57, 60, 64] },
  { root: 41, triad: [53, 57, 60] },
] as const;
const PENTATONIC = [0, 2, 4, 7, 9, 12, 14, 16] as const;
const BEAT_SECONDS = 0.5;
const BAR_SECONDS = 2;

/** Interleaved s16le PCM for the song and, when asked, the Morse tail. */
function synthesisePcm(spec: SongSpec): Buffer {
  const songFrames = Math.round(spec.seconds * SAMPLE_RATE);
  const tailFrames = spec.watermark ? WATERMARK_SECONDS * SAMPLE_RATE : 0;
  const pcm = Buffer.alloc((songFrames + tailFrames) * CHANNELS * 2);
  const melodyBase = spec.gender === "male" ? 60 : 72;

  // One melody note per beat, from a small linear congruential generator: deterministic.
  const beats = Math.ceil(spec.seconds / BEAT_SECONDS) + 1;
  const melody: number[] = [];
  let seed = spec.gender === "male" ? 7 : 11;
  for (let i = 0; i < beats; i += 1) {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    melody.push(melodyBase + (PENTATONIC[seed % PENTATONIC.length] ?? 0));
  }

  const edge = 0.05 * SAMPLE_RATE;
  for (let frame = 0; frame < songFrames; frame += 1) {
    const t = frame / SAMPLE_RATE;
    const chord = PROGRESSION[Math.floor(t / BAR_SECONDS) % PROGRESSION.length] ?? PROGRESSION[0];
    const beat = Math.floor(t / BEAT_SECONDS);
    const inBeat = t - beat * BEAT_SECONDS;
    const noteEnvelope = Math.min(1, inBeat / 0.01) * Math.exp(-3 * inBeat);
    const melodyHz = midiToHz(melody[beat] ?? melodyBase);
    const lead = Math.sin(2 * Math.PI * melodyHz * t) * noteEnvelope;
    const bass = Math.sin(2 * Math.PI * midiToHz(chord.root) * t) * 0.8;
    let pad = 0;
    for (const note of chord.triad) pad += Math.sin(2 * Math.PI * midiToHz(note) * t);
    const fade = Math.min(1, frame / edge, (songFrames - frame) / edge);
    const left = (0.42 * lead + 0.22 * bass + 0.06 * pad) * fade;
    const right = (0.3 * lead + 0.22 * bass + 0.1 * pad) * fade;
    writeFrame(pcm, frame, left, right);
  }
  if (spec.watermark) writeMorseTail(pcm, songFrames);
  return pcm;
}

/**
 * "AI" in Morse: A = ·—, I = ··. Standard timing (dot 1 unit, dash 3, gap inside a letter 1,
 * between letters 3) is 11 units; with 0.12 s units and 0.34 s of silence either side the tail is
 * exactly WATERMARK_SECONDS long, so `usage.duration` stays a whole number.
 */
function writeMorseTail(pcm: Buffer, startFrame: number): void {
  const unit = 0.12;
  const tones: Array<[startUnits: number, lengthUnits: number]> = [
    [0, 1], // ·
    [2, 3], // —
    [8, 1], // ·
    [10, 1], // ·
  ];
  const lead = 0.34;
  const ramp = 0.005;
  for (const [startUnits, lengthUnits] of tones) {
    const from = Math.round((lead + startUnits * unit) * SAMPLE_RATE);
    const length = Math.round(lengthUnits * unit * SAMPLE_RATE);
    for (let i = 0; i < length; i += 1) {
      const t = i / SAMPLE_RATE;
      const envelope = Math.min(1, t / ramp, (length - i) / SAMPLE_RATE / ramp);
      const value = 0.5 * envelope * Math.sin(2 * Math.PI * 1000 * t);
      writeFrame(pcm, startFrame + from + i, value, value);
    }
  }
}

function writeFrame(pcm: Buffer, frame: number, left: number, right: number): void {
  const offset = frame * CHANNELS * 2;
  pcm.writeInt16LE(Math.round(Math.max(-1, Math.min(1, left)) * 32_767), offset);
  pcm.writeInt16LE(Math.round(Math.max(-1, Math.min(1, right)) * 32_767), offset + 2);
}

/** The canonical 44-byte RIFF/WAVE header for PCM s16le at SAMPLE_RATE, CHANNELS. */
function wavHeader(dataBytes: number): Buffer {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(CHANNELS, 22);
  header.writeUInt32LE(SAMPLE_RATE, 24);
  header.writeUInt32LE(SAMPLE_RATE * CHANNELS * 2, 28);
  header.writeUInt16LE(CHANNELS * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/**
 * PCM → MP3 with ffmpeg. The output goes to a temporary file, not a pipe, so ffmpeg can seek back
 * and fill in the Xing/LAME header: players and ffprobe then read the exact duration.
 */
async function encodeMp3(pcm: Buffer): Promise<Buffer> {
  const out = join(tmpdir(), `fake-dashscope-${randomBytes(8).toString("hex")}.mp3`);
  const args = [
    ...["-hide_banner", "-loglevel", "error", "-y"],
    ...["-f", "s16le", "-ar", String(SAMPLE_RATE), "-ac", String(CHANNELS), "-i", "pipe:0"],
    ...["-c:a", "libmp3lame", "-b:a", "160k", "-ar", String(SAMPLE_RATE), "-ac", String(CHANNELS)],
    ...["-map_metadata", "-1", "-f", "mp3", out],
  ];
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(ffmpegInstaller.path, args, { stdio: ["pipe", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr}`))));
      child.stdin.on("error", () => undefined); // EPIPE surfaces through "close" with stderr
      child.stdin.end(pcm);
    });
    return await readFile(out);
  } finally {
    await rm(out, { force: true });
  }
}
