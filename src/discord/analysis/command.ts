import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  type Message,
  type MessageContextMenuCommandInteraction,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from "discord.js";
import { audioSourcesOf, type AudioSource } from "../../analysis/sources.js";
import { commandText, localizations } from "../../i18n/commands.js";
import { UserError } from "../../errors.js";
import { startAnalysis, type AnalysisServices } from "./flow.js";
import type { HandlerContext, MessageCommand } from "../router.js";

export const analyzeAudioCommandDefinition = {
  type: ApplicationCommandType.Message,
  // The name in the Apps menu, in the member's language.
  name: commandText["analyzeAudio.name"].en,
  name_localizations: localizations("analyzeAudio.name"),
  // Also for members who install the app to their own account: a voice message in a DM can be analysed.
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM, InteractionContextType.PrivateChannel],
  integration_types: [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall],
} as const satisfies RESTPostAPIContextMenuApplicationCommandsJSONBody;

/** The audio on a message, from Discord's metadata alone (nothing is downloaded yet). */
export function audioSourcesOfMessage(message: Message): AudioSource[] {
  return audioSourcesOf({
    attachments: [...message.attachments.values()].map((attachment) => ({
      name: attachment.name,
      url: attachment.url,
      contentType: attachment.contentType,
      size: attachment.size,
      duration: attachment.duration,
    })),
    isVoiceMessage: message.flags.has(MessageFlags.IsVoiceMessage),
  });
}

export function createAnalyzeAudioCommand(services: AnalysisServices): MessageCommand {
  return {
    definition: analyzeAudioCommandDefinition,
    async execute(interaction: MessageContextMenuCommandInteraction, context: HandlerContext) {
      const sources = audioSourcesOfMessage(interaction.targetMessage);
      if (sources.length === 0) throw new UserError("analysis.noAudio");
      await startAnalysis(interaction, sources, services, context);
    },
  };
}
