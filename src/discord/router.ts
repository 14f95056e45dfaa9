import { randomBytes } from "node:crypto";
import {
  MessageFlags,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
  type RepliableInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
  type StringSelectMenuInteraction,
} from "discord.js";
import { DashScopeError } from "../dashscope/errors.js";
import { catalogLocaleOf, serverCatalogLocaleOf, translate, type CatalogLocale, type MessageKey } from "../i18n/index.js";
import type { Logger } from "../log.js";
import { isInteractionTokenGone, sendToChannel } from "./channel-fallback.js";
import { parseCustomId, type CustomId } from "./custom-id.js";
import { describeFailure, type LocalTranslate } from "./failure-text.js";

export type HandlerContext = {
  /** A child logger carrying interactionId, userId, guildId and command. */
  log: Logger;
  /**
   * Translates into the member's language (`interaction.locale`): for what only they see, such as
   * ephemeral replies, errors, refusals, forms and the buttons on private messages.
   */
  t: LocalTranslate;
  /**
   * Translates into the server's language (`guild_locale`; in a DM, the member's): for what the
   * whole channel sees, such as a song result, its progress and the channel fallback. English
   * where the server's language has no catalog.
   */
  tServer: LocalTranslate;
  /** The catalog language of `t` and of `tServer`, for formatting numbers alongside them. */
  locales: { member: CatalogLocale; server: CatalogLocale };
  /**
   * Call once the reply holds real content (a delivered song). Until then a deferred or
   * progress-edited reply is a placeholder, which the error boundary removes on failure.
   */
  markReplyFinal(): void;
};

export type SlashCommand = {
  definition: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, context: HandlerContext): Promise<void>;
};

export type MessageCommand = {
  definition: RESTPostAPIContextMenuApplicationCommandsJSONBody;
  execute(interaction: MessageContextMenuCommandInteraction, context: HandlerContext): Promise<void>;
};

type RoutesFor<I> = {
  [K in CustomId["kind"]]?: (interaction: I, id: Extract<CustomId, { kind: K }>, context: HandlerContext) => Promise<void>;
};

export type InteractionRoutes = {
  slashCommands: readonly SlashCommand[];
  messageCommands: readonly MessageCommand[];
  buttons: RoutesFor<ButtonInteraction>;
  selects: RoutesFor<StringSelectMenuInteraction>;
  modals: RoutesFor<ModalSubmitInteraction>;
};

/** A translator bound to one Discord locale (any of Discord's; see `catalogLocaleOf`). */
export function localTranslator(locale: string | null | undefined): LocalTranslate {
  return ((key: MessageKey, params?: unknown) => (translate as (l: string | null | undefined, k: MessageKey, p?: unknown) => string)(locale, key, params)) as LocalTranslate;
}

/** A short id that ties what a user is told to the log line about it. */
export function newReference(): string {
  return randomBytes(4).toString("hex");
}

function routeName(interaction: Interaction): string {
  if (interaction.isCommand()) return interaction.commandName;
  if (interaction.isMessageComponent() || interaction.isModalSubmit()) return parseCustomId(interaction.customId)?.kind ?? "unknown-component";
  return `type-${interaction.type}`;
}

/**
 * Routes every interaction to its handler, and is the one error boundary: whatever a handler
 * throws reaches the user as a short ephemeral message and the log with full context.
 */
export function createInteractionRouter(routes: InteractionRoutes, logger: Logger): (interaction: Interaction) => Promise<void> {
  const slash = new Map(routes.slashCommands.map((command) => [command.definition.name, command]));
  const message = new Map(routes.messageCommands.map((command) => [command.definition.name, command]));

  return async function routeInteraction(interaction) {
    const log = logger.child({
      interactionId: interaction.id,
      userId: interaction.user.id,
      guildId: interaction.guildId,
      command: routeName(interaction),
    });
    let replyIsFinal = false;
    const locales = {
      member: catalogLocaleOf(interaction.locale),
      server: serverCatalogLocaleOf(interaction.guildLocale, interaction.locale),
    };
    const context: HandlerContext = {
      log,
      t: localTranslator(locales.member),
      tServer: localTranslator(locales.server),
      locales,
      markReplyFinal: () => {
        replyIsFinal = true;
      },
    };
    const started = Date.now();
    try {
      await dispatch(interaction, context);
      log.info({ durationMs: Date.now() - started }, "interaction handled");
    } catch (error) {
      if (!interaction.isRepliable()) {
        log.error({ err: error }, "interaction failed");
        return;
      }
      const reference = newReference();
      const failure = describeFailure(error, context.t, reference);
      const dashscope = error instanceof DashScopeError ? { code: error.code, status: error.status, requestId: error.requestId } : undefined;
      log[failure.level]({ err: error, reference, dashscope, durationMs: Date.now() - started }, "interaction failed");
      await sendFailure(interaction, failure.text, log, { replyIsFinal });
    }
  };

  async function dispatch(interaction: Interaction, context: HandlerContext): Promise<void> {
    if (interaction.isChatInputCommand()) {
      const command = slash.get(interaction.commandName);
      if (!command) return unknownInteraction(interaction, context);
      return command.execute(interaction, context);
    }
    if (interaction.isMessageContextMenuCommand()) {
      const command = message.get(interaction.commandName);
      if (!command) return unknownInteraction(interaction, context);
      return command.execute(interaction, context);
    }
    if (interaction.isButton()) return dispatchComponent(interaction, routes.buttons, context);
    if (interaction.isStringSelectMenu()) return dispatchComponent(interaction, routes.selects, context);
    if (interaction.isModalSubmit()) return dispatchComponent(interaction, routes.modals, context);
    context.log.debug({ type: interaction.type }, "ignored interaction of an unhandled type");
  }

  async function dispatchComponent<I extends ButtonInteraction | StringSelectMenuInteraction | ModalSubmitInteraction>(
    interaction: I,
    table: RoutesFor<I>,
    context: HandlerContext,
  ): Promise<void> {
    const id = parseCustomId(interaction.customId);
    const handler = id && (table[id.kind] as ((i: I, id: CustomId, c: HandlerContext) => Promise<void>) | undefined);
    if (!id || !handler) {
      context.log.warn({ customId: interaction.customId.slice(0, 100) }, "unknown or malformed custom id");
      return unknownInteraction(interaction, context);
    }
    return handler(interaction, id, context);
  }
}

async function unknownInteraction(interaction: RepliableInteraction, context: HandlerContext): Promise<void> {
  await interaction.reply({ content: context.t("error.unknownInteraction"), flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
}

/**
 * Sends a failure privately whatever state the interaction is in. A public placeholder
 * ("thinking…" or progress text) can't turn ephemeral, so it is removed and the message goes in an
 * ephemeral follow-up; a reply that already holds content is left alone.
 */
export async function sendFailure(interaction: RepliableInteraction, text: string, log: Logger, state: { replyIsFinal: boolean }): Promise<void> {
  const message = { content: text, allowedMentions: { parse: [] } };
  try {
    if (!interaction.deferred && !interaction.replied) {
      await interaction.reply({ ...message, flags: MessageFlags.Ephemeral });
    } else if (interaction.deferred && interaction.ephemeral && !state.replyIsFinal) {
      await interaction.editReply(message);
    } else {
      if (interaction.deferred && !state.replyIsFinal) {
        await interaction.deleteReply().catch((error: unknown) => log.warn({ err: error }, "could not remove the placeholder reply"));
      }
      await interaction.followUp({ ...message, flags: MessageFlags.Ephemeral });
    }
  } catch (error) {
    if (isInteractionTokenGone(error)) {
      await sendToChannel(interaction, { content: text }).catch((channelError: unknown) =>
        log.error({ err: channelError }, "could not tell the user about a failure, in the reply or the channel"),
      );
      return;
    }
    log.error({ err: error }, "could not tell the user about a failure");
  }
}
