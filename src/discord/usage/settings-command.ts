import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from "discord.js";
import { UserError } from "../../errors.js";
import { choiceOf, describedAs } from "../../i18n/commands.js";
import type { GuildSettingsStore } from "../../settings/guild-settings.js";
import type { HandlerContext, SlashCommand } from "../router.js";

export const settingsCommandDefinition = {
  type: ApplicationCommandType.ChatInput,
  name: "settings",
  ...describedAs("settings.description"),
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  default_member_permissions: String(PermissionFlagsBits.ManageGuild),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "analysis-replies",
      ...describedAs("settings.analysisReplies"),
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: "visibility",
          ...describedAs("settings.visibility"),
          required: true,
          choices: [choiceOf("settings.visibility.private", "private"), choiceOf("settings.visibility.public", "public")],
        },
      ],
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export function createSettingsCommand(guildSettings: GuildSettingsStore): SlashCommand {
  return {
    definition: settingsCommandDefinition,
    async execute(interaction: ChatInputCommandInteraction, context: HandlerContext) {
      if (!interaction.guildId) throw new UserError("settings.guildOnly");
      // Discord's default permission can be overridden by server admins, so it is checked here too.
      if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) throw new UserError("settings.needsManageServer");
      const isPublic = interaction.options.getString("visibility", true) === "public";
      await guildSettings.update(interaction.guildId, { analysisRepliesPublic: isPublic });
      context.log.info({ analysisRepliesPublic: isPublic }, "server settings changed");
      await interaction.reply({
        content: context.t("settings.saved.analysisVisibility", { visibility: context.t(isPublic ? "settings.visibility.public" : "settings.visibility.private") }),
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      });
    },
  };
}
