/**
 * Local audio work (probe, transcode, fit under a size limit, split) behind one small interface.
 * `main.ts` builds it once with `createAudioTools`; everything else receives the `AudioTools` object.
 */
export {
  createAudioTools,
  estimateMp3Bytes,
  mp3SampleRateFor,
  MP3_BITRATES_KBPS,
  type AudioCallOptions,
  type AudioPiece,
  type AudioProbe,
  type AudioTarget,
  type AudioTools,
  type AudioToolsOptions,
  type FittedAudio,
  type Mp3CopyTarget,
} from "./tools.js";
export { AudioToolError, type AudioToolErrorReason } from "./errors.js";
export { locateFfmpeg, type FfmpegLocation, type FfmpegSource } from "./locate.js";
export { makeWav, readWavLayout, wavDurationSeconds, wavFromPcm, type WavLayout } from "./wav.js";
