import type { AudioFormat } from "./music-types.js";

/**
 * How many seconds of music the first bytes of a stream hold, read from the file's own header,
 * so progress can say "0:42 of music so far" while Fun-Music streams.
 *
 * - WAV: the `fmt ` chunk's byte rate (bytes per second), counted from the start of `data`.
 * - MP3: the first frame header's bitrate, counted from the first frame (after any ID3v2 tag).
 *   Exact for constant bitrate; for variable bitrate it is an estimate, which is all progress
 *   needs.
 */

/** Where the audio starts and how many bytes make a second of it. */
export type AudioByteRate = { dataOffset: number; bytesPerSecond: number };

export type ByteRateReading =
  | ({ kind: "found" } & AudioByteRate)
  /** The header goes on past the bytes we have; call again with more. */
  | { kind: "need-more" }
  /** Not a header we can read; more bytes will not help. */
  | { kind: "unreadable" };

/** Beyond this many bytes without a readable header we stop looking (a huge ID3 cover image). */
export const MAX_HEADER_BYTES = 1024 * 1024;

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

function readWavByteRate(head: Uint8Array): ByteRateReading {
  if (head.length < 12) return { kind: "need-more" };
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (ascii(head, 0, 4) !== "RIFF" || ascii(head, 8, 4) !== "WAVE") return { kind: "unreadable" };
  let byteRate: number | undefined;
  let offset = 12;
  // Walk the chunks: `fmt ` usually comes first, but LIST/fact chunks may sit before `data`.
  while (offset + 8 <= head.length) {
    const id = ascii(head, offset, 4);
    const size = view.getUint32(offset + 4, true);
    const bodyStart = offset + 8;
    if (id === "data") {
      if (byteRate === undefined) return { kind: "unreadable" };
      return { kind: "found", dataOffset: bodyStart, bytesPerSecond: byteRate };
    }
    if (id === "fmt ") {
      if (bodyStart + 16 > head.length) return { kind: "need-more" };
      const rate = view.getUint32(bodyStart + 8, true);
      if (rate === 0) return { kind: "unreadable" };
      byteRate = rate;
    }
    // Chunks are padded to an even size (RIFF rule).
    offset = bodyStart + size + (size % 2);
  }
  return offset > MAX_HEADER_BYTES ? { kind: "unreadable" } : { kind: "need-more" };
}

/** Bitrates in kbit/s by [MPEG-1 ? 0 : 1][layer 1..3 → 0..2][index]. */
const bitratesKbps: readonly (readonly (readonly number[])[])[] = [
  [
    [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  ],
  [
    [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  ],
];
/** Sample rates in Hz by version bits (0 = MPEG-2.5, 2 = MPEG-2, 3 = MPEG-1). */
const sampleRates: Record<number, readonly number[]> = {
  0: [11025, 12000, 8000],
  2: [22050, 24000, 16000],
  3: [44100, 48000, 32000],
};

type Mp3Frame = { bitrate: number; frameLength: number };

function readMp3FrameHeader(bytes: Uint8Array, offset: number): Mp3Frame | undefined {
  if (offset + 4 > bytes.length) return undefined;
  const b1 = bytes[offset + 1] as number;
  const b2 = bytes[offset + 2] as number;
  if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b1 >> 3) & 0b11;
  const layerBits = (b1 >> 1) & 0b11;
  const bitrateIndex = b2 >> 4;
  const sampleRateIndex = (b2 >> 2) & 0b11;
  const padding = (b2 >> 1) & 1;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || sampleRateIndex === 3) {
    return undefined;
  }
  const layer = 4 - layerBits; // 1, 2 or 3
  const mpeg1 = versionBits === 3;
  const kbps = bitratesKbps[mpeg1 ? 0 : 1]?.[layer - 1]?.[bitrateIndex];
  const sampleRate = sampleRates[versionBits]?.[sampleRateIndex];
  if (kbps === undefined || sampleRate === undefined) return undefined;
  const bitrate = kbps * 1000;
  const frameLength =
    layer === 1
      ? (Math.floor((12 * bitrate) / sampleRate) + padding) * 4
      : Math.floor(((layer === 3 && !mpeg1 ? 72 : 144) * bitrate) / sampleRate) + padding;
  return { bitrate, frameLength };
}

function readMp3ByteRate(head: Uint8Array): ByteRateReading {
  let start = 0;
  if (head.length < 10) return { kind: "need-more" };
  if (ascii(head, 0, 3) === "ID3") {
    // ID3v2 size: four 7-bit "syncsafe" bytes, not counting the 10-byte header (+10 with footer).
    const size = (((head[6] as number) & 0x7f) << 21) | (((head[7] as number) & 0x7f) << 14) | (((head[8] as number) & 0x7f) << 7) | ((head[9] as number) & 0x7f);
    const hasFooter = ((head[5] as number) & 0x10) !== 0;
    start = 10 + size + (hasFooter ? 10 : 0);
    if (start > MAX_HEADER_BYTES) return { kind: "unreadable" };
  }
  // Look for the first frame. Right after the tag a header is trusted alone; found by scanning
  // (padding, junk) it must be followed by a second header where its length says, since 0xFFE
  // alone turns up by chance.
  const scanLimit = Math.min(head.length, start + 64 * 1024);
  for (let offset = start; offset + 4 <= scanLimit; offset++) {
    const frame = readMp3FrameHeader(head, offset);
    if (!frame) continue;
    if (offset !== start) {
      const next = offset + frame.frameLength;
      if (next + 4 > head.length) return { kind: "need-more" };
      if (!readMp3FrameHeader(head, next)) continue;
    }
    return { kind: "found", dataOffset: offset, bytesPerSecond: frame.bitrate / 8 };
  }
  if (head.length >= start + 64 * 1024) return { kind: "unreadable" };
  return { kind: "need-more" };
}

/** Reads where the audio starts and its byte rate from the first bytes of a file. */
export function readAudioByteRate(format: AudioFormat, head: Uint8Array): ByteRateReading {
  return format === "wav" ? readWavByteRate(head) : readMp3ByteRate(head);
}

/**
 * Seconds of audio in the first `totalBytes` bytes of a stream whose first bytes are `head`.
 * `undefined` when the header can't (yet) be read.
 */
export function estimateAudioSeconds(format: AudioFormat, head: Uint8Array, totalBytes: number): number | undefined {
  const reading = readAudioByteRate(format, head);
  if (reading.kind !== "found") return undefined;
  return secondsFromByteRate(reading, totalBytes);
}

/** Seconds held by `totalBytes` bytes, given a header already read. */
export function secondsFromByteRate(rate: AudioByteRate, totalBytes: number): number {
  return Math.max(0, totalBytes - rate.dataOffset) / rate.bytesPerSecond;
}
