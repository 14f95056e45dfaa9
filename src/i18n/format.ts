/**
 * Numbers, money and sizes written for a locale with Intl: the one place the bot formats a figure
 * for people. Catalogs format the numbers inside their sentences with their own locale; reports
 * pass the member's Discord locale (`interaction.locale`), as Discord's own interface does.
 * Durations are words, so they live in the catalogs (`usage.duration.*`, `duration.seconds`);
 * dates and times go out as Discord timestamps, which every reader's client writes in their
 * own language and time zone.
 */

const formatters = new Map<string, Intl.NumberFormat>();

/** A cached number format; an unknown or missing locale falls back to English. */
function numberFormat(locale: string | undefined, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const tag = (locale && safeSupportedLocale(locale)) || "en";
  const key = `${tag}|${JSON.stringify(options)}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat(tag, options);
    formatters.set(key, format);
  }
  return format;
}

function safeSupportedLocale(locale: string): string | undefined {
  try {
    return Intl.NumberFormat.supportedLocalesOf(locale)[0];
  } catch {
    return undefined;
  }
}

/** `12,345` (en), `12,345` (zh-CN, ja), `12.345` (de). */
export function formatInteger(value: number, locale: string | undefined): string {
  return numberFormat(locale, { maximumFractionDigits: 0 }).format(Math.round(value));
}

/** Large counts shortened: `950`, `12.3K` (en), `1.2万` (zh-CN, ja), `4.5M` (tokens). */
export function formatCompact(value: number, locale: string | undefined): string {
  if (Math.abs(value) < 1000) return formatInteger(value, locale);
  return numberFormat(locale, { notation: "compact", maximumFractionDigits: 1 }).format(value);
}

/** Megabytes (MiB, as Discord counts its upload limits) for a sentence: `10`, `25`, `9.5`. */
export function formatMegabytes(bytes: number, locale: string | undefined): string {
  const megabytes = bytes / (1024 * 1024);
  return numberFormat(locale, megabytes < 1 ? { maximumSignificantDigits: 2 } : { maximumFractionDigits: 1 }).format(megabytes);
}

/** `6.3%` */
export function formatPercent(ratio: number, locale: string | undefined): string {
  return numberFormat(locale, { style: "percent", maximumFractionDigits: 1 }).format(ratio);
}

/**
 * An estimated cost with its ISO currency code (`CNY 1.23`): a symbol would be ambiguous (¥ is
 * both CNY and JPY, and a Japanese reader would take ¥ for yen). Amounts under one unit keep up
 * to four decimals, since a Qwen-Audio call costs a fraction of a cent and `0.00` would read as free.
 */
export function formatCost(amount: number, currency: string, locale: string | undefined): string {
  const small = amount !== 0 && Math.abs(amount) < 1;
  try {
    return numberFormat(locale, {
      style: "currency",
      currency,
      currencyDisplay: "code",
      minimumFractionDigits: 2,
      maximumFractionDigits: small ? 4 : 2,
    }).format(amount);
  } catch {
    // Prices are validated as three capital letters, but Intl may still not know the code.
    return `${currency} ${numberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: small ? 4 : 2 }).format(amount)}`;
  }
}

/** `m:ss` (`3:05`): a song's length or the time a request has taken, the same in every language. */
export function formatClock(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
