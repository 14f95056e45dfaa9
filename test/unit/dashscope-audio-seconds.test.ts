import { describe, expect, it } from "vitest";
import { estimateAudioSeconds, readAudioByteRate } from "../../src/dashscope/audio-seconds.js";

/** A canonical 44-byte PCM WAV header (48 kHz, stereo, 16-bit → 192,000 bytes/s). */
function wavHeader(options: { extraChunk?: Buffer } = {}): Buffer {
  const fmt = Buffer.alloc(24);
  fmt.write("fmt ", 0, "ascii");
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8); // PCM
  fmt.writeUInt16LE(2, 10); // channels
  fmt.writeUInt32LE(48_000, 12); // sample rate
  fmt.writeUInt32LE(192_000, 16); // byte rate
  fmt.writeUInt16LE(4, 20); // block align
  fmt.writeUInt16LE(16, 22); // bits per sample
  const data = Buffer.alloc(8);
  data.write("data", 0, "ascii");
  // Streamed WAVs often carry 0 or 0xFFFFFFFF here: the length isn't known yet.
  data.writeUInt32LE(0xffffffff, 4);
  const riff = Buffer.alloc(12);
  riff.write("RIFF", 0, "ascii");
  riff.writeUInt32LE(0xffffffff, 4);
  riff.write("WAVE", 8, "ascii");
  return Buffer.concat([riff, fmt, ...(options.extraChunk ? [options.extraChunk] : []), data]);
}

/** An MPEG frame header; defaults to MPEG-1 Layer III, 128 kbit/s, 44.1 kHz. */
function mp3Frame(options: { mpeg2?: boolean; bitrateIndex?: number; sampleRateIndex?: number } = {}): Buffer {
  const version = options.mpeg2 ? 0b10 : 0b11;
  const header = Buffer.from([
    0xff,
    0xe0 | (version << 3) | (0b01 << 1) | 1,
    ((options.bitrateIndex ?? 9) << 4) | ((options.sampleRateIndex ?? 0) << 2),
    0x44,
  ]);
  const bitrate = (options.mpeg2 ? [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160] : [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320])[
    options.bitrateIndex ?? 9
  ] as number;
  const sampleRate = (options.mpeg2 ? [22050, 24000, 16000] : [44100, 48000, 32000])[options.sampleRateIndex ?? 0] as number;
  const length = Math.floor(((options.mpeg2 ? 72 : 144) * bitrate * 1000) / sampleRate);
  return Buffer.concat([header, Buffer.alloc(length - 4, 0x55)]);
}

function id3Tag(bodyBytes: number): Buffer {
  const header = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0]);
  header[6] = (bodyBytes >> 21) & 0x7f;
  header[7] = (bodyBytes >> 14) & 0x7f;
  header[8] = (bodyBytes >> 7) & 0x7f;
  header[9] = bodyBytes & 0x7f;
  return Buffer.concat([header, Buffer.alloc(bodyBytes)]);
}

describe("audio seconds from a stream's header", () => {
  it("reads a WAV byte rate and counts seconds from the start of the data chunk", () => {
    const head = wavHeader();
    expect(readAudioByteRate("wav", head)).toEqual({ kind: "found", dataOffset: 44, bytesPerSecond: 192_000 });
    expect(estimateAudioSeconds("wav", head, 44)).toBe(0);
    expect(estimateAudioSeconds("wav", head, 44 + 192_000 * 2.5)).toBe(2.5);
  });

  it("walks past other chunks (LIST) before the WAV data chunk", () => {
    const list = Buffer.concat([Buffer.from("LIST", "ascii"), Buffer.from([5, 0, 0, 0]), Buffer.alloc(6)]);
    const reading = readAudioByteRate("wav", wavHeader({ extraChunk: list }));
    // 5-byte body padded to 6: RIFF chunks are word-aligned.
    expect(reading).toEqual({ kind: "found", dataOffset: 58, bytesPerSecond: 192_000 });
  });

  it("asks for more bytes while the WAV header is cut short, and gives up on non-RIFF data", () => {
    const head = wavHeader();
    for (let length = 0; length < 44; length++) {
      expect(readAudioByteRate("wav", head.subarray(0, length)).kind, `${length} bytes`).toBe("need-more");
    }
    expect(readAudioByteRate("wav", Buffer.from("OggS not a wav file")).kind).toBe("unreadable");
    expect(estimateAudioSeconds("wav", head.subarray(0, 20), 20)).toBeUndefined();
  });

  it("reads an MP3 bitrate from its first frame header", () => {
    const head = Buffer.concat([mp3Frame(), mp3Frame()]);
    expect(readAudioByteRate("mp3", head)).toEqual({ kind: "found", dataOffset: 0, bytesPerSecond: 16_000 });
    expect(estimateAudioSeconds("mp3", head, 16_000 * 3)).toBe(3);
  });

  it("skips an ID3v2 tag before the first MP3 frame", () => {
    const head = Buffer.concat([id3Tag(1000), mp3Frame({ bitrateIndex: 14, sampleRateIndex: 1 })]);
    expect(readAudioByteRate("mp3", head)).toEqual({ kind: "found", dataOffset: 1010, bytesPerSecond: 40_000 });
    expect(estimateAudioSeconds("mp3", head, 1010 + 40_000)).toBe(1);
  });

  it("reads MPEG-2 Layer III bitrates from their own table", () => {
    const head = mp3Frame({ mpeg2: true, bitrateIndex: 8, sampleRateIndex: 1 });
    expect(readAudioByteRate("mp3", head)).toEqual({ kind: "found", dataOffset: 0, bytesPerSecond: 8000 });
  });

  it("asks for more while an ID3 tag is still arriving", () => {
    expect(readAudioByteRate("mp3", id3Tag(5000).subarray(0, 300)).kind).toBe("need-more");
  });

  it("trusts a frame found by scanning only when a second frame follows it", () => {
    const junk = Buffer.from([0x00, 0xff, 0xfb, 0x00, 0x12]); // 0xFFFB then an invalid bitrate byte
    const head = Buffer.concat([junk, mp3Frame(), mp3Frame()]);
    expect(readAudioByteRate("mp3", head)).toEqual({ kind: "found", dataOffset: junk.length, bytesPerSecond: 16_000 });
    const lonely = Buffer.concat([Buffer.from([0x00]), mp3Frame().subarray(0, 100)]);
    expect(readAudioByteRate("mp3", lonely).kind).toBe("need-more");
  });
});
