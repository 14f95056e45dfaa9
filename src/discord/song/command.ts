import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import { choiceOf, describedAs } from "../../i18n/commands.js";
import { newSongModal } from "./views.js";
import type { HandlerContext, SlashCommand } from "../router.js";
import { requestSong, type SongServices } from "./flow.js";

export const songCommandDefinition = {
  type: ApplicationCommandType.ChatInput,
  name: "song",
  ...describedAs("song.description"),
  // Also for members who install the app to their own account: in any server, and in DMs.
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM, InteractionContextType.PrivateChannel],
  integration_types: [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall],
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: "prompt",
      ...describedAs("song.prompt"),
      // Fun-Music's own limit, so Discord stops the user typing more.
      max_length: 2000,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "lyrics",
      ...describedAs("song.lyrics"),
      max_length: 6000,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "gender",
      ...describedAs("song.gender"),
      choices: [choiceOf("song.gender.female", "female"), choiceOf("song.gender.male", "male")],
    },
    {
      type: ApplicationCommandOptionType.String,
      name: "format",
      ...describedAs("song.format"),
      choices: [choiceOf("song.format.mp3", "mp3"), choiceOf("song.format.wav", "wav")],
    },
    {
      type: ApplicationCommandOptionType.Boolean,
      name: "watermark",
      ...describedAs("song.watermark"),
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
