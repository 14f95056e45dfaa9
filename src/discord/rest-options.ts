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
  return { api: apiUrl, makeRequest: fetch as unknown as RESTOptions["makeRequest"] };
}
