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
 * WAV is synthesised here (drums, a bass line, a four-chord pad and a repeating pentatonic melody);
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

/** C – G – Am – F, one bar (two seconds) a chord. Roots as MIDI notes, with their triads. */
const PROGRESSION = [
  { root: 36, triad: [60, 64, 67] },
  { root: 43, triad: [59, 62, 67] },
  { root: 45, triad: [60, 64, 69] },
  { root: 41, triad: [60, 65, 69] },
] as const;
/** C major pentatonic, in semitones above the melody's base note. */
const PENTATONIC = [0, 2, 4, 7, 9, 12] as const;
const BEAT_SECONDS = 0.5;
const EIGHTH_SECONDS = BEAT_SECONDS / 2;
const BAR_SECONDS = 4 * BEAT_SECONDS;
/** Which eighths of a bar the melody plays (1) or rests on (0): two rhythms, alternated by bar. */
const MELODY_RHYTHMS = [
  [1, 0, 1, 1, 0, 1, 1, 0],
  [1, 1, 0, 1, 1, 0, 1, 0],
] as const;

/** A deterministic generator (a 32-bit linear congruential one): same seed, same song. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Stereo float buffers the instruments are mixed into. Each instrument writes one note: `render`
 * gets the time since the note began and returns the sample, panned by `pan` (-1 left … 1 right).
 */
type Mix = { left: Float32Array; right: Float32Array; frames: number };

function addNote(mix: Mix, startSeconds: number, lengthSeconds: number, pan: number, render: (t: number) => number): void {
  const from = Math.round(startSeconds * SAMPLE_RATE);
  const to = Math.min(mix.frames, from + Math.round(lengthSeconds * SAMPLE_RATE));
  const leftGain = Math.min(1, 1 - pan);
  const rightGain = Math.min(1, 1 + pan);
  for (let frame = Math.max(0, from); frame < to; frame += 1) {
    const value = render((frame - from) / SAMPLE_RATE);
    mix.left[frame] = (mix.left[frame] ?? 0) + value * leftGain;
    mix.right[frame] = (mix.right[frame] ?? 0) + value * rightGain;
  }
}

/** Rises in `attack` seconds, decays at `decay` per second, and closes in the last 20 ms. */
function envelope(t: number, length: number, attack: number, decay: number): number {
  return Math.min(1, t / attack, Math.max(0, (length - t) / 0.02)) * Math.exp(-decay * t);
}

const TWO_PI = 2 * Math.PI;

/** A plucked lead voice: a fundamental with two softer harmonics. */
const lead = (hz: number, length: number) => (t: number) =>
  envelope(t, length, 0.006, 3.5) * (Math.sin(TWO_PI * hz * t) + 0.35 * Math.sin(TWO_PI * 2 * hz * t) + 0.12 * Math.sin(TWO_PI * 3 * hz * t));

/** A soft pad: two slightly detuned sines, slow attack, held for the bar. */
const pad = (hz: number, length: number, detune: number) => (t: number) =>
  envelope(t, length, 0.15, 0.25) * (Math.sin(TWO_PI * hz * t) + Math.sin(TWO_PI * hz * detune * t)) * 0.5;

const bass = (hz: number, length: number) => (t: number) => envelope(t, length, 0.005, 2.5) * (Math.sin(TWO_PI * hz * t) + 0.25 * Math.sin(TWO_PI * 2 * hz * t));

/** A kick drum: a sine whose pitch falls from 120 Hz to 45 Hz. */
const kick = (t: number) => Math.exp(-9 * t) * Math.sin(TWO_PI * (45 * t + (75 / 30) * (1 - Math.exp(-30 * t))));

/** White noise from a fixed seed (the snare). */
function whiteNoise(seed: number): () => number {
  const random = randomFrom(seed);
  return () => random() * 2 - 1;
}

/** Noise minus its previous sample: a crude high-pass, for the hiss of a hi-hat. */
function hissNoise(seed: number): () => number {
  const noise = whiteNoise(seed);
  let previous = 0;
  return () => {
    const value = noise();
    const difference = value - previous;
    previous = value;
    return difference;
  };
}

/**
 * Interleaved s16le PCM: drums (kick on 1 and 3, snare on 2 and 4, hi-hat on the eighths), a bass
 * on the chord roots, a pad holding each chord, and a pentatonic melody in two alternating rhythms
 * whose four-bar phrase repeats — something that sounds like a song, not a test tone. Then, when
 * asked, the Morse tail.
 */
function synthesisePcm(spec: SongSpec): Buffer {
  const songFrames = Math.round(spec.seconds * SAMPLE_RATE);
  const tailFrames = spec.watermark ? WATERMARK_SECONDS * SAMPLE_RATE : 0;
  const mix: Mix = { left: new Float32Array(songFrames), right: new Float32Array(songFrames), frames: songFrames };
  const melodyBase = spec.gender === "male" ? 60 : 72;

  // One four-bar phrase of melody notes, repeated: the repetition is what makes it a tune.
  const random = randomFrom(spec.gender === "male" ? 7 : 11);
  const phrase = PROGRESSION.map((_, bar) =>
    (MELODY_RHYTHMS[bar % MELODY_RHYTHMS.length] ?? MELODY_RHYTHMS[0]).map(() => melodyBase + (PENTATONIC[Math.floor(random() * PENTATONIC.length)] ?? 0)),
  );

  const snareNoise = whiteNoise(spec.gender === "male" ? 3 : 5);
  const hatNoise = hissNoise(spec.gender === "male" ? 13 : 17);
  const bars = Math.ceil(spec.seconds / BAR_SECONDS);
  for (let bar = 0; bar < bars; bar += 1) {
    const barStart = bar * BAR_SECONDS;
    const chord = PROGRESSION[bar % PROGRESSION.length] ?? PROGRESSION[0];
    chord.triad.forEach((note, voice) => {
      const hz = midiToHz(note);
      addNote(mix, barStart, BAR_SECONDS, voice === 1 ? -0.4 : 0.4, (t) => 0.07 * pad(hz, BAR_SECONDS, 1.004 + voice * 0.001)(t));
    });
    for (let beat = 0; beat < 4; beat += 1) {
      const beatStart = barStart + beat * BEAT_SECONDS;
      if (beat % 2 === 0) {
        addNote(mix, beatStart, 0.4, 0, (t) => 0.55 * kick(t));
        const root = midiToHz(chord.root + (beat === 2 ? 12 : 0));
        addNote(mix, beatStart, BEAT_SECONDS * 1.5, 0, (t) => 0.3 * bass(root, BEAT_SECONDS * 1.5)(t));
      } else {
        addNote(mix, beatStart, 0.22, 0.1, (t) => Math.exp(-16 * t) * (0.14 * snareNoise() + 0.18 * Math.sin(TWO_PI * 185 * t)));
      }
      for (let half = 0; half < 2; half += 1) {
        addNote(mix, beatStart + half * EIGHTH_SECONDS, 0.06, 0.5, (t) => (half === 0 ? 0.05 : 0.035) * Math.exp(-70 * t) * hatNoise());
      }
    }
    // The first bar is the intro: drums, bass and pad only.
    if (bar === 0) continue;
    const rhythm = MELODY_RHYTHMS[bar % MELODY_RHYTHMS.length] ?? MELODY_RHYTHMS[0];
    const notes = phrase[bar % phrase.length] ?? [];
    rhythm.forEach((plays, eighth) => {
      if (!plays) return;
      // A note rings until the next one starts (a rest lets it ring one eighth longer).
      const length = rhythm[eighth + 1] === 0 ? 2 * EIGHTH_SECONDS : EIGHTH_SECONDS;
      const hz = midiToHz(notes[eighth] ?? melodyBase);
      addNote(mix, barStart + eighth * EIGHTH_SECONDS, length, -0.15, (t) => 0.26 * lead(hz, length)(t));
    });
  }

  const pcm = Buffer.alloc((songFrames + tailFrames) * CHANNELS * 2);
  const edge = 0.05 * SAMPLE_RATE;
  for (let frame = 0; frame < songFrames; frame += 1) {
    const fade = Math.min(1, frame / edge, (songFrames - frame) / edge);
    // tanh: a gentle limiter, so that a loud beat rounds off instead of clipping.
    writeFrame(pcm, frame, Math.tanh(mix.left[frame] ?? 0) * fade, Math.tanh(mix.right[frame] ?? 0) * fade);
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
