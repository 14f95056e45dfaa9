import type { RESTPostAPIApplicationCommandsJSONBody } from "discord.js";
import { analyzeAudioCommandDefinition } from "./commands/analyze-audio.js";
import { limitsCommandDefinition } from "./commands/limits.js";
import { settingsCommandDefinition } from "./commands/settings.js";
import { songCommandDefinition } from "./commands/song.js";
import { usageCommandDefinition } from "./commands/usage.js";

/** Every command the bot registers, in one bulk overwrite (at startup and by `npm run register`). */
export function allCommandDefinitions(): RESTPostAPIApplicationCommandsJSONBody[] {
  return [songCommandDefinition, analyzeAudioCommandDefinition, settingsCommandDefinition, usageCommandDefinition, limitsCommandDefinition];
}
