import { REST, Routes, type APIApplication } from "discord.js";
import { parseDiscordConfig } from "./config.js";
import { allCommandDefinitions } from "./discord/command-definitions.js";
import { discordRestOptions } from "./discord/rest-options.js";

/**
 * `npm run register`: one bulk overwrite of the bot's commands, without connecting to the gateway.
 * The bot does the same at startup; this is for registering before first start or after a change.
 */
async function registerCommands(): Promise<void> {
  const { config: loadEnvFile } = await import("dotenv");
  loadEnvFile({ quiet: true });
  const parsed = parseDiscordConfig(process.env);
  if (!parsed.ok) {
    process.stderr.write(`cannot register commands; fix these settings (see .env.example):\n${parsed.problems.map((p) => `  - ${p}`).join("\n")}\n`);
    process.exit(1);
  }
  const { config } = parsed;
  const rest = new REST(discordRestOptions(config.discordApiUrl)).setToken(config.discordToken);
  const application = (await rest.get(Routes.currentApplication())) as APIApplication;
  const definitions = allCommandDefinitions();
  const route = config.devGuildId ? Routes.applicationGuildCommands(application.id, config.devGuildId) : Routes.applicationCommands(application.id);
  const registered = (await rest.put(route, { body: definitions })) as Array<{ name: string }>;
  const scope = config.devGuildId ? `guild ${config.devGuildId} (available at once)` : "all guilds (global; Discord may take a few minutes to show changes)";
  process.stdout.write(`Registered ${registered.length} command(s) for ${scope}: ${registered.map((c) => c.name).join(", ")}\n`);
}

registerCommands().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`registering commands failed: ${message}\n`);
  process.exit(1);
});
