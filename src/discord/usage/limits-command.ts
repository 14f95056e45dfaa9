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
import { z } from "zod";
import { UserError } from "../../errors.js";
import { choiceOf, describedAs, type CommandTextKey } from "../../i18n/commands.js";
import {
  getQuotaSettings,
  quotaSettingsSchema,
  updateQuotaSettings,
  QUOTA_SETTING_NAMES,
  type QuotaSettingName,
  type UsageStore,
} from "../../usage/index.js";
import { ellipsize } from "../limits.js";
import { escapeUserMarkdown } from "../markdown.js";
import type { HandlerContext, SlashCommand } from "../router.js";
import { formatInteger, formatLimitValue, limitLabel, limitsEmbed, type Formatting } from "./layout.js";

/** The names admins pick from in `/limits set` (Discord shows these; the values are the setting names). */
const limitChoiceTexts = {
  userDailySongs: "limits.choice.userDailySongs",
  userDailyMusicSeconds: "limits.choice.userDailyMusicSeconds",
  userDailyAnalyses: "limits.choice.userDailyAnalyses",
  guildMonthlyMusicSeconds: "limits.choice.guildMonthlyMusicSeconds",
  guildMonthlyCost: "limits.choice.guildMonthlyCost",
  songCooldownSeconds: "limits.choice.songCooldownSeconds",
} as const satisfies Record<QuotaSettingName, CommandTextKey>;

export const limitsCommandDefinition = {
  type: ApplicationCommandType.ChatInput,
  name: "limits",
  ...describedAs("limits.description"),
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  default_member_permissions: String(PermissionFlagsBits.ManageGuild),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "show",
      ...describedAs("limits.show"),
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: "set",
      ...describedAs("limits.set"),
      options: [
        {
          type: ApplicationCommandOptionType.String,
          name: "limit",
          ...describedAs("limits.set.limit"),
          required: true,
          choices: QUOTA_SETTING_NAMES.map((name) => choiceOf(limitChoiceTexts[name], name)),
        },
        {
          type: ApplicationCommandOptionType.String,
          name: "value",
          ...describedAs("limits.set.value"),
          required: true,
          max_length: 40,
        },
      ],
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

/** What an admin may type as a limit: `default`, `unlimited`, or a plain decimal number. */
const limitInputSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(
    z.union([
      z.literal("default"),
      z.literal("unlimited").transform(() => null),
      z
        .string()
        .regex(/^-?\d{1,15}(\.\d+)?$/)
        .transform(Number),
    ]),
  );

/** Largest number accepted for any limit: beyond it, a typo rather than a limit. */
export const LARGEST_LIMIT = 1_000_000_000_000;

const settingNameSchema = z.enum(QUOTA_SETTING_NAMES as [QuotaSettingName, ...QuotaSettingName[]]);

/**
 * Reads what an admin typed for a limit: a number, `unlimited` (`null`) or `default`. Checked
 * against the setting's own schema, so the rules (whole numbers, the cooldown's day) live in one
 * place. Throws a UserError naming the problem in words.
 */
export function parseLimitValue(name: QuotaSettingName, raw: string, f: Formatting): number | null | "default" {
  const label = limitLabel(name, f.t);
  const parsed = limitInputSchema.safeParse(raw);
  if (!parsed.success) throw new UserError("limits.value.notANumber", { value: escapeUserMarkdown(ellipsize(raw.trim(), 40)) });
  const value = parsed.data;
  if (value === "default") return value;
  if (value !== null && value > LARGEST_LIMIT) {
    throw new UserError("limits.value.tooLarge", { name: label, max: formatInteger(LARGEST_LIMIT, f.locale) });
  }
  const checked = quotaSettingsSchema.shape[name].safeParse(value);
  if (checked.success) return checked.data;
  const issue = checked.error.issues[0];
  if (value === null) throw new UserError("limits.value.notUnlimited", { name: label });
  if (issue?.code === "too_small") throw new UserError("limits.value.negative", { name: label });
  if (issue?.code === "too_big") {
    throw new UserError("limits.value.tooLarge", { name: label, max: formatInteger(Number(issue.maximum), f.locale) });
  }
  throw new UserError("limits.value.notWhole", { name: label });
}

/** Manage Server, checked here too: a server's admins can let anyone see the command. */
function requireManageServer(interaction: ChatInputCommandInteraction): string {
  if (!interaction.guildId) throw new UserError("usage.guildOnly");
  if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) throw new UserError("limits.needsManageServer");
  return interaction.guildId;
}

export function createLimitsCommand(deps: { store: UsageStore }): SlashCommand {
  const { store } = deps;
  return {
    definition: limitsCommandDefinition,
    async execute(interaction: ChatInputCommandInteraction, context: HandlerContext) {
      const guildId = requireManageServer(interaction);
      const f: Formatting = { t: context.t, locale: interaction.locale };
      const currency = store.prices.currency;

      if (interaction.options.getSubcommand() === "show") {
        const settings = await getQuotaSettings(store, guildId);
        await interaction.reply({
          embeds: [limitsEmbed(settings, store.quotaDefaults, currency, f)],
          flags: MessageFlags.Ephemeral,
          allowedMentions: { parse: [] },
        });
        return;
      }

      // Discord only offers the choices, but the option arrives as text from the network.
      const name = settingNameSchema.parse(interaction.options.getString("limit", true));
      const value = parseLimitValue(name, interaction.options.getString("value", true), f);
      const updated = await updateQuotaSettings(store, guildId, { [name]: value }, { updatedBy: interaction.user.id });
      context.log.info({ limit: name, value }, "server limit changed");
      const text = {
        name: limitLabel(name, f.t),
        value: formatLimitValue(name, updated.effective[name], currency, f),
      };
      await interaction.reply({
        content: f.t(value === "default" ? "limits.savedDefault" : "limits.saved", text),
        flags: MessageFlags.Ephemeral,
        allowedMentions: { parse: [] },
      });
    },
  };
}
