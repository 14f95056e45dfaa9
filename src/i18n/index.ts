import { en, type MessageKey, type MessageParams } from "./en.js";

export type { MessageKey, MessageParams } from "./en.js";

type Catalog = { [K in MessageKey]?: (typeof en)[K] };

/** Translations by Discord locale code. English is the fallback for any key a locale lacks. */
const catalogs: Record<string, Catalog> = {
  "en-US": en,
  "en-GB": en,
};

/** Translate one key for a Discord locale (`interaction.locale`), falling back to English. */
export function translate<K extends MessageKey>(
  locale: string | undefined,
  key: K,
  ...params: MessageParams<K> extends undefined ? [] : [MessageParams<K>]
): string {
  const catalog = (locale && catalogs[locale]) || en;
  const message = (catalog[key] ?? en[key]) as (p: unknown) => string;
  return message(params[0]);
}

export type Translate = typeof translate;
