/**
 * Writes the small audio fixtures used by test/unit/audio-*.test.ts into test/fixtures/audio/.
 *
 *   npx tsx scripts/make-audio-fixtures.ts            # all committed fixtures
 *   npx tsx scripts/make-audio-fixtures.ts --speech   # also speech-en.ogg, if espeak-ng is installed
 *
 * Every signal is synthetic (lavfi `aevalsrc`/`sine`/`color`), so nothing here needs a recording or a
 * licence. Outputs are bit-exact (no encoder version strings, fixed Ogg serials), so re-running with
 * the same ffmpeg reproduces the same bytes. The pinned npm ffmpeg (@ffmpeg-installer/ffmpeg) is used
 * unless FFMPEG_PATH points elsewhere; another ffmpeg build makes equivalent files, not identical ones.
 *
 * Spoken audio: speech-en.ogg, a short English sentence as an Opus voice message, is committed; it
 * is rewritten only with `--speech` and espeak-ng installed (`apt-get install espeak-ng`), since
 * the speech synthesiser is not something `npm install` can provide.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { locateFfmpeg } from "../src/audio/locate.js";

const outputDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "test", "fixtures", "audio");

/** A speech-like signal: a vibrato voice with three harmonics, opening and closing like syllables. */
const voiceExpression =
  "(0.5*sin(2*PI*140*t+5*sin(2*PI*0.7*t))+0.25*sin(4*PI*140*t+10*sin(2*PI*0.7*t))+0.12*sin(6*PI*140*t+15*sin(2*PI*0.7*t)))" +
  "*pow(abs(sin(PI*2.2*t)),2)*0.8";

/** C, F, G, C major triads, 2.5 s each, plucked on every half second; root and third left, fifth and octave right. */
const chordFrequency = (c: number, f: number, g: number) => `if(lt(t,2.5),${c},if(lt(t,5),${f},if(lt(t,7.5),${g},${c})))`;
const root = chordFrequency(261.63, 349.23, 392.0);
const third = chordFrequency(329.63, 440.0, 493.88);
const fifth = chordFrequency(392.0, 523.25, 587.33);
const pluck = "exp(-4*mod(t,0.5))";
const musicLeft = `0.3*(sin(2*PI*${root}*t)+sin(2*PI*${third}*t))*${pluck}`;
const musicRight = `0.3*(sin(2*PI*${fifth}*t)+sin(4*PI*${root}*t))*${pluck}`;

const bitexact = ["-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1"];

type Fixture = { file: string; description: string; args: (output: string) => string[] };

const fixtures: Fixture[] = [
  {
    file: "voice-message.ogg",
    description: "a Discord-style voice message: Ogg/Opus, mono, 48 kHz, 3 s, 16 kbps",
    args: (output) => [
      "-f", "lavfi", "-i", `aevalsrc='${voiceExpression}':s=48000:d=3`,
      "-c:a", "libopus", "-b:a", "16k", "-application", "voip", "-ac", "1", ...bitexact, output,
    ],
  },
  {
    file: "long-recording.ogg",
    description: "a 75 s recording to split: Ogg/Opus, mono, 6 kbps",
    args: (output) => [
      "-f", "lavfi", "-i", `aevalsrc='${voiceExpression}':s=16000:d=75`,
      "-c:a", "libopus", "-b:a", "6k", "-application", "voip", "-ac", "1", ...bitexact, output,
    ],
  },
  {
    file: "music-clip.mp3",
    description: "a music-like clip: chords, stereo mp3, 44.1 kHz, 10 s, 32 kbps CBR",
    args: (output) => [
      "-f", "lavfi", "-i", `aevalsrc='${musicLeft}|${musicRight}':s=44100:d=10`,
      "-c:a", "libmp3lame", "-b:a", "32k", ...bitexact, output,
    ],
  },
  {
    file: "long-recording.mp3",
    description: "a 75 s recording as a voice recorder saves it, to split without re-encoding: mp3, mono, 16 kHz (MPEG-2), 16 kbps CBR",
    args: (output) => [
      "-f", "lavfi", "-i", `aevalsrc='${voiceExpression}':s=16000:d=75`,
      "-c:a", "libmp3lame", "-b:a", "16k", "-ac", "1", ...bitexact, output,
    ],
  },
  {
    file: "memo.m4a",
    description: "a phone memo: AAC-LC in MP4 (index at the end, so it needs seeking), mono, 4 s, 24 kbps",
    args: (output) => [
      "-f", "lavfi", "-i", `aevalsrc='${voiceExpression}':s=44100:d=4`,
      "-c:a", "aac", "-b:a", "24k", "-ac", "1", ...bitexact, "-f", "mp4", output,
    ],
  },
  {
    file: "tone.flac",
    description: "lossless: FLAC, mono, 16 kHz, 2 s of 440 Hz",
    args: (output) => ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=2", "-c:a", "flac", "-ac", "1", ...bitexact, output],
  },
  {
    file: "voice-note.3gp",
    description: "an old phone's voice note: AMR-NB in 3GP, mono, 8 kHz, 3 s",
    args: (output) => [
      "-f", "lavfi", "-i", `aevalsrc='${voiceExpression}':s=8000:d=3`,
      "-c:a", "libopencore_amrnb", "-b:a", "12.2k", "-ac", "1", ...bitexact, "-f", "3gp", output,
    ],
  },
  {
    file: "screen-clip.webm",
    description: "a small video with sound, written as a stream (WebM without a duration, like MediaRecorder): VP8 32×32 + Opus, 3 s",
    args: () => [
      "-f", "lavfi", "-i", "color=c=0x5865F2:s=32x32:r=2:d=3",
      "-f", "lavfi", "-i", `aevalsrc='${voiceExpression}':s=48000:d=3`,
      "-c:v", "libvpx", "-b:v", "16k", "-c:a", "libopus", "-b:a", "12k", "-ac", "1",
      ...bitexact, "-f", "webm", "pipe:1",
    ],
  },
  {
    file: "not-audio.png",
    description: "an image: media ffmpeg can read, with no audio stream",
    args: (output) => ["-f", "lavfi", "-i", "color=c=0x5865F2:s=16x16:d=1", "-frames:v", "1", "-c:v", "png", ...bitexact, "-f", "image2", output],
  },
];

function main(): void {
  const wantSpeech = process.argv.includes("--speech");
  // PATH is not searched: the pinned npm binary keeps the bytes reproducible.
  const { ffmpegPath, source } = locateFfmpeg({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH });
  console.log(`ffmpeg (${source}): ${ffmpegPath}\n  ${runFfmpeg(ffmpegPath, ["-version"]).toString("utf8").split("\n")[0]}`);
  mkdirSync(outputDirectory, { recursive: true });

  for (const fixture of fixtures) {
    const output = path.join(outputDirectory, fixture.file);
    const args = fixture.args(output);
    const stdout = runFfmpeg(ffmpegPath, ["-hide_banner", "-loglevel", "error", "-y", ...args]);
    // Streamed outputs (pipe:1) come back on stdout.
    if (args.at(-1) === "pipe:1") writeFileSync(output, stdout);
  }

  // A truncated upload: the real MP4 header of memo.m4a, then garbage, and no index ("moov") at all.
  const memo = readFileSync(path.join(outputDirectory, "memo.m4a"));
  writeFileSync(path.join(outputDirectory, "corrupt.m4a"), Buffer.concat([memo.subarray(0, 512), pseudoRandomBytes(4096, 0x5eed)]));
  writeFileSync(path.join(outputDirectory, "not-audio.txt"), "This is a text file, not audio. dashtune should say it cannot decode it.\n");

  if (wantSpeech) makeSpeech(ffmpegPath);
  writeReadme();

  let total = 0;
  for (const file of [...fixtures.map((fixture) => fixture.file), "corrupt.m4a", "not-audio.txt"]) {
    const { size } = statSync(path.join(outputDirectory, file));
    total += size;
    console.log(`${file.padEnd(20)} ${String(size).padStart(7)} bytes`);
  }
  console.log(`${"total".padEnd(20)} ${String(total).padStart(7)} bytes`);
}

function makeSpeech(ffmpegPath: string): void {
  const espeak = spawnSync("espeak-ng", ["--stdout", "-v", "en-us", "-s", "150", "Hello from dashtune. This is a short test of a spoken voice message."]);
  if (espeak.error !== undefined || espeak.status !== 0) {
    console.warn("--speech: espeak-ng is not installed (apt-get install espeak-ng); skipping speech-en.ogg");
    return;
  }
  const output = path.join(outputDirectory, "speech-en.ogg");
  runFfmpeg(ffmpegPath, ["-hide_banner", "-loglevel", "error", "-y", "-i", "pipe:0", "-c:a", "libopus", "-b:a", "24k", "-ac", "1", "-ar", "48000", ...bitexact, output], espeak.stdout);
  console.log(`speech-en.ogg written`);
}

function runFfmpeg(ffmpegPath: string, args: string[], input?: Buffer): Buffer {
  const result = spawnSync(ffmpegPath, args, { input, maxBuffer: 64 * 1024 * 1024 });
  if (result.error !== undefined) throw result.error;
  if (result.status !== 0) throw new Error(`ffmpeg ${args.join(" ")} failed:\n${result.stderr.toString("utf8")}`);
  return result.stdout;
}

/** xorshift32: the same "garbage" on every run. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

function writeReadme(): void {
  const lines = [
    "# Audio fixtures",
    "",
    "Made by `npx tsx scripts/make-audio-fixtures.ts` (synthetic signals, bit-exact with the pinned ffmpeg).",
    "Do not edit by hand; change the script and re-run it.",
    "",
    ...fixtures.map((fixture) => `- \`${fixture.file}\`: ${fixture.description}`),
    "- `corrupt.m4a`: the first 512 bytes of `memo.m4a`, then 4 KiB of fixed pseudo-random bytes (no index): undecodable",
    "- `not-audio.txt`: plain text: undecodable",
    "- `speech-en.ogg`: a spoken English voice message (espeak-ng, OGG/Opus mono 48 kHz, ~4 s); committed,",
    "  and rewritten only by `--speech` with espeak-ng installed (`apt-get install espeak-ng`), since the",
    "  speech synthesiser is not part of `npm install`",
    "",
  ];
  writeFileSync(path.join(outputDirectory, "README.md"), lines.join("\n"));
}

main();
