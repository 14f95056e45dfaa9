/**
 * The Fun-Music text limits, exactly as the seed states them, and the fake's own way of counting.
 *
 * Seed (fun-music-api-reference.en.txt):
 * - lyrics, non-streaming: 5–350 Chinese characters, 5–2,000 English characters;
 * - lyrics, streaming:     300–350 Chinese characters, 200–250 English words;
 * - prompt, non-streaming: 1–2,000 characters;
 * - prompt, streaming:     5–1,000 Chinese characters or English words.
 *
 * The seed does not say how it counts, so the fake decides, and this implementation is kept apart
 * from the bot's on purpose: two independent readings of the same sentence catch each other's bugs.
 *
 * Classification: a text is Chinese when it holds at least one Han ideograph (Unicode
 * Script=Han), otherwise English. Mixed lyrics ("副歌 baby 你好") are therefore Chinese: the Chinese
 * limit is the tighter one and a real service is unlikely to be looser. Scripts with no Han at all
 * (kana, Hangul, Cyrillic…) fall into the English rules.
 *
 * Counting (all counts are Unicode code points, never UTF-16 units, so an emoji counts once):
 * - Chinese characters: only Han ideographs. Punctuation (，。！), spaces, line breaks, Latin letters
 *   and section tags are not Chinese characters, so they are not counted. (The zh page says 字 for
 *   the streaming window, literally "Han characters".)
 * - English characters: every code point of the string as sent — letters, digits, spaces, line
 *   breaks, punctuation and section tags. A service most plausibly measures the string it received,
 *   and counting everything is the strict reading at the 2,000 upper bound.
 * - English words: runs of non-whitespace separated by whitespace (`"don't"` is one word, a lone
 *   `-` is one word). A section tag such as `[verse]` is a word: the service cannot know which
 *   brackets are structure without parsing, and counting them is the strict reading at the 250
 *   upper bound. Bot authors: leave room for your tags, or strip them before you count.
 * - Prompt characters (non-streaming): every code point, like English characters.
 *
 * Where counting tags makes the fake strict (upper bounds), it errs on the side of rejecting: a fake
 * that accepts what the real service rejects is the worse bug.
 */

export type GenerationMode = "streaming" | "non-streaming";
export type TextField = "lyrics" | "prompt";
export type TextScript = "chinese" | "english";
export type LimitUnit = "chinese-characters" | "english-characters" | "english-words" | "characters";

export type TextLimit = { unit: LimitUnit; min: number; max: number };

export type LimitProblem = TextLimit & {
  field: TextField;
  mode: GenerationMode;
  actual: number;
};

const HAN = /\p{Script=Han}/u;
const HAN_GLOBAL = /\p{Script=Han}/gu;

/** Chinese when the text holds any Han ideograph, otherwise English. */
export function classifyScript(text: string): TextScript {
  return HAN.test(text) ? "chinese" : "english";
}

/** How many `unit`s `text` holds, by the rules in this file's header. */
export function countUnits(text: string, unit: LimitUnit): number {
  switch (unit) {
    case "chinese-characters":
      return text.match(HAN_GLOBAL)?.length ?? 0;
    case "english-characters":
    case "characters":
      return [...text].length;
    case "english-words": {
      const trimmed = text.trim();
      return trimmed === "" ? 0 : trimmed.split(/\s+/u).length;
    }
  }
}

/** The seed's window for a field, mode and script. */
export function limitFor(field: TextField, mode: GenerationMode, script: TextScript): TextLimit {
  if (field === "lyrics") {
    if (mode === "non-streaming") {
      return script === "chinese"
        ? { unit: "chinese-characters", min: 5, max: 350 }
        : { unit: "english-characters", min: 5, max: 2000 };
    }
    return script === "chinese"
      ? { unit: "chinese-characters", min: 300, max: 350 }
      : { unit: "english-words", min: 200, max: 250 };
  }
  if (mode === "non-streaming") return { unit: "characters", min: 1, max: 2000 };
  return script === "chinese"
    ? { unit: "chinese-characters", min: 5, max: 1000 }
    : { unit: "english-words", min: 5, max: 1000 };
}

/** The limit `text` breaks as `field` in `mode`, or undefined when it is within the seed's window. */
export function findLimitProblem(field: TextField, text: string, mode: GenerationMode): LimitProblem | undefined {
  const limit = limitFor(field, mode, classifyScript(text));
  const actual = countUnits(text, limit.unit);
  if (actual >= limit.min && actual <= limit.max) return undefined;
  return { ...limit, field, mode, actual };
}

const UNIT_WORDS: Record<LimitUnit, string> = {
  "chinese-characters": "Chinese characters",
  "english-characters": "English characters",
  "english-words": "English words",
  characters: "characters",
};

/**
 * The 400 message for a limit problem. The real wording is not published; this one follows the
 * shape of DashScope's "Range of input length should be [1, xxx]" and names the field.
 */
export function describeLimitProblem(problem: LimitProblem): string {
  return (
    `Range of input.${problem.field} length should be [${problem.min}, ${problem.max}] ` +
    `${UNIT_WORDS[problem.unit]} for ${problem.mode} calls, got ${problem.actual}.`
  );
}
