import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { partsCopiedFrom, prepareAudio, type PrepareLimits } from "../../src/analysis/prepare.js";
import { createAudioTools, locateFfmpeg, type AudioProbe } from "../../src/audio/index.js";
import { createLogger } from "../../src/log.js";

/*
 * Which recordings are cut into parts from their own mp3 frames and which are re-encoded, with the
 * real ffmpeg (as the bot finds it) and stand-ins for the download and the upload.
 */

const location = locateFfmpeg({ ffmpegPath: process.env.FFMPEG_PATH, ffprobePath: process.env.FFPROBE_PATH, pathEnv: process.env.PATH });
const tools = createAudioTools({ ffmpegPath: location.ffmpegPath, ffprobePath: location.ffprobePath, logger: pino({ level: "silent" }) });
const fixture = (name: string): Buffer =>
  readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "audio", name));

const limits: PrepareLimits = { maxDownloadBytes: 25 * 1024 * 1024, maxPieces: 10, uploadConcurrency: 2, sendDiscordLinks: false };

/** Prepares `bytes` as a Discord attachment; returns the parts as uploaded, in time order. */
async function uploadedParts(bytes: Buffer) {
  const uploads: Array<{ fileName: string; bytes: Buffer }> = [];
  const source = { name: "recording.mp3", url: "https://cdn.discordapp.com/recording.mp3", contentType: "audio/mpeg", sizeBytes: bytes.length, durationSeconds: null, isVoiceMessage: false };
  const prepared = await prepareAudio(source, {
    download: async () => bytes,
    audioTools: tools,
    upload: async (file) => {
      uploads.push(file);
      return { url: `oss://dir/${file.fileName}`, expiresAt: undefined };
    },
    log: createLogger({ level: "silent", secrets: [] }),
  }, limits);
  const byUrl = new Map(uploads.map((file) => [`oss://dir/${file.fileName}`, file.bytes]));
  return prepared.pieces.map((piece) => ({ ...piece, audio: byUrl.get(piece.audioUrl)! }));
}

const probe = (overrides: Partial<AudioProbe>): AudioProbe => ({
  format: "mp3",
  codec: "mp3",
  durationSeconds: 300,
  sampleRate: 44_100,
  channels: 2,
  bitRate: 128_000,
  sizeBytes: 4_800_000,
  hasVideo: false,
  ...overrides,
});

describe("parts cut without re-encoding", () => {
  it("applies to an mp3 of at most 128 kbps, mono or stereo, at an MPEG-1 or MPEG-2 rate", () => {
    expect(partsCopiedFrom(probe({}))).toBe(true);
    expect(partsCopiedFrom(probe({ sampleRate: 16_000, channels: 1, bitRate: 16_000 }))).toBe(true);
    expect(partsCopiedFrom(probe({ sampleRate: 48_000, bitRate: 96_000 }))).toBe(true);
  });

  it("does not apply above 128 kbps, to an unknown bitrate, to MPEG-2.5 rates, or to anything but an mp3 file", () => {
    expect(partsCopiedFrom(probe({ bitRate: 128_001 }))).toBe(false);
    expect(partsCopiedFrom(probe({ bitRate: 320_000 }))).toBe(false);
    expect(partsCopiedFrom(probe({ bitRate: undefined }))).toBe(false);
    expect(partsCopiedFrom(probe({ sampleRate: 8000, channels: 1, bitRate: 16_000 }))).toBe(false);
    expect(partsCopiedFrom(probe({ hasVideo: true }))).toBe(false);
    expect(partsCopiedFrom(probe({ format: "mov,mp4,m4a,3gp,3g2,mj2" }))).toBe(false);
    expect(partsCopiedFrom(probe({ format: "wav", codec: "pcm_s16le", bitRate: 64_000 }))).toBe(false);
    expect(partsCopiedFrom(probe({ codec: "mp2" }))).toBe(false);
  });

  it("uploads a 16 kbps mp3's own frames: the source's rate, channels and bitrate, in parts under 30 s", async () => {
    const parts = await uploadedParts(fixture("long-recording.mp3"));
    expect(parts).toHaveLength(3);
    expect(parts[0]!.startSeconds).toBe(0);
    for (let index = 1; index < parts.length; index++) expect(parts[index]!.startSeconds).toBe(parts[index - 1]!.endSeconds);
    for (const part of parts) {
      const probed = await tools.probe(part.audio);
      expect(probed).toMatchObject({ codec: "mp3", sampleRate: 16_000, channels: 1, bitRate: 16_000 });
      expect(probed.durationSeconds).toBeLessThan(30);
    }
  });

  it("still re-encodes a 192 kbps mp3 to the small mono mp3 parts", async () => {
    const loud = await tools.transcode(fixture("music-clip.mp3"), { format: "mp3", bitrateKbps: 192 });
    expect(partsCopiedFrom(await tools.probe(loud))).toBe(false);
    const parts = await uploadedParts(loud);
    expect(parts).toHaveLength(1);
    expect(await tools.probe(parts[0]!.audio)).toMatchObject({ codec: "mp3", sampleRate: 16_000, channels: 1, bitRate: 64_000 });
  });
});
