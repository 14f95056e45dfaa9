import { randomBytes, randomUUID } from "node:crypto";

/**
 * A DashScope-style request id: 8-4-4-4-12 lowercase hex.
 *
 * Real ids put `9` where an RFC 9562 UUID keeps its version digit
 * (seed: `46c51288-7ed6-95cc-a119-…`; live captures: `db13c38b-4291-9f90-9117-…`,
 * `c007a8a3-a9ed-9669-b5b8-…`). The fake does the same on purpose: a client that validates
 * request ids with a strict UUID check (zod's `z.uuid()`) would reject real answers, and must
 * be caught here rather than in production. Treat the id as an opaque string.
 */
export function newRequestId(): string {
  const uuid = randomUUID();
  return `${uuid.slice(0, 14)}9${uuid.slice(15)}`;
}

/** OSS request ids are 24 upper-case hex digits (e.g. `67A0301DFD9B3D32381FFE63`). */
export function newOssRequestId(): string {
  return randomBytes(12).toString("hex").toUpperCase();
}

/** Lower-case hex of `bytes` random bytes. */
export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}
