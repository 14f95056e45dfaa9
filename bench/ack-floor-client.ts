/**
 * The floor of `bench/ack-burst.ts`: a bare discord.js client, made as the bot makes its own
 * (`discordRestOptions`, the Guilds intent), that only acknowledges (`deferReply`) every
 * interaction and does nothing else. Run by ack-burst.ts in a child process with the sandbox's
 * DISCORD_TOKEN, DISCORD_API_URL and DEV_GUILD_ID; registers a `/song` with the options the bench
 * sends, then prints "ready". `--undici-request`: @discordjs/rest's own default request path
 * (undici's `request`) instead of the bot's `fetch`, to show what the HTTP client costs.
 */
import { ApplicationCommandOptionType, Client, Events, GatewayIntentBits } from "discord.js";
import { discordRestOptions } from "../src/discord/rest-options.js";

const apiUrl = process.env.DISCORD_API_URL ?? "";
const rest = process.argv.includes("--undici-request") ? { api: apiUrl } : discordRestOptions(apiUrl);
const client = new Client({ intents: [GatewayIntentBits.Guilds], rest });
client.on(Events.InteractionCreate, (interaction) => {
  if (interaction.isRepliable()) void interaction.deferReply().catch((error: unknown) => console.error(error));
});
client.once(Events.ClientReady, async (ready) => {
  const options = ["prompt", "format"].map((name) => ({ type: ApplicationCommandOptionType.String as const, name, description: name }));
  await ready.application.commands.set([{ name: "song", description: "acknowledged only", options }], process.env.DEV_GUILD_ID ?? "");
  console.log("ready");
});
process.once("SIGTERM", () => void client.destroy().then(() => process.exit(0)));
await client.login(process.env.DISCORD_TOKEN);
