import type { GenerationMode, LimitProblem, LimitUnit, SongInput, SongInputCheck } from "./music-types.js";

/**
 * Fun-Music's length limits, and how we count text against them, before any paid call.
 *
 * The limits, from the seed (`fun-music-api-reference.en.txt`, "Character limits"):
 *
 * - lyrics, non-streaming: 5–350 Chinese characters, 5–2,000 English characters;
 * - lyrics, streaming:     300–350 Chinese characters, 200–250 English words;
 * - prompt, non-streaming: 1–2,000 characters;
 * - prompt, streaming:     5–1,000 Chinese characters or English words.
 *
 * The seed does not say how the service counts, so these rules are ours. One principle runs
 * through them: we count the text exactly as we send it, because a service most plausibly
 * measures the string it receives. What we send is the user's text normalized
 * (`normalizeSongText`) and trimmed: nothing else is removed.
 *
 * - **Chinese or English.** Text is Chinese when it has at least as many Han characters as
 *   Latin-letter words (and at least one Han character). Each Han character is one sung syllable
 *   and each English word roughly one, which is why 350 Chinese characters sit beside 250 English
 *   words in the streaming limits; so the unit the text is mostly written in decides.
 *   "Any Han character makes it Chinese" would count an English song that mentions 北京 as 2
 *   Chinese characters and reject it as too short, while Chinese lyrics with an English "baby"
 *   stay Chinese either way.
 * - **Chinese characters** are Han characters (`\p{Script=Han}`), one per code point: the seed's
 *   unit is 汉字 (the zh page says 字), so punctuation (，。！), digits, spaces, line breaks, Latin
 *   letters and section tags such as `[verse]` are not counted.
 * - **English characters** and prompt **characters** are every code point: letters, digits,
 *   punctuation, spaces, line breaks and section tags (`[verse]` is 7). They are in the string the
 *   service receives, and counting them is the strict reading at the 2,000 upper bound.
 * - **English words** are whitespace-separated tokens (`len(text.split())`), so "don't" and
 *   "sun-kissed" are one word each, and `[chorus]` or a lone "—" is a word too: strict at the
 *   250 upper bound, and what a service splitting on whitespace would count.
 * - Text that is empty or whitespace-only is missing. Text that was given but is nothing once
 *   normalized (only zero-width, control or direction characters) is refused as invisible: sent
 *   as it was, it would be billed for a song of nothing.
 *
 * The service stays the judge: if it counts otherwise, its `InvalidParameter` (HTTP 400)
 * reaches the user through the normal error path.
 */

type Range = { min: number; max: number };

/** C0/C1 control characters and DEL (`\p{Cc}`), except newline and tab, which lyrics use. */
const controlCharacters = /(?![\n\t])\p{Cc}/gu;
/**
 * Invisible format characters that change nothing a listener hears: zero-width space, non-joiner
 * and joiner (U+200B–200D), LRM/RLM (U+200E–200F), bidi embeddings and overrides (U+202A–202E),
 * word joiner (U+2060), bidi isolates (U+2066–2069), Arabic letter mark (U+061C), BOM (U+FEFF).
 */
const invisibleFormatCharacters = /[\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\u061C\uFEFF]/gu;

/**
 * The text as it is counted and sent: line breaks as `\n` (a lone `\r` is a line break too),
 * control characters other than newline and tab removed, invisible format characters removed,
 * then NFC (last, so a removal cannot leave a decomposed pair behind). Idempotent.
 */
export function normalizeSongText(text: string): string {
  return text.replace(/\r\n?/g, "\n").replace(controlCharacters, "").replace(invisibleFormatCharacters, "").normalize("NFC");
}

/** The seed's limits, by field, mode and unit. */
export const SONG_LIMITS = {
  lyrics: {
    "non-streaming": { chinese: { min: 5, max: 350 }, english: { min: 5, max: 2000 } },
    streaming: { chinese: { min: 300, max: 350 }, english: { min: 200, max: 250 } },
  },
  prompt: {
    "non-streaming": { any: { min: 1, max: 2000 } },
    streaming: { chinese: { min: 5, max: 1000 }, english: { min: 5, max: 1000 } },
  },
} as const satisfies {
  lyrics: Record<GenerationMode, { chinese: Range; english: Range }>;
  prompt: { "non-streaming": { any: Range }; streaming: { chinese: Range; english: Range } };
};

const hanPattern = /\p{Script=Han}/gu;
const latinLetterPattern = /\p{Script=Latin}/u;

/** Han characters (汉字) in `text`, one per code point. */
export function countHanCharacters(text: string): number {
  return text.match(hanPattern)?.length ?? 0;
}

/** Code points in `text` (so an emoji or a rare Han character counts once, not twice). */
export function countCharacters(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Whitespace-separated tokens, as `len(text.split())` counts them. */
export function countEnglishWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === "" ? 0 : trimmed.split(/\s+/).length;
}

/** Tokens with a Latin letter: the "English words" that vote in `detectLanguage`. */
function countLatinWords(text: string): number {
  let count = 0;
  for (const token of text.split(/\s+/)) if (latinLetterPattern.test(token)) count++;
  return count;
}

/** Chinese when Han characters are at least as many as Latin-letter words (see file comment). */
export function detectLanguage(text: string): "chinese" | "english" {
  const han = countHanCharacters(text);
  return han > 0 && han >= countLatinWords(text) ? "chinese" : "english";
}

/** How long text is in the unit that decides each limit. */
export type TextMeasure = {
  language: "chinese" | "english";
  hanCharacters: number;
  englishWords: number;
  characters: number;
};

/** Measures text as it will be sent (trimmed). */
export function measureText(text: string): TextMeasure {
  const trimmed = text.trim();
  return {
    language: detectLanguage(trimmed),
    hanCharacters: countHanCharacters(trimmed),
    englishWords: countEnglishWords(trimmed),
    characters: countCharacters(trimmed),
  };
}

function within(value: number, range: Range): boolean {
  return value >= range.min && value <= range.max;
}

function isPresent(text: string | undefined): text is string {
  return text !== undefined && text.trim() !== "";
}

type FieldVerdict = { ok: true; mode: GenerationMode } | { ok: false; problem: LimitProblem };

function checkLyricsAs(m: TextMeasure, language: "chinese" | "english"): FieldVerdict {
  const limits = SONG_LIMITS.lyrics;
  if (language === "chinese") {
    if (within(m.hanCharacters, limits.streaming.chinese)) return { ok: true, mode: "streaming" };
    if (within(m.hanCharacters, limits["non-streaming"].chinese)) return { ok: true, mode: "non-streaming" };
    return { ok: false, problem: problem("lyrics", "chinese-characters", limits["non-streaming"].chinese, m.hanCharacters) };
  }
  if (within(m.englishWords, limits.streaming.english)) return { ok: true, mode: "streaming" };
  if (within(m.characters, limits["non-streaming"].english)) return { ok: true, mode: "non-streaming" };
  return { ok: false, problem: problem("lyrics", "english-characters", limits["non-streaming"].english, m.characters) };
}

function checkPromptAs(m: TextMeasure, language: "chinese" | "english"): FieldVerdict {
  const limits = SONG_LIMITS.prompt;
  const streamingCount = language === "chinese" ? m.hanCharacters : m.englishWords;
  if (within(streamingCount, limits.streaming[language])) return { ok: true, mode: "streaming" };
  if (within(m.characters, limits["non-streaming"].any)) return { ok: true, mode: "non-streaming" };
  return { ok: false, problem: problem("prompt", "characters", limits["non-streaming"].any, m.characters) };
}

/**
 * The seed doesn't say how the service tells Chinese text from English, so text that mixes both
 * scripts must pass under either reading: it is accepted only if both readings accept it, and
 * streamed only if both would stream. A refusal reports the reading `detectLanguage` picks when
 * that one fails, else the other.
 */
/** `[verse]`, `[chorus]`… on their own lines are structure, not English words in the song. */
function withoutSectionTags(text: string): string {
  return text.replace(/^\s*\[[^\]\n]{1,40}\]\s*$/gm, "");
}

function checkUnderEveryReading(text: string, check: (m: TextMeasure, language: "chinese" | "english") => FieldVerdict): FieldVerdict {
  const m = measureText(text);
  const readings: Array<"chinese" | "english"> = [m.language];
  if (m.hanCharacters > 0 && countLatinWords(withoutSectionTags(text)) > 0) readings.push(m.language === "chinese" ? "english" : "chinese");
  const verdicts = readings.map((language) => check(m, language));
  const refusal = verdicts.find((verdict) => !verdict.ok);
  if (refusal) return refusal;
  return { ok: true, mode: verdicts.every((verdict) => verdict.ok && verdict.mode === "streaming") ? "streaming" : "non-streaming" };
}

/** Reports the non-streaming limit: the widest one, so the one the user can most easily meet. */
function problem(field: "lyrics" | "prompt", unit: LimitUnit, range: Range, actual: number): LimitProblem {
  return { field, unit, min: range.min, max: range.max, actual };
}

/**
 * Checks a song request against Fun-Music's limits and picks the mode: streaming when the text
 * fits the streaming limits (progress while it plays in), else non-streaming when it fits those,
 * else the broken limit. Lyrics win when both are given, as in the API ("If both lyrics and
 * prompt are provided, lyrics takes effect and prompt is ignored"). Limits apply to the
 * normalized text (`normalizeSongText`), which is what `buildSongRequestBody` sends.
 */
export function checkSongInput(input: SongInput): SongInputCheck {
  const lyrics = input.lyrics === undefined ? undefined : normalizeSongText(input.lyrics);
  const prompt = input.prompt === undefined ? undefined : normalizeSongText(input.prompt);
  // Something typed that normalizes to nothing is refused, not skipped: lyrics made of zero-width
  // characters must not quietly turn into a prompt-only song.
  for (const field of ["lyrics", "prompt"] as const) {
    if (isPresent(input[field]) && !isPresent(field === "lyrics" ? lyrics : prompt)) return { ok: false, problem: { field, reason: "invisible" } };
  }
  const hasLyrics = isPresent(lyrics);
  const hasPrompt = isPresent(prompt);
  if (!hasLyrics && !hasPrompt) return { ok: false, problem: { field: "input", reason: "missing" } };
  const uses = hasLyrics ? "lyrics" : "prompt";
  const verdict = hasLyrics ? checkUnderEveryReading(lyrics as string, checkLyricsAs) : checkUnderEveryReading(prompt as string, checkPromptAs);
  if (!verdict.ok) return { ok: false, problem: verdict.problem };
  return { ok: true, mode: verdict.mode, uses, promptIgnored: hasLyrics && hasPrompt };
}
