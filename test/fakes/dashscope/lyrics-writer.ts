import type { TextScript } from "./text-limits.js";

/**
 * The `extra_info.lyrics` the fake returns, shaped like the seed's example:
 * `[verse]\n…\n\n[chorus]\n…` — section tags on their own line, a blank line between sections.
 *
 * - Lyrics given: echoed. If they already carry `[tag]` lines they come back unchanged; otherwise
 *   the fake tags them the way the model's output is tagged (paragraphs alternate verse/chorus; a
 *   single paragraph is split into a verse and a chorus half). Clients must not expect a byte-exact
 *   echo of what they sent.
 * - Only a prompt: deterministic lyrics built from the prompt's words (its Chinese phrases for a
 *   Chinese prompt), worked into a verse and a chorus.
 */

const TAG_LINE = /^\s*\[[^\]\n]{1,40}\]\s*$/mu;

export function lyricsForResponse(uses: "lyrics" | "prompt", text: string, script: TextScript): string {
  return uses === "lyrics" ? tagLyrics(text) : writeLyrics(text, script);
}

function tagLyrics(lyrics: string): string {
  const trimmed = lyrics.trim();
  if (TAG_LINE.test(trimmed)) return trimmed;
  const paragraphs = trimmed.split(/\n\s*\n/u).map((p) => p.trim()).filter((p) => p !== "");
  if (paragraphs.length >= 2) {
    return paragraphs.map((p, i) => `${i % 2 === 0 ? "[verse]" : "[chorus]"}\n${p}`).join("\n\n");
  }
  const lines = trimmed.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length < 2) return `[verse]\n${trimmed}`;
  const half = Math.ceil(lines.length / 2);
  return `[verse]\n${lines.slice(0, half).join("\n")}\n\n[chorus]\n${lines.slice(half).join("\n")}`;
}

/**
 * English lines with slots for the prompt's words, the way a lyricist would work them in: `{0}`
 * is the first word picked from the prompt, `{1}` the second, and so on (wrapping round).
 */
const ENGLISH_VERSE_LINES = [
  "Woke up with {0} on my mind,",
  "{1} light is falling through the blind,",
  "Every {2} road I used to know",
  "Hums a little {3} tune and lets me go.",
] as const;
const ENGLISH_CHORUS_LINES = [
  "Oh, {0} and {1}, carry me along,",
  "Turn the {2} days into a song,",
  "Sing it {3}, sing it loud and clear,",
  "{0} and {1}, the summer's here.",
] as const;
const ENGLISH_STOPWORDS = new Set(
  "a an and the of to in on at for with by from into over under about song songs music track tune style like very some that this with without feat featuring".split(" "),
);

/** Chinese lines with a slot for a phrase of the prompt. */
const CHINESE_VERSE_LINES = ["清晨醒来想起{0}，", "窗外的{1}轻轻摇曳，", "走过熟悉的{2}小路，", "把{3}唱给风听。"] as const;
const CHINESE_CHORUS_LINES = ["啦啦啦，{0}和{1}，", "陪我一起唱这首歌，", "不管明天会怎样，", "{0}永远在心里。"] as const;

/** Fallback when the prompt has no words to work with (only punctuation or emoji). */
const FALLBACK_ENGLISH_WORDS = ["morning", "golden", "river", "gentle"] as const;
const FALLBACK_CHINESE_WORDS = ["阳光", "晚风", "海边", "梦想"] as const;

/** The prompt's content words, in order, each once: at most 12 letters-and-digits runs of 3–16 characters. */
function englishWords(prompt: string): string[] {
  const seen = new Set<string>();
  for (const match of prompt.toLowerCase().matchAll(/[\p{L}\p{N}'-]+/gu)) {
    const word = match[0].replace(/^['-]+|['-]+$/g, "");
    if (word.length < 3 || word.length > 16 || ENGLISH_STOPWORDS.has(word)) continue;
    seen.add(word);
  }
  return [...seen].slice(0, 12);
}

/**
 * The prompt's Chinese phrases: runs of Han characters, split at punctuation and at the particles
 * that join phrases (的, 和, 与, 跟, 及, 了, 着), 2–4 characters each.
 */
function chinesePhrases(prompt: string): string[] {
  const seen = new Set<string>();
  for (const phrase of prompt.split(/[^\p{Script=Han}]+|[的和与跟及了着]/u)) {
    if (phrase.length >= 2) seen.add(phrase.slice(0, 4));
  }
  return [...seen].slice(0, 12);
}

function fill(lines: readonly string[], words: readonly string[], offset: number): string[] {
  return lines.map((line) =>
    line.replace(/\{(\d)\}/g, (_, index: string) => words[(Number(index) + offset) % words.length] ?? ""),
  );
}

function capitalize(line: string): string {
  return line.charAt(0).toUpperCase() + line.slice(1);
}

/** FNV-1a, enough to vary the lines deterministically. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (const char of text) {
    h ^= char.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * Lyrics made of the prompt's own words (as the real model's are about the prompt): the same
 * prompt always gives the same lyrics, and a different prompt different ones.
 */
function writeLyrics(prompt: string, script: TextScript): string {
  const chinese = script === "chinese";
  const found = chinese ? chinesePhrases(prompt) : englishWords(prompt);
  // A short prompt is topped up with stock words, so that no line repeats one word four times.
  const fallback = chinese ? FALLBACK_CHINESE_WORDS : FALLBACK_ENGLISH_WORDS;
  const words = [...found, ...fallback.filter((word) => !found.includes(word))].slice(0, Math.max(found.length, fallback.length));
  // Which word starts the chorus varies with the prompt, so two prompts with the same words in a
  // different order still read differently.
  const offset = words.length > 1 ? hash(prompt) % words.length : 0;
  const verse = fill(chinese ? CHINESE_VERSE_LINES : ENGLISH_VERSE_LINES, words, 0);
  const chorus = fill(chinese ? CHINESE_CHORUS_LINES : ENGLISH_CHORUS_LINES, words, offset);
  const tidy = chinese ? (lines: string[]) => lines : (lines: string[]) => lines.map(capitalize);
  return `[verse]\n${tidy(verse).join("\n")}\n\n[chorus]\n${tidy(chorus).join("\n")}`;
}
