/**
 * RIFF/WAVE helpers in plain TypeScript: a 16-bit PCM writer (for tests and fixtures, and to wrap
 * slices of decoded audio) and a tolerant header reader (ffmpeg writing WAV to a pipe cannot seek
 * back, so it leaves the RIFF and data sizes at 0xFFFFFFFF; we read "to the end" in that case).
 */

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** What a size field holds when the writer could not come back to fill it in. */
const UNKNOWN_SIZE = 0xffffffff;
export const CANONICAL_WAV_HEADER_BYTES = 44;

export type WavLayout = {
  /** 1 for integer PCM, 3 for float; for WAVE_FORMAT_EXTENSIBLE, the sub-format's code. */
  audioFormat: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Bytes of sample data actually present in the buffer (whole frames only). */
  dataLength: number;
};

/**
 * A 16-bit PCM WAV of a sine tone, every channel the same. Deterministic, so tests can rely on
 * exact sizes: 44 + seconds × sampleRate × channels × 2 bytes (sample count rounded to nearest).
 */
export function makeWav(options: {
  seconds: number;
  sampleRate: number;
  channels: number;
  frequencyHz: number;
  /** Peak level, 0–1. Default 0.5 (−6 dBFS) so encoders have headroom. */
  amplitude?: number;
}): Buffer {
  const { seconds, sampleRate, channels, frequencyHz } = options;
  const amplitude = options.amplitude ?? 0.5;
  if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new RangeError(`seconds must be ≥ 0, got ${seconds}`);
  assertFormat(sampleRate, channels);
  if (!(amplitude >= 0 && amplitude <= 1)) throw new RangeError(`amplitude must be within 0–1, got ${amplitude}`);

  const frames = Math.round(seconds * sampleRate);
  const pcm = Buffer.allocUnsafe(frames * channels * 2);
  const step = (2 * Math.PI * frequencyHz) / sampleRate;
  const peak = amplitude * 32767;
  let offset = 0;
  for (let frame = 0; frame < frames; frame++) {
    const sample = Math.round(peak * Math.sin(step * frame));
    for (let channel = 0; channel < channels; channel++) {
      pcm.writeInt16LE(sample, offset);
      offset += 2;
    }
  }
  return wavFromPcm(pcm, { sampleRate, channels });
}

/** Prepends a canonical 44-byte header to interleaved signed 16-bit little-endian samples. */
export function wavFromPcm(pcm: Buffer, format: { sampleRate: number; channels: number }): Buffer {
  const { sampleRate, channels } = format;
  assertFormat(sampleRate, channels);
  const blockAlign = channels * 2;
  if (pcm.length % blockAlign !== 0) {
    throw new RangeError(`PCM length ${pcm.length} is not a whole number of ${channels}-channel 16-bit frames`);
  }
  if (pcm.length > UNKNOWN_SIZE - CANONICAL_WAV_HEADER_BYTES) throw new RangeError("PCM too large for a RIFF file");
  const header = Buffer.alloc(CANONICAL_WAV_HEADER_BYTES);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

/**
 * Reads the layout of a RIFF/WAVE buffer. Walks the chunks (ffmpeg adds a LIST chunk before
 * `data`) and accepts the "unknown size" a streaming writer leaves behind.
 * Throws `Error` when the buffer is not a WAV with a `fmt ` and a `data` chunk.
 */
export function readWavLayout(wav: Buffer): WavLayout {
  if (wav.length < 12 || wav.toString("ascii", 0, 4) !== "RIFF" || wav.toString("ascii", 8, 12) !== "WAVE") {
    throw new Error("not a RIFF/WAVE buffer");
  }
  let fmt: Omit<WavLayout, "dataOffset" | "dataLength"> | undefined;
  let offset = 12;
  while (offset + 8 <= wav.length) {
    const id = wav.toString("ascii", offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > wav.length) throw new Error("WAV fmt chunk is truncated");
      let audioFormat = wav.readUInt16LE(body);
      if (audioFormat === WAVE_FORMAT_EXTENSIBLE && size >= 40 && body + 26 <= wav.length) {
        // The sub-format GUID starts with the plain format code.
        audioFormat = wav.readUInt16LE(body + 24);
      }
      fmt = {
        audioFormat,
        channels: wav.readUInt16LE(body + 2),
        sampleRate: wav.readUInt32LE(body + 4),
        bitsPerSample: wav.readUInt16LE(body + 14),
      };
    } else if (id === "data") {
      if (fmt === undefined) throw new Error("WAV data chunk comes before its fmt chunk");
      const available = wav.length - body;
      const declared = size === UNKNOWN_SIZE ? available : Math.min(size, available);
      const blockAlign = Math.max(1, (fmt.channels * fmt.bitsPerSample) / 8);
      const dataLength = declared - (declared % blockAlign);
      return { ...fmt, dataOffset: body, dataLength };
    }
    // Chunks are padded to an even length.
    offset = body + size + (size % 2);
  }
  throw new Error(fmt === undefined ? "WAV has no fmt chunk" : "WAV has no data chunk");
}

/** Duration of a WAV buffer's sample data, in seconds. */
export function wavDurationSeconds(wav: Buffer): number {
  const layout = readWavLayout(wav);
  const bytesPerSecond = (layout.sampleRate * layout.channels * layout.bitsPerSample) / 8;
  return bytesPerSecond === 0 ? 0 : layout.dataLength / bytesPerSecond;
}

function assertFormat(sampleRate: number, channels: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
  if (!Number.isInteger(channels) || channels < 1 || channels > 8) throw new RangeError(`channels must be 1–8, got ${channels}`);
}
