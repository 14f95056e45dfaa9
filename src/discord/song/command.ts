import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import { newSongModal } from "./views.js";
import type { HandlerContext, SlashCommand } from "../router.js";
import { requestSong, type SongServices } from "./flow.js";

export const songCommandDefinition = {
  type: ApplicationCommandType.ChatInput,
  name: "song",
  description: "Compose a song with Fun-Music from a prompt or your lyrics",
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: "prompt",
      description: "Describe the song: genre, mood, instruments, theme",
      // Fun-Music's own limit, so Discord stops the user typing more.
      max_length: 2000,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "lyrics",
      description: "Lyrics to sing; type \\n for a line break, or leave empty for a multi-line form",
      max_length: 6000,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "gender",
      description: "Vocal gender (default female)",
      choices: [
        { name: "female", value: "female" },
        { name: "male", value: "male" },
      ],
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "format",
      description: "Audio format (default mp3)",
      choices: [
        { name: "mp3", value: "mp3" },
        { name: "wav", value: "wav" },
      ],
    },
    {
      type: ApplicationCommandOptionType.Boolean,
      name: "watermark",
      description: "Append an audible AIGC watermark (Morse code for \"AI\") to the song",
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

/** A slash option is one line; `\n` typed by the user stands for a line break. */
export function lyricsFromOption(value: string | null): string | undefined {
  if (value === null || value.trim() === "") return undefined;
  return value.replace(/\\n/g, "\n");
}

export function createSongCommand(services: SongServices): SlashCommand {
  return {
    definition: songCommandDefinition,
    async execute(interaction: ChatInputCommandInteraction, context: HandlerContext) {
      const prompt = interaction.options.getString("prompt");
      const lyrics = lyricsFromOption(interaction.options.getString("lyrics"));
      const gender = interaction.options.getString("gender") === "male" ? "male" : "female";
      const format = interaction.options.getString("format") === "wav" ? "wav" : "mp3";
      const watermark = interaction.options.getBoolean("watermark") ?? false;

      if (!lyrics && (prompt === null || prompt.trim() === "")) {
        await interaction.showModal(newSongModal({ kind: "song-new-modal", gender, format, watermark }, context.t));
        return;
      }
      await requestSong(interaction, { prompt: prompt ?? undefined, lyrics, gender, format, watermark }, services, context);
    },
  };
}
