/** Narrowing helpers for request bodies, which arrive as `unknown` JSON. */

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isInteger(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value);
}

/**
 * Discord measures text in Unicode code points, not UTF-16 units, so an emoji counts once.
 * (An astral emoji is two UTF-16 units; counting units would reject text Discord accepts.)
 */
export function textLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** Deep copy through JSON, so snapshots handed to tests cannot alias live state. */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
