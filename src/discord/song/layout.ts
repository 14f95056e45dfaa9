import type { APIEmbed } from "discord.js";
import type { GeneratedSong, SongInput } from "../../dashscope/music-types.js";
import { discordLimits, ellipsize } from "../limits.js";
import { escapeUserMarkdown } from "../markdown.js";
import { packBlocks, splitBlock } from "../text-pages.js";

/**
 * Turns a generated song into Discord messages: lyrics laid out by section, spread over as many
 * embeds and messages as Discord's limits require. Nothing of the lyrics is ever dropped.
 */

export type LyricSection = { heading: string | undefined; lines: string[] };

const sectionTag = /^\s*\[([^\]\n]{1,40})\]\s*$/;

export function parseLyricSections(lyrics: string): LyricSection[] {
  const sections: LyricSection[] = [];
  let current: LyricSection = { heading: undefined, lines: [] };
  for (const rawLine of lyrics.replace(/\r\n?/g, "\n").split("\n")) {
    const tag = sectionTag.exec(rawLine);
    if (tag?.[1] !== undefined) {
      sections.push(current);
      current = { heading: formatSectionHeading(tag[1]), lines: [] };
      continue;
    }
    current.lines.push(rawLine.trimEnd());
  }
  sections.push(current);
  return sections
    .map((section) => ({ heading: section.heading, lines: trimBlankLines(section.lines) }))
    .filter((section) => section.heading !== undefined || section.lines.length > 0);
}

/** `pre-chorus` → `Pre-Chorus`, `verse 2` → `Verse 2`. */
export function formatSectionHeading(tag: string): string {
  return tag
    .trim()
    .replace(/[_]+/g, " ")
    .replace(/(^|[\s-])(\p{Ll})/gu, (_match, before: string, letter: string) => before + letter.toUpperCase());
}

function trimBlankLines(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start]?.trim() === "") start++;
  while (end > start && lines[end - 1]?.trim() === "") end--;
  return lines.slice(start, end);
}

/** The first line that is not a section tag, for a title when the user gave no prompt. */
export function firstLyricLine(lyrics: string): string | undefined {
  for (const section of parseLyricSections(lyrics)) {
    const line = section.lines.find((candidate) => candidate.trim() !== "");
    if (line) return line.trim();
  }
  return undefined;
}

export function songTitle(input: SongInput, resultLyrics: string | undefined, untitled: string): string {
  const fromPrompt = input.lyrics ? undefined : input.prompt?.trim().split("\n")[0];
  const title = fromPrompt || firstLyricLine(input.lyrics ?? "") || firstLyricLine(resultLyrics ?? "") || untitled;
  return ellipsize(title.replace(/\s+/g, " "), discordLimits.embedTitle);
}

/** Longest file name stem, in characters: room for a title, well inside any file system's 255 bytes. */
const FILE_STEM_MAX = 60;

const wordSegmenter = new Intl.Segmenter(undefined, { granularity: "word" });

/**
 * The longest start of `slug` that ends at a word boundary and holds at most `max` characters.
 * Words are found by Unicode segmentation, which knows Chinese and Japanese words too (no spaces
 * there), so `夏天的风吹过` is cut after a word, not inside one. A first word longer than `max`
 * is cut where the limit falls.
 */
function cutAtWord(slug: string, max: number): string {
  const characters = Array.from(slug);
  if (characters.length <= max) return slug;
  let kept = "";
  let length = 0;
  for (const { segment } of wordSegmenter.segment(slug)) {
    const size = Array.from(segment).length;
    if (length + size > max) break;
    kept += segment;
    length += size;
  }
  return kept.replace(/-+$/g, "") || characters.slice(0, max).join("");
}

/**
 * A file name "named after the song": letters and digits of the title in any script, dash-separated,
 * cut at a word boundary. CJK titles stay as written (`夏日的风.mp3`); full-width forms become
 * their usual ones (NFKC).
 */
export function songFileName(title: string, format: string): string {
  const slug = title
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}]+/gu, "-")
    .replace(/^-+|-+$/g, "");
  return `${cutAtWord(slug, FILE_STEM_MAX) || "song"}.${format}`;
}

/** Renders sections to markdown blocks, each at most `max` characters, split at line ends where possible. */
export function renderLyricBlocks(sections: LyricSection[], max: number): string[] {
  return sections.flatMap((section) => {
    const heading = section.heading ? [`**${escapeUserMarkdown(section.heading)}**`] : [];
    const lines = section.lines.map((line) => (line.trim() === "" ? "" : escapeUserMarkdown(line)));
    return splitBlock([...heading, ...lines].join("\n"), max);
  });
}

export function embedCharacterCount(embed: APIEmbed): number {
  let total = (embed.title ?? "").length + (embed.description ?? "").length;
  total += (embed.footer?.text ?? "").length + (embed.author?.name ?? "").length;
  for (const field of embed.fields ?? []) total += field.name.length + field.value.length;
  return total;
}

/** Groups embeds into messages within Discord's per-message embed count and total size. */
export function groupEmbedsIntoMessages(embeds: APIEmbed[]): APIEmbed[][] {
  const messages: APIEmbed[][] = [];
  let current: APIEmbed[] = [];
  let size = 0;
  for (const embed of embeds) {
    const count = embedCharacterCount(embed);
    if (current.length > 0 && (current.length >= discordLimits.embedsPerMessage || size + count > discordLimits.embedTotalCharacters)) {
      messages.push(current);
      current = [];
      size = 0;
    }
    current.push(embed);
    size += count;
  }
  if (current.length > 0) messages.push(current);
  return messages;
}

export type SongEmbedText = {
  vocalLabel: string;
  vocalValue: string;
  formatLabel: string;
  formatValue: string;
  durationLabel: string;
  durationValue: string | undefined;
  promptLabel: string;
  lyricsContinued: (part: number) => string;
  noLyrics: string;
  footer: string | undefined;
  author: string;
};

/** Whether a title holds all of a text, as `songTitle` writes it (spaces collapsed, nothing cut). */
function titleShowsWhole(title: string, text: string): boolean {
  return title === text.trim().replace(/\s+/g, " ");
}

/** Colour of the bot's song embeds (DashScope orange). */
const songEmbedColor = 0xff6a00;

/**
 * Builds the result embeds: the first holds the title, facts and the start of the lyrics; further
 * embeds continue the lyrics. Returns them grouped into messages (the first is the reply itself).
 */
export function layoutSongMessages(song: Pick<GeneratedSong, "lyrics">, input: SongInput, title: string, text: SongEmbedText): APIEmbed[][] {
  const lyrics = song.lyrics ?? input.lyrics ?? "";
  const chunks = packBlocks(renderLyricBlocks(parseLyricSections(lyrics), discordLimits.embedDescription), discordLimits.embedDescription);

  const fields: NonNullable<APIEmbed["fields"]> = [
    { name: text.vocalLabel, value: text.vocalValue, inline: true },
    { name: text.formatLabel, value: text.formatValue, inline: true },
  ];
  if (text.durationValue) fields.push({ name: text.durationLabel, value: text.durationValue, inline: true });
  // A one-line prompt is already the title; the field is for a prompt the title shows only the start of.
  if (!input.lyrics && input.prompt && !titleShowsWhole(title, input.prompt)) {
    fields.push({ name: text.promptLabel, value: ellipsize(escapeUserMarkdown(input.prompt), discordLimits.embedFieldValue) });
  }

  const first: APIEmbed = {
    title,
    color: songEmbedColor,
    author: { name: ellipsize(text.author, discordLimits.embedAuthorName) },
    description: chunks[0] ?? text.noLyrics,
    fields,
  };
  if (text.footer) first.footer = { text: ellipsize(text.footer, discordLimits.embedFooterText) };

  const rest: APIEmbed[] = chunks.slice(1).map((description, index) => ({
    title: ellipsize(text.lyricsContinued(index + 2), discordLimits.embedTitle),
    color: songEmbedColor,
    description,
  }));
  return groupEmbedsIntoMessages([first, ...rest]);
}
