import { describe, expect, it } from "vitest";
import { commandText } from "../../src/i18n/commands.js";
import { en } from "../../src/i18n/en.js";
import { catalogs, translate, type MessageKey } from "../../src/i18n/index.js";
import { catalogLocaleOf, languageNameIn, serverCatalogLocaleOf, englishLanguageName } from "../../src/i18n/locales.js";
import { formatCost, formatInteger } from "../../src/i18n/format.js";

/**
 * Parameters that name a choice the catalog itself words (`field: "lyrics"` → 歌词): their value
 * is translated, so it cannot appear as given.
 */
const WORDED_PARAMS = new Set(["field", "unit", "language"]);
const ENUM_SAMPLES: Record<string, unknown> = { field: "lyrics", unit: "chinese-characters", language: "Japanese" };

/** Numbers a parameter of this name carries; every other parameter is sampled as a marked string. */
const NUMERIC_PARAMS = new Set([
  "count", "rows", "seconds", "minutes", "position", "audioSeconds", "part", "bitrate", "page", "pages",
  "done", "total", "pieces", "min", "max", "actual", "rank",
]);

/**
 * Renders a message with sample parameters and records which ones it read. Each numeric parameter
 * gets its own two-digit number (so a dropped one can't hide behind another's digits); strings
 * are `⟨name⟩`. `min` stays above `actual` and `max` below it, as in the real refusals.
 */
function render(message: (p: never) => string): { text: string; read: Map<string, unknown> } {
  const read = new Map<string, unknown>();
  const numbers: Record<string, number> = { min: 77, actual: 43, max: 29 };
  let next = 51;
  const params = new Proxy({} as Record<string, unknown>, {
    get(_target, name) {
      if (typeof name !== "string") return undefined;
      if (!read.has(name)) {
        const value = name in ENUM_SAMPLES ? ENUM_SAMPLES[name] : NUMERIC_PARAMS.has(name) ? (numbers[name] ?? next++) : `⟨${name}⟩`;
        read.set(name, value);
      }
      return read.get(name);
    },
  });
  return { text: (message as (p: unknown) => string)(params), read };
}

const keys = Object.keys(en) as MessageKey[];
const translations = (["zh-CN", "ja"] as const).map((locale) => [locale, catalogs[locale]] as const);

describe("message catalogs", () => {
  it("have every English key and no other, in every language", () => {
    for (const [, catalog] of translations) expect(Object.keys(catalog).sort()).toEqual([...keys].sort());
  });

  it.each(translations)("%s keeps every value English shows, for every key", (_locale, catalog) => {
    const dropped: string[] = [];
    for (const key of keys) {
      const english = render(en[key]);
      const translated = render(catalog[key]).text;
      expect(translated.trim(), key).not.toBe("");
      for (const [name, value] of english.read) {
        if (WORDED_PARAMS.has(name)) continue;
        // A count English reads only to choose "song" or "songs" is not shown, there or here.
        if (!english.text.includes(String(value))) continue;
        if (!translated.includes(String(value))) dropped.push(`${key}: ${name}`);
      }
    }
    expect(dropped).toEqual([]);
  });

  it.each(translations)("%s writes no English sentence: no message equals its English one unless it is only names and values", (_locale, catalog) => {
    const same = keys.filter((key) => render(catalog[key]).text === render(en[key]).text);
    // Messages made only of placeholders, codes and numbers read the same in every language.
    expect(same.sort()).toEqual(["duration.seconds", "song.embed.footer", "usage.report.entry", "usage.report.failureCode"]);
  });

  it("words the limits the way the Fun-Music reference counts them, in each language", () => {
    const chinese = { field: "lyrics", unit: "chinese-characters", min: 5, actual: 3 } as const;
    expect(translate("en-US", "song.input.tooShort", chinese)).toBe(
      "Your lyrics are too short: 3 Chinese characters, and Fun-Music needs at least 5 Chinese characters. Add 2 more.",
    );
    expect(translate("zh-CN", "song.input.tooShort", chinese)).toBe(
      "歌词太短了：目前是 3 个汉字，Fun-Music 至少需要 5 个汉字。请再补充 2 个汉字。",
    );
    expect(translate("ja", "song.input.tooShort", chinese)).toBe(
      "歌詞が短すぎます。現在は漢字3文字ですが、Fun-Music には漢字5文字以上必要です。あと漢字2文字追加してください。",
    );
    const prompt = { field: "prompt", unit: "characters", max: 2000, actual: 2150 } as const;
    expect(translate("en-US", "song.input.tooLong", prompt)).toBe(
      "Your prompt is too long: 2,150 characters, and Fun-Music takes at most 2,000 characters. Remove 150.",
    );
    expect(translate("zh-CN", "song.input.tooLong", prompt)).toContain("提示词太长了：目前是 2,150 个字符");
    expect(translate("ja", "song.input.tooLong", prompt)).toContain("プロンプトが長すぎます。現在は2,150文字");
    expect(translate("en-US", "song.input.tooLong", { field: "lyrics", unit: "english-words", max: 250, actual: 251 })).toBe(
      "Your lyrics are too long: 251 English words, and Fun-Music takes at most 250 English words. Remove 1.",
    );
  });

  it("counts in English with singular and plural", () => {
    expect(translate("en-US", "song.input.tooShort", { field: "prompt", unit: "characters", min: 1, actual: 0 })).toBe(
      "Your prompt is too short: 0 characters, and Fun-Music needs at least 1 character. Add 1 more.",
    );
    expect(translate("en-US", "analysis.note.otherFiles", { count: 1 })).toContain("1 more audio file:");
    expect(translate("en-US", "analysis.note.otherFiles", { count: 2 })).toContain("2 more audio files:");
  });
});

describe("which catalog a Discord locale reads", () => {
  it("reads Chinese for zh-CN and zh-TW, Japanese for ja, English for every other locale", () => {
    expect(catalogLocaleOf("zh-CN")).toBe("zh-CN");
    expect(catalogLocaleOf("zh-TW")).toBe("zh-CN");
    expect(catalogLocaleOf("ja")).toBe("ja");
    for (const locale of ["en-US", "en-GB", "de", "ko", "pt-BR", "xx-unknown", "", null, undefined]) expect(catalogLocaleOf(locale)).toBe("en");
    expect(translate("zh-TW", "analysis.button.next")).toBe("下一页");
    expect(translate("en-GB", "analysis.button.next")).toBe("Next");
    expect(translate("fr", "analysis.button.next")).toBe("Next");
  });

  it("words public messages in the server's language, and in the member's where there is no server", () => {
    expect(serverCatalogLocaleOf("ja", "en-US")).toBe("ja");
    expect(serverCatalogLocaleOf("de", "zh-CN")).toBe("en");
    expect(serverCatalogLocaleOf(null, "zh-CN")).toBe("zh-CN");
    expect(serverCatalogLocaleOf(undefined, undefined)).toBe("en");
  });

  it("names the member's language for Qwen-Audio in English, and in the reader's own language on the Translate button", () => {
    expect(englishLanguageName("zh-CN")).toBe("Simplified Chinese");
    expect(englishLanguageName("ja")).toBe("Japanese");
    expect(languageNameIn("zh-CN", "Simplified Chinese")).toBe("简体中文");
    expect(languageNameIn("ja", "Japanese")).toBe("日本語");
    expect(languageNameIn("zh-CN", "English")).toBe("英语");
    expect(languageNameIn("ja", "Klingon")).toBe("Klingon");
    expect(translate("zh-CN", "analysis.button.translate", { language: englishLanguageName("zh-CN") })).toBe("翻译成简体中文");
    expect(translate("ja", "analysis.button.translate", { language: englishLanguageName("ja") })).toBe("日本語に翻訳");
  });
});

describe("numbers for a locale", () => {
  it("groups digits and writes money with its code, the locale's way", () => {
    expect(formatInteger(1234567, "zh-CN")).toBe("1,234,567");
    expect(formatInteger(1234567, "de")).toBe("1.234.567");
    expect(formatCost(1.5, "CNY", "ja")).toMatch(/^CNY\s?1\.50$/);
  });
});

describe("command texts", () => {
  it("give every text in every language", () => {
    for (const [key, text] of Object.entries(commandText)) {
      for (const locale of ["en", "zh-CN", "ja"] as const) expect(text[locale].trim(), `${key} ${locale}`).not.toBe("");
    }
  });
});
