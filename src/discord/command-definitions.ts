import type { RESTPostAPIApplicationCommandsJSONBody } from "discord.js";
import { analyzeAudioCommandDefinition } from "./analysis/command.js";
import { limitsCommandDefinition } from "./usage/limits-command.js";
import { settingsCommandDefinition } from "./usage/settings-command.js";
import { songCommandDefinition } from "./song/command.js";
import { usageCommandDefinition } from "./usage/usage-command.js";

/** Every command the bot registers, in one bulk overwrite (at startup and by `npm run register`). */
export function allCommandDefinitions(): RESTPostAPIApplicationCommandsJSONBody[] {
  return [songCommandDefinition, analyzeAudioCommandDefinition, settingsCommandDefinition, usageCommandDefinition, limitsCommandDefinition];
}
