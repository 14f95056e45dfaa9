import type { RESTOptions } from "discord.js";

/**
 * Options for every discord.js REST client the bot makes.
 *
 * `makeRequest: fetch` sends Discord's requests through Node's own fetch, whose FormData and
 * request belong to one implementation. @discordjs/rest's default path uses its pinned undici 6,
 * and once undici 8 (which the DashScope client uses) is loaded it takes over undici 6's global
 * dispatcher, which then refuses undici 6's FormData: every file upload would fail
 * (nodejs/undici#5520, discordjs/discord.js#11525).
 */
export function discordRestOptions(apiUrl: string): Partial<RESTOptions> {
  // `duplex: "half"` lets a body be streamed (a song's upload, see job-reply.ts); fetch refuses a
  // streamed body without it, and it changes nothing for the others.
  const makeRequest = (url: string, init: RequestInit) => fetch(url, { ...init, duplex: "half" } as RequestInit);
  return { api: apiUrl, makeRequest: makeRequest as unknown as RESTOptions["makeRequest"] };
}
