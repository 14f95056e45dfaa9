import { describe, expect, it } from "vitest";
import {
  checkSongInput,
  countCharacters,
  countEnglishWords,
  countHanCharacters,
  detectLanguage,
  normalizeSongText,
} from "../../src/dashscope/music.js";
import type { SongInput } from "../../src/dashscope/music-types.js";

const base = { gender: "female", format: "mp3", watermark: false } as const satisfies Omit<SongInput, "lyrics" | "prompt">;

/** `n` Han characters in lines of 10, with Chinese punctuation that must not count. */
function chinese(n: number): string {
  const han = "春风吹过山岗花开满地阳光照耀";
  let text = "";
  for (let i = 0; i < n; i++) {
    text += han[i % han.length];
    if (i % 10 === 9) text += "，\n";
  }
  return text;
}

/** `n` English words of 4 letters, one space apart: 5n − 1 characters. */
function words(n: number): string {
  return Array.from({ length: n }, () => "love").join(" ");
}

/** English text of exactly `n` characters and more than 250 words (so never streaming). */
function englishChars(n: number): string {
  return "la ".repeat(Math.ceil(n / 3)).slice(0, n).trimEnd().padEnd(n, "!");
}

describe("counting text against Fun-Music's limits", () => {
  it("counts Han characters only: not punctuation, digits, spaces or Latin letters", () => {
    expect(countHanCharacters("我爱你，中国！ I love 2 you")).toBe(5);
    expect(countHanCharacters("𠀀")).toBe(1); // a CJK Extension B character: one code point, two UTF-16 units
  });

  it("counts English words as whitespace-separated tokens, as a service splitting on whitespace would", () => {
    expect(countEnglishWords("  Don't stop — sun-kissed 24/7 & more \n\n")).toBe(7);
    expect(countEnglishWords("[verse]\nMorning sun")).toBe(3);
    expect(countEnglishWords(" \n ")).toBe(0);
  });

  it("counts characters as code points, so an emoji is one", () => {
    expect(countCharacters("la 🎵")).toBe(4);
  });

  it("calls text Chinese when Han characters are at least as many as English words", () => {
    expect(detectLanguage("我们一起去北京")).toBe("chinese");
    expect(detectLanguage("We drove all night to 北京 and back")).toBe("english");
    expect(detectLanguage("爱 love")).toBe("chinese");
    expect(detectLanguage("1234 !!")).toBe("english");
  });
});

describe("checkSongInput", () => {
  it("reports missing input when neither field has text", () => {
    for (const input of [{}, { lyrics: "", prompt: "" }, { lyrics: "  \n\t", prompt: "   " }]) {
      expect(checkSongInput({ ...base, ...input })).toEqual({ ok: false, problem: { field: "input", reason: "missing" } });
    }
  });

  describe("Chinese lyrics (non-streaming 5–350, streaming 300–350 Han characters)", () => {
    it.each([
      [4, { ok: false, problem: { field: "lyrics", unit: "chinese-characters", min: 5, max: 350, actual: 4 } }],
      [5, { ok: true, mode: "non-streaming", uses: "lyrics", promptIgnored: false }],
      [299, { ok: true, mode: "non-streaming", uses: "lyrics", promptIgnored: false }],
      [300, { ok: true, mode: "streaming", uses: "lyrics", promptIgnored: false }],
      [350, { ok: true, mode: "streaming", uses: "lyrics", promptIgnored: false }],
      [351, { ok: false, problem: { field: "lyrics", unit: "chinese-characters", min: 5, max: 350, actual: 351 } }],
    ])("%i characters", (n, expected) => {
      expect(checkSongInput({ ...base, lyrics: chinese(n) })).toEqual(expected);
    });

    it("accepts mixed-script text only if both the Chinese and the English reading accept it, and streams only if both would", () => {
      const englishStreaming = Array.from({ length: 22 }, () => "one two three four five six seven eight nine ten").join("\n");
      // 220 English words and one city name: streaming as English, but 2 Han characters as Chinese.
      expect(checkSongInput({ ...base, lyrics: `${englishStreaming}\n北京` })).toMatchObject({ ok: false, problem: { unit: "chinese-characters", actual: 2 } });
      // 350 Han characters plus an English line: Chinese streaming, English non-streaming → non-streaming.
      expect(checkSongInput({ ...base, lyrics: `${chinese(350)}\nhello world` })).toMatchObject({ ok: true, mode: "non-streaming" });
      expect(checkSongInput({ ...base, prompt: `${chinese(6)} lofi` })).toMatchObject({ ok: true, mode: "non-streaming" });
    });

    it("does not count section tags: they are not Han characters", () => {
      expect(checkSongInput({ ...base, lyrics: `[verse]\n${chinese(4)}\n[chorus]` })).toMatchObject({ ok: false, problem: { actual: 4 } });
      expect(checkSongInput({ ...base, lyrics: `[verse]\n${chinese(350)}\n[outro]` })).toMatchObject({ ok: true, mode: "streaming" });
    });
  });

  describe("English lyrics (non-streaming 5–2,000 characters, streaming 200–250 words)", () => {
    it.each([
      [4, { ok: false, problem: { field: "lyrics", unit: "english-characters", min: 5, max: 2000, actual: 4 } }],
      [5, { ok: true, mode: "non-streaming" }],
      [2000, { ok: true, mode: "non-streaming" }],
      [2001, { ok: false, problem: { field: "lyrics", unit: "english-characters", min: 5, max: 2000, actual: 2001 } }],
    ])("%i characters", (n, expected) => {
      const lyrics = englishChars(n);
      expect(countCharacters(lyrics)).toBe(n);
      expect(checkSongInput({ ...base, lyrics })).toMatchObject(expected);
    });

    it("counts section tags, which are part of the text sent", () => {
      const lyrics = `[verse]\n${englishChars(1990)}\n[chorus]`;
      expect(checkSongInput({ ...base, lyrics })).toMatchObject({ ok: false, problem: { unit: "english-characters", actual: 2007 } });
      expect(checkSongInput({ ...base, lyrics: `[verse]\n${words(249)}` })).toMatchObject({ ok: true, mode: "streaming" });
      expect(checkSongInput({ ...base, lyrics: `[verse]\n${words(250)}` })).toMatchObject({ ok: true, mode: "non-streaming" });
    });

    it.each([
      [199, "non-streaming"],
      [200, "streaming"],
      [250, "streaming"],
      [251, "non-streaming"],
    ] as const)("%i words → %s", (n, mode) => {
      expect(checkSongInput({ ...base, lyrics: words(n) })).toMatchObject({ ok: true, mode });
    });
  });

  describe("prompts (non-streaming 1–2,000 characters, streaming 5–1,000 Chinese characters or English words)", () => {
    it.each([
      [1, { ok: true, mode: "non-streaming", uses: "prompt", promptIgnored: false }],
      [2000, { ok: true, mode: "non-streaming", uses: "prompt", promptIgnored: false }],
      [2001, { ok: false, problem: { field: "prompt", unit: "characters", min: 1, max: 2000, actual: 2001 } }],
    ])("%i characters in one word", (n, expected) => {
      expect(checkSongInput({ ...base, prompt: "a".repeat(n) })).toEqual(expected);
    });

    it("treats an empty prompt as missing", () => {
      expect(checkSongInput({ ...base, prompt: "" })).toEqual({ ok: false, problem: { field: "input", reason: "missing" } });
    });

    it.each([
      [4, "non-streaming"],
      [5, "streaming"],
      [1000, "streaming"],
    ] as const)("%i English words → %s", (n, mode) => {
      expect(checkSongInput({ ...base, prompt: words(n) })).toMatchObject({ ok: true, mode });
    });

    it("rejects 1,001 English words: too many to stream, and at least 2,001 characters", () => {
      expect(checkSongInput({ ...base, prompt: words(1001) })).toEqual({
        ok: false,
        problem: { field: "prompt", unit: "characters", min: 1, max: 2000, actual: 5004 },
      });
    });

    it.each([
      [4, "non-streaming"],
      [5, "streaming"],
      [1000, "streaming"],
      [1001, "non-streaming"],
    ] as const)("%i Chinese characters → %s", (n, mode) => {
      expect(checkSongInput({ ...base, prompt: chinese(n) })).toMatchObject({ ok: true, mode });
    });
  });

  it("uses the lyrics and ignores the prompt when both are given", () => {
    expect(checkSongInput({ ...base, lyrics: chinese(320), prompt: "an upbeat folk song" })).toEqual({
      ok: true,
      mode: "streaming",
      uses: "lyrics",
      promptIgnored: true,
    });
    // Even when the lyrics break a limit the prompt would meet: the API would ignore the prompt.
    expect(checkSongInput({ ...base, lyrics: "la", prompt: "an upbeat folk song" })).toMatchObject({
      ok: false,
      problem: { field: "lyrics" },
    });
  });

  it("uses the prompt when the lyrics are whitespace only", () => {
    expect(checkSongInput({ ...base, lyrics: " \n ", prompt: "an upbeat folk song" })).toEqual({
      ok: true,
      mode: "non-streaming",
      uses: "prompt",
      promptIgnored: false,
    });
  });
});

describe("input hygiene: text is normalized before it is counted and sent", () => {
  it("removes zero-width characters, the BOM, the word joiner and every bidi control", () => {
    const invisible = "\u200B\u200C\u200D\u2060\uFEFF\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u061C";
    expect(normalizeSongText(`${invisible}la${invisible} la`)).toBe("la la");
  });

  it("removes control characters but keeps newlines and tabs; a CR becomes a newline", () => {
    expect(normalizeSongText("a\u0000b\u0007c\u001Bd\u007Fe\u0085f\tg\r\nh\ri")).toBe("abcdef\tg\nh\ni");
  });

  it("composes to NFC, also when a removed character sat between a letter and its accent", () => {
    expect(normalizeSongText("cafe\u0301")).toBe("caf\u00e9");
    expect(normalizeSongText("cafe\u200B\u0301")).toBe("caf\u00e9");
    expect(normalizeSongText(normalizeSongText("cafe\u200B\u0301"))).toBe("caf\u00e9");
  });

  it("leaves ordinary lyrics, Chinese punctuation and emoji alone", () => {
    const lyrics = "[verse]\n春风吹过，\n花开满地。\nSunny day 🌞";
    expect(normalizeSongText(lyrics)).toBe(lyrics);
  });

  it.each([
    ["lyrics", "\u200B\u200B\u200B\u200B\u200B\u200B"],
    ["lyrics", "\uFEFF\u202E\u0007\u0000\n\t "],
    ["prompt", "\u2060\u200D"],
  ] as const)("refuses %s with nothing visible (%j) as invisible, not as missing", (field, text) => {
    expect(checkSongInput({ ...base, [field]: text })).toEqual({ ok: false, problem: { field, reason: "invisible" } });
  });

  it("refuses invisible lyrics even next to a usable prompt, rather than quietly making a prompt-only song", () => {
    expect(checkSongInput({ ...base, lyrics: "\u200B\u200B", prompt: "folk song" })).toEqual({ ok: false, problem: { field: "lyrics", reason: "invisible" } });
  });

  it("still calls empty or whitespace-only input missing", () => {
    expect(checkSongInput({ ...base, lyrics: "  \n", prompt: "" })).toEqual({ ok: false, problem: { field: "input", reason: "missing" } });
  });

  it("counts the limits on the normalized text: zero-width padding does not make lyrics long enough", () => {
    // 4 English characters padded with 10 zero-width spaces: 14 code points raw, 4 once normalized.
    const check = checkSongInput({ ...base, lyrics: `la${"\u200B".repeat(10)}la` });
    expect(check).toEqual({ ok: false, problem: { field: "lyrics", unit: "english-characters", min: 5, max: 2000, actual: 4 } });
  });

  it("counts the limits on the normalized text: invisible characters do not push lyrics over the maximum", () => {
    const lyrics = `${"a".repeat(2000)}${"\u200B".repeat(50)}`;
    expect(checkSongInput({ ...base, lyrics })).toMatchObject({ ok: true, mode: "non-streaming" });
  });
});
