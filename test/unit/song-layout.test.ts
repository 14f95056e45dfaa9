import { describe, expect, it } from "vitest";
import { discordLimits } from "../../src/discord/limits.js";
import {
  embedCharacterCount,
  formatSectionHeading,
  layoutSongMessages,
  parseLyricSections,
  songFileName,
  songTitle,
  type SongEmbedText,
} from "../../src/discord/song/layout.js";

const text: SongEmbedText = {
  vocalLabel: "Vocal",
  vocalValue: "Female",
  formatLabel: "Format",
  formatValue: "MP3",
  durationLabel: "Duration",
  durationValue: "3:20",
  promptLabel: "Prompt",
  lyricsContinued: (part) => `Lyrics (part ${part})`,
  noLyrics: "No lyrics",
  footer: "request_id abc",
  author: "Requested by Ana",
};

const seedLyrics =
  "[verse]\nMorning sunlight slips through the curtain,\nCoffee aroma fills up the room.\n\n[chorus]\nTake it slow, there's no hurry,\nLife should be this carefree.";

describe("lyric sections", () => {
  it("splits the seed's example lyrics into a verse and a chorus", () => {
    const sections = parseLyricSections(seedLyrics);
    expect(sections.map((s) => s.heading)).toEqual(["Verse", "Chorus"]);
    expect(sections[0]?.lines).toEqual(["Morning sunlight slips through the curtain,", "Coffee aroma fills up the room."]);
  });

  it("keeps lines that come before any tag in an untitled first section", () => {
    expect(parseLyricSections("la la la\n[outro]\nbye")).toEqual([
      { heading: undefined, lines: ["la la la"] },
      { heading: "Outro", lines: ["bye"] },
    ]);
  });

  it("formats tags as headings", () => {
    expect(formatSectionHeading("pre-chorus")).toBe("Pre-Chorus");
    expect(formatSectionHeading("verse 2")).toBe("Verse 2");
    expect(formatSectionHeading("主歌")).toBe("主歌");
  });
});

describe("song title and file name", () => {
  it("titles a prompt song by its prompt and a lyrics song by its first sung line", () => {
    expect(songTitle({ prompt: "Summer folk", gender: "female", format: "mp3", watermark: false }, seedLyrics, "Untitled")).toBe("Summer folk");
    expect(songTitle({ lyrics: seedLyrics, gender: "female", format: "mp3", watermark: false }, undefined, "Untitled")).toBe(
      "Morning sunlight slips through the curtain,",
    );
  });

  it("names the file after the song, safely", () => {
    expect(songFileName("Morning sunlight slips through the curtain,", "mp3")).toBe("morning-sunlight-slips-through-the-curtain.mp3");
    expect(songFileName("../../etc/passwd", "wav")).toBe("etc-passwd.wav");
    expect(songFileName("夏日的风", "mp3")).toBe("夏日的风.mp3");
    expect(songFileName("!!!", "mp3")).toBe("song.mp3");
  });

  it("cuts a long title at a word boundary, never inside a word", () => {
    const name = songFileName("Morning sunlight slips through the curtain, coffee aroma fills up the room and more", "mp3");
    expect(name).toBe("morning-sunlight-slips-through-the-curtain-coffee-aroma.mp3");
    // A single word longer than the limit has no boundary to cut at.
    expect(songFileName("a".repeat(80), "wav")).toBe(`${"a".repeat(60)}.wav`);
  });

  it("keeps Chinese and Japanese titles readable: as written, clauses dashed, cut between words", () => {
    expect(songFileName("清晨的阳光，洒在窗帘上", "mp3")).toBe("清晨的阳光-洒在窗帘上.mp3");
    expect(songFileName("夏の歌　Ｓｕｍｍｅｒ　Ｓｏｎｇ", "mp3")).toBe("夏の歌-summer-song.mp3");
    const title = "朝の光がカーテンのすきまから差し込んで、コーヒーの香りが部屋いっぱいに広がる、昨日読みかけの本を開いて時間はこうして静かに流れていく";
    const stem = songFileName(title, "mp3").replace(/\.mp3$/, "");
    expect(Array.from(stem).length).toBeLessThanOrEqual(60);
    // The cut falls between two of the words Unicode segmentation finds in the title.
    const boundaries = new Set([...new Intl.Segmenter(undefined, { granularity: "word" }).segment(title.replace(/、/g, "-"))].map((s) => s.index));
    expect(boundaries.has(stem.length)).toBe(true);
    expect(title.replace(/、/g, "-").startsWith(stem)).toBe(true);
  });
});

describe("song messages", () => {
  const input = { lyrics: seedLyrics, gender: "female" as const, format: "mp3" as const, watermark: false };

  it("lays short lyrics out in one embed with bold section headings and the request id in the footer", () => {
    const messages = layoutSongMessages({ lyrics: seedLyrics }, input, "Morning", text);
    expect(messages).toHaveLength(1);
    const embed = messages[0]?.[0];
    expect(embed?.description).toContain("**Verse**\nMorning sunlight");
    expect(embed?.description).toContain("**Chorus**");
    expect(embed?.footer?.text).toBe("request_id abc");
    expect(embed?.fields?.map((f) => f.name)).toEqual(["Vocal", "Format", "Duration"]);
  });

  it("escapes markdown typed in lyrics so it shows as written, links, headings, lists and quotes included", () => {
    const lyrics = "[verse]\n*not bold* __not underlined__\n# SHOUTING\n- bullet\n1. numbered\n[free nitro](https://evil.example/x)\n> quoted";
    const description = layoutSongMessages({ lyrics }, input, "t", text)[0]?.[0]?.description ?? "";
    expect(description).toContain("\\*not bold\\*");
    expect(description).toContain("\\# SHOUTING");
    expect(description).toContain("\\- bullet");
    expect(description).toContain("1\\. numbered");
    expect(description).toContain("\\[free nitro](");
    expect(description).toContain("\\> quoted");
  });

  it("spreads very long lyrics over several embeds and messages without losing a line", () => {
    const lines = Array.from({ length: 900 }, (_, i) => `line number ${i} of a very long song`);
    const lyrics = `[verse]\n${lines.slice(0, 450).join("\n")}\n\n[chorus]\n${lines.slice(450).join("\n")}`;
    const messages = layoutSongMessages({ lyrics }, { ...input, lyrics }, "Long", text);
    expect(messages.length).toBeGreaterThan(1);
    const all = messages.flat();
    for (const message of messages) {
      expect(message.length).toBeLessThanOrEqual(discordLimits.embedsPerMessage);
      expect(message.reduce((sum, e) => sum + embedCharacterCount(e), 0)).toBeLessThanOrEqual(discordLimits.embedTotalCharacters);
    }
    for (const embed of all) expect((embed.description ?? "").length).toBeLessThanOrEqual(discordLimits.embedDescription);
    const joined = all.map((e) => e.description).join("\n");
    for (const line of lines) expect(joined).toContain(line);
  });

  it("splits a single line longer than an embed description instead of dropping it", () => {
    const line = "x".repeat(9000);
    const messages = layoutSongMessages({ lyrics: line }, { ...input, lyrics: line }, "t", text);
    const total = messages.flat().map((e) => e.description ?? "").join("").replace(/[^x]/g, "");
    expect(total).toHaveLength(9000);
  });

  it("shows the prompt only for songs made from a prompt", () => {
    const promptInput = { prompt: "lofi beats\nwith rain in the background", gender: "male" as const, format: "wav" as const, watermark: true };
    const messages = layoutSongMessages({ lyrics: seedLyrics }, promptInput, "lofi beats", text);
    expect(messages[0]?.[0]?.fields?.find((f) => f.name === "Prompt")?.value).toBe("lofi beats\nwith rain in the background");
    const fromLyrics = layoutSongMessages({ lyrics: seedLyrics }, { ...promptInput, lyrics: seedLyrics }, "Morning", text);
    expect(fromLyrics[0]?.[0]?.fields?.map((f) => f.name)).not.toContain("Prompt");
  });

  it("does not repeat a prompt the title already shows whole", () => {
    const input = { prompt: "  Fresh summer   folk song ", gender: "female" as const, format: "mp3" as const, watermark: false };
    const title = songTitle(input, seedLyrics, "Untitled");
    expect(title).toBe("Fresh summer folk song");
    const embed = layoutSongMessages({ lyrics: seedLyrics }, input, title, text)[0]?.[0];
    expect(embed?.title).toBe("Fresh summer folk song");
    expect(embed?.fields?.map((f) => f.name)).toEqual(["Vocal", "Format", "Duration"]);
    // A title cut short still leaves the whole prompt to the field.
    const long = { ...input, prompt: "x ".repeat(200) };
    const cut = layoutSongMessages({ lyrics: seedLyrics }, long, songTitle(long, seedLyrics, "Untitled"), text)[0]?.[0];
    expect(cut?.fields?.map((f) => f.name)).toContain("Prompt");
  });

  it("says so when no lyrics came back", () => {
    const messages = layoutSongMessages({ lyrics: undefined }, { prompt: "x", gender: "male", format: "mp3", watermark: false }, "x", text);
    expect(messages[0]?.[0]?.description).toBe("No lyrics");
  });
});
