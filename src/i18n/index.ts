import { en, type Catalog, type MessageKey, type MessageParams } from "./en.js";
import { ja } from "./ja.js";
import { catalogLocaleOf, type CatalogLocale } from "./locales.js";
import { zhCN } from "./zh-CN.js";

export type { Catalog, MessageKey, MessageParams } from "./en.js";
export { catalogLocaleOf, serverCatalogLocaleOf, type CatalogLocale } from "./locales.js";

/** Every catalog, complete (the type checker holds each to every key of English). */
export const catalogs: Record<CatalogLocale, Catalog> = { en, "zh-CN": zhCN, ja };

/**
 * Translate one key for a Discord locale (`interaction.locale` or `guild_locale`): `zh-CN` and
 * `zh-TW` read Chinese, `ja` Japanese, everything else English (see {@link catalogLocaleOf}).
 */
export function translate<K extends MessageKey>(
  locale: string | null | undefined,
  key: K,
  ...params: MessageParams<K> extends undefined ? [] : [MessageParams<K>]
): string {
  const message = catalogs[catalogLocaleOf(locale)][key] as (p: unknown) => string;
  return message(params[0]);
}

export type Translate = typeof translate;
