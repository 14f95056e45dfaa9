/*
 * CSV as RFC 4180 describes it: comma-separated, CRLF line ends, a field quoted when it holds a
 * comma, a double quote, CR or LF, and quotes inside doubled.
 *
 * One addition: a text field starting with `=`, `+`, `-`, `@`, tab or CR is prefixed with `'`, as
 * OWASP advises against CSV injection — a spreadsheet would otherwise run it as a formula. Numbers
 * are written as they are (so `-3` stays a number).
 */

export type CsvValue = string | number | boolean | Date | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return value.toISOString();
  // Nine significant digits hide float noise (0.004699999999999999) yet keep any real money figure.
  if (typeof value === "number") return Number.isFinite(value) ? String(Number.parseFloat(value.toPrecision(9))) : "";
  if (typeof value === "boolean") return value ? "true" : "false";
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Rows as CSV with a header line. Columns are `columns` in that order, or else the keys of the
 * first row. Pure.
 */
export function toCsv<Row extends Record<string, CsvValue>>(
  rows: readonly Row[],
  columns?: readonly (keyof Row & string)[],
): string {
  const header = columns ?? (rows[0] ? (Object.keys(rows[0]) as (keyof Row & string)[]) : []);
  if (header.length === 0) return "";
  const lines = [header.map((name) => csvField(name)).join(",")];
  for (const row of rows) lines.push(header.map((name) => csvField(row[name])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
