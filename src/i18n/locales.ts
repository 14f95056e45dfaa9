/**
 * Which catalog speaks for which Discord locale, and the names of languages. Pure and
 * Discord-free: the router picks translators with it, and the analysis asks Qwen-Audio for the
 * member's language with it.
 */

/** The languages the bot has a complete catalog for. */
export const CATALOG_LOCALES = ["en", "zh-CN", "ja"] as const;
export type CatalogLocale = (typeof CATALOG_LOCALES)[number];

/**
 * The locales a Discord client can be set to (developers/reference.mdx, "Locales"). Command
 * localizations may only use these keys.
 */
export const DISCORD_LOCALES = [
  "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl", "pt-BR",
  "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko",
] as const;
export type DiscordLocale = (typeof DISCORD_LOCALES)[number];

/**
 * The catalog for a Discord locale: `zh-CN` and `zh-TW` read the Simplified Chinese one (a reader of
 * Traditional Chinese reads Simplified far more easily than English), `ja` the Japanese one, and
 * every other locale, `en-GB` included, and a missing one, English.
 */
export function catalogLocaleOf(locale: string | null | undefined): CatalogLocale {
  if (locale === "zh-CN" || locale === "zh-TW") return "zh-CN";
  if (locale === "ja") return "ja";
  return "en";
}

/**
 * The locale of a public message: the server's (`guild_locale`, which Discord sends only for
 * interactions in a server), else, in a DM or a group DM, the member's own.
 */
export function serverCatalogLocaleOf(guildLocale: string | null | undefined, userLocale: string | null | undefined): CatalogLocale {
  return catalogLocaleOf(guildLocale ?? userLocale);
}

const englishLanguageNames = new Intl.DisplayNames(["en"], { type: "language" });

/**
 * The language a Discord locale stands for, in English words a model understands ("Danish",
 * "Brazilian Portuguese", "Simplified Chinese", "Japanese"); English when unknown. A member's
 * own language, not the catalog's: a member on `de` gets German answers from Qwen-Audio even
 * though the bot's own words are English for them.
 */
export function englishLanguageName(locale: string | null | undefined): string {
  if (!locale) return "English";
  if (locale === "zh-CN") return "Simplified Chinese";
  if (locale === "zh-TW") return "Traditional Chinese";
  if (locale === "en-US" || locale === "en-GB") return "English";
  try {
    return englishLanguageNames.of(locale) ?? "English";
  } catch {
    return "English";
  }
}

const displayNames = new Map<CatalogLocale, Intl.DisplayNames>();

/**
 * A language named by {@link englishLanguageName} ("Simplified Chinese"), written in a catalog's
 * language ("简体中文", "簡体字中国語"), for buttons and titles such as "Translate to …". A name no
 * Discord locale gives is returned unchanged.
 */
export function languageNameIn(catalog: CatalogLocale, englishName: string): string {
  if (catalog === "en") return englishName;
  const locale = DISCORD_LOCALES.find((candidate) => englishLanguageName(candidate) === englishName);
  if (locale === undefined) return englishName;
  let names = displayNames.get(catalog);
  if (!names) {
    names = new Intl.DisplayNames([catalog], { type: "language" });
    displayNames.set(catalog, names);
  }
  // en-US and en-GB both read "English": the plain language, not "American English".
  const tag = locale === "en-US" || locale === "en-GB" ? "en" : locale === "zh-CN" ? "zh-Hans" : locale === "zh-TW" ? "zh-Hant" : locale;
  return names.of(tag) ?? englishName;
}
