import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AudioToolError,
  createAudioTools,
  locateFfmpeg,
  makeWav,
  readWavLayout,
  wavDurationSeconds,
  type AudioPiece,
  type AudioTools,
} from "../../src/audio/index.js";

/**
 * These tests run the real ffmpeg: FFMPEG_PATH/FFPROBE_PATH if set, else one on PATH, else the
 * @ffmpeg-installer/@ffprobe-installer binaries, exactly as the bot finds them.
 */
const location = locateFfmpeg({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH, pathEnv: process.env.PATH });
const fixtureDirectory = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "audio");
const fixturePath = (name: string): string => path.join(fixtureDirectory, name);
const fixture = (name: string): Buffer => readFileSync(fixturePath(name));

type LogLine = { msg: string; tool?: string; pid?: number; [key: string]: unknown };

/** Audio tools whose debug log is kept, so tests can see which processes ran and when. */
function toolsWithLog(options: { maxConcurrent?: number } = {}): { tools: AudioTools; log: LogLine[] } {
  const log: LogLine[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void log.push(JSON.parse(line) as LogLine) });
  const tools = createAudioTools({ ffmpegPath: location.ffmpegPath, ffprobePath: location.ffprobePath, logger, ...options });
  return { tools, log };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

async function audioToolError(promise: Promise<unknown>): Promise<AudioToolError> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(AudioToolError);
  return error as AudioToolError;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const { tools } = toolsWithLog();
/** 60 s of 48 kHz stereo: 11.5 MB, the shape of a generated song; shared because making it takes a moment. */
let songWav: Buffer;
beforeAll(() => {
  songWav = makeWav({ seconds: 60, sampleRate: 48_000, channels: 2, frequencyHz: 440 });
});

describe("probe", () => {
  it.each([
    { file: "voice-message.ogg", format: "ogg", codec: "opus", seconds: 3, sampleRate: 48_000, channels: 1, hasVideo: false },
    { file: "long-recording.ogg", format: "ogg", codec: "opus", seconds: 75, sampleRate: 48_000, channels: 1, hasVideo: false },
    { file: "music-clip.mp3", format: "mp3", codec: "mp3", seconds: 10, sampleRate: 44_100, channels: 2, hasVideo: false },
    { file: "memo.m4a", format: "mov,mp4,m4a,3gp,3g2,mj2", codec: "aac", seconds: 4, sampleRate: 44_100, channels: 1, hasVideo: false },
    { file: "tone.flac", format: "flac", codec: "flac", seconds: 2, sampleRate: 16_000, channels: 1, hasVideo: false },
    { file: "voice-note.3gp", format: "mov,mp4,m4a,3gp,3g2,mj2", codec: "amr_nb", seconds: 3, sampleRate: 8000, channels: 1, hasVideo: false },
    // Streamed WebM stores no duration; probe measures it by decoding.
    { file: "screen-clip.webm", format: "matroska,webm", codec: "opus", seconds: 3, sampleRate: 48_000, channels: 1, hasVideo: true },
  ])("reports container, codec, duration and layout of $file", async ({ file, format, codec, seconds, sampleRate, channels, hasVideo }) => {
    const input = fixture(file);
    const probe = await tools.probe(input);
    expect(probe).toMatchObject({ format, codec, sampleRate, channels, hasVideo, sizeBytes: input.length });
    expect(probe.durationSeconds).toBeGreaterThan(seconds - 0.05);
    expect(probe.durationSeconds).toBeLessThan(seconds + 0.1);
  });

  it("probes a file path the same way as a buffer", async () => {
    const fromPath = await tools.probe(fixturePath("music-clip.mp3"));
    expect(fromPath).toEqual(await tools.probe(fixture("music-clip.mp3")));
    expect(fromPath.bitRate).toBe(32_000);
  });

  it("says undecodable for a truncated mp4, and its message carries ffmpeg's own words for the log", async () => {
    const error = await audioToolError(tools.probe(fixture("corrupt.m4a")));
    expect(error.reason).toBe("undecodable");
    expect(error.tool).toBe("ffprobe");
    expect(error.message).toContain("moov atom not found");
  });

  it("says undecodable for a text file", async () => {
    expect((await audioToolError(tools.probe(fixture("not-audio.txt")))).reason).toBe("undecodable");
  });

  it("says no-audio for an image, which is media but has no sound", async () => {
    const error = await audioToolError(tools.probe(fixture("not-audio.png")));
    expect(error.reason).toBe("no-audio");
    expect(error.message).toContain("video/png");
  });
});

describe("transcode", () => {
  it("turns a wav into a decodable mp3 of the same duration", async () => {
    const wav = makeWav({ seconds: 5, sampleRate: 44_100, channels: 2, frequencyHz: 440 });
    const mp3 = await tools.transcode(wav, { format: "mp3", bitrateKbps: 96 });
    const probe = await tools.probe(mp3);
    expect(probe).toMatchObject({ format: "mp3", codec: "mp3", channels: 2, sampleRate: 44_100, bitRate: 96_000 });
    expect(Math.abs(probe.durationSeconds - 5)).toBeLessThanOrEqual(0.2);
  });

  it("turns an Ogg/Opus voice message into a small mono mp3", async () => {
    const mp3 = await tools.transcode(fixture("voice-message.ogg"), { format: "mp3", channels: 1, sampleRate: 16_000, bitrateKbps: 32 });
    const probe = await tools.probe(mp3);
    expect(probe).toMatchObject({ codec: "mp3", channels: 1, sampleRate: 16_000 });
    expect(Math.abs(probe.durationSeconds - 3)).toBeLessThanOrEqual(0.2);
  });

  it.each(["memo.m4a", "voice-note.3gp", "screen-clip.webm", "tone.flac"])(
    "decodes %s to a mono 16 kHz wav whose header sizes match its length",
    async (file) => {
      const wav = await tools.transcode(fixture(file), { format: "wav", channels: 1, sampleRate: 16_000 });
      expect(readWavLayout(wav)).toMatchObject({ audioFormat: 1, channels: 1, sampleRate: 16_000, bitsPerSample: 16, dataOffset: 44 });
      expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
      expect(wav.readUInt32LE(40)).toBe(wav.length - 44);
      expect((await tools.probe(wav)).codec).toBe("pcm_s16le");
    },
  );

  it("says undecodable for a corrupt file and no-audio for an image", async () => {
    expect((await audioToolError(tools.transcode(fixture("corrupt.m4a"), { format: "mp3" }))).reason).toBe("undecodable");
    expect((await audioToolError(tools.transcode(fixture("not-audio.txt"), { format: "wav" }))).reason).toBe("undecodable");
    expect((await audioToolError(tools.transcode(fixture("not-audio.png"), { format: "mp3" }))).reason).toBe("no-audio");
  });

  it("refuses targets mp3 cannot carry before starting ffmpeg", async () => {
    await expect(tools.transcode(fixture("tone.flac"), { format: "mp3", sampleRate: 96_000 })).rejects.toThrow(RangeError);
    await expect(tools.transcode(fixture("tone.flac"), { format: "mp3", bitrateKbps: 1000 })).rejects.toThrow(RangeError);
  });
});

describe("fitUnderBytes", () => {
  it("encodes a 60 s 48 kHz stereo wav at the best bitrate that fits under 1 MB", async () => {
    const budget = 1_000_000;
    const fitted = await tools.fitUnderBytes(songWav, "wav", budget);
    expect(fitted).toBeDefined();
    expect(fitted!.format).toBe("mp3");
    expect(fitted!.bitrateKbps).toBe(128);
    expect(fitted!.audio.length).toBeLessThanOrEqual(budget);
    const probe = await tools.probe(fitted!.audio);
    expect(probe).toMatchObject({ codec: "mp3", channels: 2, bitRate: 128_000 });
    expect(Math.abs(probe.durationSeconds - 60)).toBeLessThanOrEqual(0.2);
    // The next bitrate up really would not have fitted.
    const higher = await tools.transcode(songWav, { format: "mp3", bitrateKbps: 160 });
    expect(higher.length).toBeGreaterThan(budget);
  });

  it("returns undefined, without encoding, when even the lowest bitrate cannot fit", async () => {
    const { tools: watched, log } = toolsWithLog();
    expect(await watched.fitUnderBytes(songWav, "wav", 300_000)).toBeUndefined();
    expect(log.filter((line) => line.msg === "audio tool started").map((line) => line.tool)).toEqual(["ffprobe"]);
  });

  it("returns an mp3 that already fits unchanged", async () => {
    const mp3 = fixture("music-clip.mp3");
    const fitted = await tools.fitUnderBytes(mp3, "mp3", 1_000_000);
    expect(fitted?.audio).toBe(mp3);
    expect(fitted?.bitrateKbps).toBe(32);
  });

  it("re-encodes an mp3 only at bitrates below its own", async () => {
    const mp3 = await tools.transcode(makeWav({ seconds: 20, sampleRate: 44_100, channels: 2, frequencyHz: 330 }), { format: "mp3", bitrateKbps: 128 });
    const fitted = await tools.fitUnderBytes(mp3, "mp3", mp3.length - 1);
    expect(fitted?.bitrateKbps).toBe(96);
    expect(fitted!.audio.length).toBeLessThan(mp3.length);
  });
});

describe("split", () => {
  it("decodes only the first maxSeconds of a long recording when asked", async () => {
    const pieces = await tools.split(fixture("long-recording.ogg"), 30, { format: "wav", channels: 1, sampleRate: 16_000, maxSeconds: 45 });
    expect(pieces.map((piece) => [piece.startSeconds, Math.round(piece.endSeconds)])).toEqual([
      [0, 30],
      [30, 45],
    ]);
  });

  it("cuts a 75 s recording at 30 s into wav pieces 0–30, 30–60 and 60–75, each at most 30 s", async () => {
    const pieces = await tools.split(fixture("long-recording.ogg"), 30, { format: "wav", channels: 1, sampleRate: 16_000 });
    expect(pieces.map((piece) => [piece.startSeconds, Math.round(piece.endSeconds)])).toEqual([
      [0, 30],
      [30, 60],
      [60, 75],
    ]);
    for (const piece of pieces) {
      const probe = await tools.probe(piece.audio);
      expect(probe).toMatchObject({ codec: "pcm_s16le", channels: 1, sampleRate: 16_000 });
      expect(probe.durationSeconds).toBeLessThanOrEqual(30);
      expect(probe.durationSeconds).toBeCloseTo(piece.endSeconds - piece.startSeconds, 3);
      expect(piece.audio.length).toBeLessThanOrEqual(10 * 1000 * 1000);
    }
  });

  it("keeps mp3 pieces within 30 s by their own reported duration, with no gaps between them", async () => {
    const pieces = await tools.split(fixture("long-recording.ogg"), 30, { format: "mp3", channels: 1, sampleRate: 16_000, bitrateKbps: 32 });
    expect(pieces).toHaveLength(3);
    expect(pieces[0]!.startSeconds).toBe(0);
    expect(pieces.at(-1)!.endSeconds).toBeCloseTo(75, 1);
    for (let index = 1; index < pieces.length; index++) expect(pieces[index]!.startSeconds).toBe(pieces[index - 1]!.endSeconds);
    for (const piece of pieces) {
      const probe = await tools.probe(piece.audio);
      expect(probe).toMatchObject({ codec: "mp3", channels: 1, sampleRate: 16_000 });
      expect(probe.durationSeconds).toBeLessThanOrEqual(30);
      expect(everyFrameSeconds(piece)).toBeLessThan(30);
    }
    // Shorter than 30 s only by the encoder's delay and padding (~0.1 s at 16 kHz).
    for (const piece of pieces.slice(0, -1)) expect(piece.endSeconds - piece.startSeconds).toBeGreaterThan(29.85);
  });

  it("hands over each mp3 piece, in order, as soon as it is written", async () => {
    const seen: Array<{ index: number; startSeconds: number; bytes: number }> = [];
    const pieces = await tools.split(
      fixture("long-recording.ogg"),
      30,
      { format: "mp3", channels: 1, sampleRate: 16_000, bitrateKbps: 32 },
      { onPiece: (piece, index) => seen.push({ index, startSeconds: piece.startSeconds, bytes: piece.audio.length }) },
    );
    expect(seen).toEqual(pieces.map((piece, index) => ({ index, startSeconds: piece.startSeconds, bytes: piece.audio.length })));
  });

  it("spreads a recording of known length over ffmpeg processes, and the ranges meet without a gap", async () => {
    const handed: number[] = [];
    const pieces = await tools.split(
      fixture("long-recording.ogg"),
      30,
      { format: "mp3", channels: 1, sampleRate: 16_000, bitrateKbps: 32 },
      { sourceSeconds: 75, onPiece: (_piece, index) => handed.push(index) },
    );
    expect(pieces).toHaveLength(3);
    expect(handed.sort()).toEqual([0, 1, 2]);
    expect(pieces[0]!.startSeconds).toBe(0);
    expect(pieces.at(-1)!.endSeconds).toBeCloseTo(75, 1);
    for (let index = 1; index < pieces.length; index++) expect(pieces[index]!.startSeconds).toBe(pieces[index - 1]!.endSeconds);
    for (const piece of pieces) {
      const probe = await tools.probe(piece.audio);
      expect(probe.durationSeconds).toBeLessThanOrEqual(30);
      expect(probe.durationSeconds).toBeCloseTo(piece.endSeconds - piece.startSeconds, 0);
    }
  });

  it("says when the input has no audio to split", async () => {
    const target = { format: "mp3", channels: 1, sampleRate: 16_000, bitrateKbps: 32 } as const;
    expect((await audioToolError(tools.split(fixture("not-audio.txt"), 30, target))).reason).toBe("undecodable");
    expect((await audioToolError(tools.split(fixture("corrupt.m4a"), 30, target))).reason).toBe("undecodable");
  });
});

/** A leading ID3v2.3 tag holding a title, as tagging software writes it. */
function id3Tag(title: string): Buffer {
  const text = Buffer.concat([Buffer.from([0]), Buffer.from(title, "latin1")]);
  const frame = Buffer.concat([Buffer.from("TIT2", "latin1"), Buffer.from([0, 0, 0, text.length, 0, 0]), text]);
  const size = frame.length;
  const header = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, (size >> 21) & 0x7f, (size >> 14) & 0x7f, (size >> 7) & 0x7f, size & 0x7f]);
  return Buffer.concat([header, frame]);
}

function id3Length(data: Buffer): number {
  if (data.toString("latin1", 0, 3) !== "ID3") return 0;
  return 10 + (((data[6]! & 0x7f) << 21) | ((data[7]! & 0x7f) << 14) | ((data[8]! & 0x7f) << 7) | (data[9]! & 0x7f));
}

const MPEG1_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const SAMPLE_RATES: Record<number, number[]> = { 3: [44_100, 48_000, 32_000], 2: [22_050, 24_000, 16_000], 0: [11_025, 12_000, 8000] };

/**
 * A piece's length as a reader that ignores the Xing/Info header would see it: every Layer III
 * frame after the ID3 tag, that header's frame included (it is silence to such a reader), played
 * as audio. Frames are walked by their headers: the Xing frame is written at a higher bitrate
 * than the stream's, so bytes over bitrate would not count frames.
 */
function everyFrameSeconds(piece: AudioPiece): number {
  const data = piece.audio;
  let offset = id3Length(data);
  let seconds = 0;
  while (offset + 4 <= data.length) {
    const [b0, b1, b2] = [data[offset]!, data[offset + 1]!, data[offset + 2]!];
    if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0 || ((b1 >> 1) & 3) !== 1) throw new Error(`no Layer III frame header at byte ${offset}`);
    const version = (b1 >> 3) & 3;
    const kbps = (version === 3 ? MPEG1_KBPS : MPEG2_KBPS)[b2 >> 4]!;
    const rate = SAMPLE_RATES[version]![(b2 >> 2) & 3]!;
    const samples = version === 3 ? 1152 : 576;
    offset += Math.floor(((samples / 8) * kbps * 1000) / rate) + ((b2 >> 1) & 1);
    seconds += samples / rate;
  }
  return seconds;
}

describe("split without re-encoding (an mp3 cut from its own frames)", () => {
  /** long-recording.mp3: 75 s, mono, 16 kHz, 16 kbps CBR. */
  const copyTarget = { format: "mp3", copy: true, sampleRate: 16_000 } as const;

  it("cuts a 75 s mp3 into 3 parts under 30 s by every measure, meeting without a gap, in one ffmpeg process that encodes nothing", async () => {
    const { tools: watched, log } = toolsWithLog();
    const input = fixture("long-recording.mp3");
    const source = await watched.probe(input);
    const pieces = await watched.split(input, 30, copyTarget, { sourceSeconds: source.durationSeconds });
    expect(pieces).toHaveLength(3);
    expect(pieces[0]!.startSeconds).toBe(0);
    for (let index = 1; index < pieces.length; index++) expect(pieces[index]!.startSeconds).toBe(pieces[index - 1]!.endSeconds);
    expect(pieces.at(-1)!.endSeconds).toBeCloseTo(source.durationSeconds, 2);
    for (const piece of pieces) {
      const probe = await watched.probe(piece.audio);
      // The source's own stream: an encode for Qwen-Audio would not keep 16 kbps.
      expect(probe).toMatchObject({ format: "mp3", codec: "mp3", channels: 1, sampleRate: 16_000, bitRate: 16_000 });
      expect(probe.durationSeconds).toBeLessThan(30);
      expect(probe.durationSeconds).toBeCloseTo(piece.endSeconds - piece.startSeconds, 3);
      const decoded = await watched.transcode(piece.audio, { format: "wav" });
      expect(wavDurationSeconds(decoded)).toBeLessThan(30);
      expect(everyFrameSeconds(piece)).toBeLessThan(30);
    }
    // Short of 30 s only by the room left for the cut's last frame and the Xing frame (36 ms each).
    for (const piece of pieces.slice(0, -1)) expect(piece.endSeconds - piece.startSeconds).toBeGreaterThan(29.9);
    const started = log.filter((line) => line.msg === "audio tool started" && line.tool === "ffmpeg");
    const splits = started.filter((line) => (line.args as string[]).includes("segment"));
    expect(splits).toHaveLength(1);
    expect(splits[0]!.args).toEqual(expect.arrayContaining(["-c:a", "copy"]));
    expect(splits[0]!.args).not.toContain("libmp3lame");
  });

  it("hands each part over, in order, as soon as it is written, and keeps only the whole parts of maxSeconds", async () => {
    const seen: Array<{ index: number; startSeconds: number; bytes: number }> = [];
    const pieces = await tools.split(fixture("long-recording.mp3"), 30, { ...copyTarget, maxSeconds: 45 }, {
      onPiece: (piece, index) => seen.push({ index, startSeconds: piece.startSeconds, bytes: piece.audio.length }),
    });
    expect(pieces).toHaveLength(2);
    // Cut on the first frame at or after 45 s (36 ms frames here).
    expect(pieces[1]!.endSeconds).toBeGreaterThanOrEqual(45);
    expect(pieces[1]!.endSeconds).toBeLessThan(45.1);
    expect(seen).toEqual(pieces.map((piece, index) => ({ index, startSeconds: piece.startSeconds, bytes: piece.audio.length })));
  });

  it("drops a trailing crumb under 0.25 s, and keeps a longer remainder", async () => {
    // music-clip.mp3: 10 s of 44.1 kHz stereo, 10.03 s with the encoder's delay and padding.
    const target = { format: "mp3", copy: true, sampleRate: 44_100 } as const;
    const input = fixture("music-clip.mp3");
    const source = await tools.probe(input);
    // 5 s parts: two of ~4.95 s, then ~0.13 s left over.
    const fives = await tools.split(input, 5, target);
    expect(fives).toHaveLength(2);
    expect(source.durationSeconds - fives[1]!.endSeconds).toBeGreaterThan(0);
    expect(source.durationSeconds - fives[1]!.endSeconds).toBeLessThan(0.25);
    // 4 s parts: two of ~3.95 s and a third of ~2.1 s.
    const fours = await tools.split(input, 4, target);
    expect(fours).toHaveLength(3);
    expect(fours[2]!.endSeconds).toBeCloseTo(source.durationSeconds, 2);
    for (const piece of [...fives, ...fours]) {
      const limit = fives.includes(piece) ? 5 : 4;
      expect((await tools.probe(piece.audio)).durationSeconds).toBeLessThan(limit);
      expect(everyFrameSeconds(piece)).toBeLessThan(limit);
    }
  });

  it("leaves the source's tags out of every part: they are no audio", async () => {
    const plain = await tools.split(fixture("long-recording.mp3"), 30, copyTarget);
    const tagged = await tools.split(Buffer.concat([id3Tag("A title the model need not hear"), fixture("long-recording.mp3")]), 30, copyTarget);
    expect(tagged.map(({ startSeconds, endSeconds }) => [startSeconds, endSeconds])).toEqual(plain.map(({ startSeconds, endSeconds }) => [startSeconds, endSeconds]));
    for (const piece of tagged) expect(piece.audio.includes("A title the model need not hear")).toBe(false);
  });

  it("says undecodable for input that is not an mp3, and honours abort and timeout", async () => {
    expect((await audioToolError(tools.split(fixture("not-audio.txt"), 30, copyTarget))).reason).toBe("undecodable");
    expect((await audioToolError(tools.split(id3Tag("only a tag"), 30, copyTarget))).reason).toBe("undecodable");
    const { tools: watched, log } = toolsWithLog();
    const aborted = await rejection(watched.split(fixture("long-recording.mp3"), 30, copyTarget, { signal: AbortSignal.abort() }));
    expect((aborted as Error).name).toBe("AbortError");
    expect(log.filter((line) => line.msg === "audio tool started")).toHaveLength(0);
    expect((await audioToolError(watched.split(fixture("long-recording.mp3"), 30, copyTarget, { timeoutMs: 1 }))).reason).toBe("timeout");
  });
});

describe("process control", () => {
  it("kills ffmpeg when the caller aborts, and rejects with the abort reason", async () => {
    const { tools: watched, log } = toolsWithLog();
    const controller = new AbortController();
    const running = watched.transcode(songWav, { format: "mp3", bitrateKbps: 320 }, { signal: controller.signal });
    await waitFor(() => log.some((line) => line.msg === "audio tool started"));
    const pid = log.find((line) => line.msg === "audio tool started")!.pid!;
    controller.abort();
    const error = await rejection(running);
    expect((error as Error).name).toBe("AbortError");
    expect(isRunning(pid)).toBe(false);
    expect(log.find((line) => line.msg === "audio tool exited")).toMatchObject({ pid, killedFor: "abort" });
  });

  it("does not start ffmpeg at all when the signal is already aborted", async () => {
    const { tools: watched, log } = toolsWithLog();
    const error = await rejection(watched.transcode(songWav, { format: "mp3" }, { signal: AbortSignal.abort() }));
    expect((error as Error).name).toBe("AbortError");
    expect(log.filter((line) => line.msg === "audio tool started")).toHaveLength(0);
  });

  it("kills ffmpeg and says timeout when a call runs past its limit", async () => {
    const { tools: watched, log } = toolsWithLog();
    const error = await audioToolError(watched.transcode(songWav, { format: "mp3", bitrateKbps: 320 }, { timeoutMs: 150 }));
    expect(error.reason).toBe("timeout");
    const pid = log.find((line) => line.msg === "audio tool started")!.pid!;
    expect(isRunning(pid)).toBe(false);
  });

  it("runs no more processes at once than maxConcurrent", async () => {
    const { tools: single, log } = toolsWithLog({ maxConcurrent: 1 });
    const voice = fixture("voice-message.ogg");
    await Promise.all([1, 2, 3].map(() => single.transcode(voice, { format: "wav" })));
    let running = 0;
    let most = 0;
    for (const line of log) {
      if (line.msg === "audio tool started") most = Math.max(most, ++running);
      if (line.msg === "audio tool exited") running--;
    }
    expect(most).toBe(1);
    expect(log.filter((line) => line.msg === "audio tool started")).toHaveLength(3);
  });

  it("kills ffmpeg when its output grows past maxOutputBytes, so a tiny file cannot decode into gigabytes", async () => {
    const capped = createAudioTools({ ffmpegPath: location.ffmpegPath, ffprobePath: location.ffprobePath, logger: pino({ level: "silent" }), maxOutputBytes: 10_000 });
    const error = await audioToolError(capped.transcode(fixture("voice-message.ogg"), { format: "wav" }));
    expect(error.reason).toBe("failed");
    expect(error.message).toMatch(/output grew past 10000 bytes/);
  });

  it("removes its temp files after seekable inputs and probes, whether they succeed or fail", async () => {
    const tempDirectory = mkdtempSync(path.join(os.tmpdir(), "dashtune-audio-test-"));
    try {
      const own = createAudioTools({ ffmpegPath: location.ffmpegPath, ffprobePath: location.ffprobePath, logger: pino({ level: "silent" }), tempDirectory });
      await own.transcode(fixture("memo.m4a"), { format: "wav" });
      await own.probe(fixture("voice-message.ogg"));
      await rejection(own.transcode(fixture("corrupt.m4a"), { format: "wav" }));
      await rejection(own.probe(fixture("not-audio.txt")));
      expect(readdirSync(tempDirectory)).toEqual([]);
    } finally {
      rmSync(tempDirectory, { recursive: true, force: true });
    }
  });

  it("says tool-missing when the ffmpeg binary does not exist", async () => {
    const missing = createAudioTools({ ffmpegPath: "/nonexistent/ffmpeg", ffprobePath: "/nonexistent/ffprobe", logger: pino({ level: "silent" }) });
    expect((await audioToolError(missing.transcode(fixture("tone.flac"), { format: "wav" }))).reason).toBe("tool-missing");
    expect((await audioToolError(missing.probe(fixture("tone.flac")))).reason).toBe("tool-missing");
  });
});
