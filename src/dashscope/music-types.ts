/** The contract between the Discord side and the Fun-Music client (`music.ts`). */

export type VocalGender = "female" | "male";
export type AudioFormat = "mp3" | "wav";

/** What a user asked for, before any limit is checked. */
export type SongInput = {
  prompt?: string | undefined;
  lyrics?: string | undefined;
  gender: VocalGender;
  format: AudioFormat;
  watermark: boolean;
};

/** Which side of the seed's limits an input falls on. */
export type GenerationMode = "streaming" | "non-streaming";

/** The unit a limit is counted in, as the seed states it. */
export type LimitUnit = "chinese-characters" | "english-characters" | "english-words" | "characters";

export type LimitProblem = {
  field: "lyrics" | "prompt";
  unit: LimitUnit;
  min: number;
  max: number;
  actual: number;
};

export type SongInputCheck =
  | {
      ok: true;
      mode: GenerationMode;
      /** The field that reaches the model: lyrics win when both are given, as in the API. */
      uses: "lyrics" | "prompt";
      promptIgnored: boolean;
    }
  | {
      ok: false;
      /** `invisible`: the field was given but holds nothing once normalized (zero-width, control characters…). */
      problem: LimitProblem | { field: "input"; reason: "missing" } | { field: "lyrics" | "prompt"; reason: "invisible" };
    };

export type SongProgress = {
  /** Bytes of audio received so far (streaming only; 0 otherwise). */
  audioBytes: number;
  /** Seconds of audio those bytes hold, when it can be told from the stream's headers. */
  audioSeconds: number | undefined;
};

export type GeneratedSong = {
  /**
   * Exactly the bytes Fun-Music produced. Empty when they could not be fetched from the result URL:
   * the song is still paid for and its URL still valid, so callers deliver the link instead.
   */
  audio: Buffer;
  /** Why `audio` is empty, when it is. */
  audioError?: unknown;
  format: AudioFormat;
  /** OSS URL of the complete file (valid 24 h), and when it expires (Unix seconds). */
  url: string | undefined;
  expiresAt: number | undefined;
  audioId: string | undefined;
  lyrics: string | undefined;
  channels: number | undefined;
  sampleRate: number | undefined;
  /** `usage.duration`: seconds of music billed. */
  billedSeconds: number | undefined;
  requestId: string | undefined;
  mode: GenerationMode;
};
