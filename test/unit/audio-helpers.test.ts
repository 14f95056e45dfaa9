import { describe, expect, it } from "vitest";
import { classifyFailure, estimateMp3Bytes, mp3SampleRateFor, planPieces } from "../../src/audio/tools.js";
import { makeWav, readWavLayout, wavDurationSeconds, wavFromPcm } from "../../src/audio/wav.js";

describe("makeWav", () => {
  it("writes a canonical 44-byte PCM header followed by exactly seconds × rate × channels samples", () => {
    const wav = makeWav({ seconds: 1.5, sampleRate: 8000, channels: 2, frequencyHz: 440 });
    expect(wav.length).toBe(44 + 1.5 * 8000 * 2 * 2);
    expect(wav.toString("ascii", 0, 4)).toBe("RIFF");
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.toString("ascii", 8, 16)).toBe("WAVEfmt ");
    expect(wav.readUInt32LE(40)).toBe(wav.length - 44);
    expect(readWavLayout(wav)).toEqual({ audioFormat: 1, channels: 2, sampleRate: 8000, bitsPerSample: 16, dataOffset: 44, dataLength: 48_000 });
    expect(wavDurationSeconds(wav)).toBe(1.5);
  });

  it("writes a sine that peaks at the requested amplitude", () => {
    const wav = makeWav({ seconds: 0.01, sampleRate: 8000, channels: 1, frequencyHz: 2000, amplitude: 0.25 });
    const samples = Array.from({ length: 80 }, (_, index) => wav.readInt16LE(44 + index * 2));
    expect(Math.max(...samples)).toBe(Math.round(0.25 * 32767));
    expect(samples[0]).toBe(0);
  });

  it("refuses nonsense formats instead of writing a broken header", () => {
    expect(() => makeWav({ seconds: 1, sampleRate: 0, channels: 1, frequencyHz: 440 })).toThrow(RangeError);
    expect(() => makeWav({ seconds: -1, sampleRate: 8000, channels: 1, frequencyHz: 440 })).toThrow(RangeError);
    expect(() => wavFromPcm(Buffer.alloc(3), { sampleRate: 8000, channels: 1 })).toThrow(RangeError);
  });
});

describe("readWavLayout", () => {
  it("reads to the end of the buffer when a streaming writer left the sizes as 0xFFFFFFFF", () => {
    const wav = makeWav({ seconds: 0.5, sampleRate: 8000, channels: 1, frequencyHz: 440 });
    wav.writeUInt32LE(0xffffffff, 4);
    wav.writeUInt32LE(0xffffffff, 40);
    expect(readWavLayout(wav).dataLength).toBe(8000);
  });

  it("skips chunks before the samples, such as the LIST chunk ffmpeg writes", () => {
    const plain = makeWav({ seconds: 0.25, sampleRate: 8000, channels: 1, frequencyHz: 440 });
    const list = Buffer.concat([Buffer.from("LIST"), Buffer.from([5, 0, 0, 0]), Buffer.from("INFOx"), Buffer.alloc(1)]);
    const withList = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
    const layout = readWavLayout(withList);
    expect(layout.dataOffset).toBe(44 + list.length);
    expect(layout.dataLength).toBe(4000);
  });

  it("only counts whole frames when the data is cut mid-frame", () => {
    const wav = makeWav({ seconds: 0.25, sampleRate: 8000, channels: 2, frequencyHz: 440 });
    expect(readWavLayout(wav.subarray(0, wav.length - 3)).dataLength).toBe(8000 - 4);
  });

  it("rejects buffers that are not RIFF/WAVE or have no samples", () => {
    expect(() => readWavLayout(Buffer.from("ID3 not a wav at all"))).toThrow(/RIFF/);
    expect(() => readWavLayout(makeWav({ seconds: 0.1, sampleRate: 8000, channels: 1, frequencyHz: 1 }).subarray(0, 36))).toThrow(/data/);
  });
});

describe("planPieces", () => {
  it("cuts 75 s at 30 s into 0–30, 30–60 and 60–75", () => {
    const pieces = planPieces({ totalFrames: 75 * 16_000, sampleRate: 16_000, pieceSeconds: 30, reserveFrames: 0 });
    expect(pieces.map((piece) => [piece.startFrame / 16_000, piece.endFrame / 16_000])).toEqual([
      [0, 30],
      [30, 60],
      [60, 75],
    ]);
  });

  it("shortens every piece by the frames the output format will add, leaving no gaps", () => {
    const pieces = planPieces({ totalFrames: 61_000, sampleRate: 1000, pieceSeconds: 30, reserveFrames: 100 });
    expect(pieces.map((piece) => piece.endFrame - piece.startFrame)).toEqual([29_900, 29_900, 1200]);
    for (let index = 1; index < pieces.length; index++) expect(pieces[index]!.startFrame).toBe(pieces[index - 1]!.endFrame);
  });

  it("drops a trailing remainder shorter than a quarter second, but keeps a short input whole", () => {
    expect(planPieces({ totalFrames: 60_100, sampleRate: 1000, pieceSeconds: 30, reserveFrames: 0 })).toHaveLength(2);
    expect(planPieces({ totalFrames: 100, sampleRate: 1000, pieceSeconds: 30, reserveFrames: 0 })).toEqual([{ startFrame: 0, endFrame: 100 }]);
  });

  it("refuses a piece length that leaves no room for audio", () => {
    expect(() => planPieces({ totalFrames: 1000, sampleRate: 1000, pieceSeconds: 1, reserveFrames: 1000 })).toThrow(RangeError);
  });
});

describe("mp3 arithmetic", () => {
  it("estimates a CBR mp3 as duration × bitrate plus delay, one frame of padding and a small tag", () => {
    // 60 s at 128 kbps is 960 000 bytes of audio; 48 kHz adds (1105 + 1152) samples ≈ 47 ms.
    expect(estimateMp3Bytes(60, 128, 48_000)).toBe(Math.ceil((60 + 2257 / 48_000) * 16_000) + 1024);
  });

  it("keeps sample rates mp3 allows and moves others to the nearest allowed one above", () => {
    expect(mp3SampleRateFor(44_100)).toBe(44_100);
    expect(mp3SampleRateFor(16_000)).toBe(16_000);
    expect(mp3SampleRateFor(37_800)).toBe(44_100);
    expect(mp3SampleRateFor(96_000)).toBe(48_000);
  });
});

describe("classifyFailure", () => {
  it("reads ffmpeg's stderr as undecodable input, missing audio, or an internal failure", () => {
    expect(classifyFailure("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] moov atom not found\npipe:0: Invalid data found when processing input\n", "pipe:0")).toBe(
      "undecodable",
    );
    expect(classifyFailure("file:/tmp/x/input: End of file\n", "file:/tmp/x/input")).toBe("undecodable");
    expect(classifyFailure("Stream map '0:a:0' matches no streams.\nTo ignore this, add a trailing '?' to the map.\n", "pipe:0")).toBe("no-audio");
    expect(classifyFailure("Unknown encoder 'libmp3lame'\n", "pipe:0")).toBe("failed");
    expect(classifyFailure("file:/tmp/x/input: Permission denied\n", "file:/tmp/x/input")).toBe("failed");
  });
});
