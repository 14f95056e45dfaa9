import {
  ApplicationCommandType,
  GatewayDispatchEvents,
  GatewayIntentBits,
  InteractionResponseType,
  InteractionType,
  MessageFlags,
  MessageType,
  type APIMessageInteractionMetadata,
  type APIModalInteractionResponseCallbackData,
} from "discord.js";
import { discordError, DiscordHttpError, formError, FormErrors } from "./errors.js";
import { cloneJson, isInteger, isRecord } from "./json.js";
import { validateModal } from "./modal-limits.js";
import {
  applyMessageEdit,
  createStoredMessage,
  deleteStoredMessage,
  draftMessageWrite,
  renderMessage,
  type MessageDraft,
  type UploadedFile,
} from "./messages.js";
import type { Route, RouteContext, RouteResult } from "./router.js";
import type { FakeDiscordWorld, StoredInteraction, StoredMessage } from "./state.js";
import type { InitialResponseData, RecordedFile } from "./types.js";

/** Callback types each interaction type accepts (receiving-and-responding.mdx, "Interaction Callback Type"). */
function allowedCallbackTypes(interaction: StoredInteraction): InteractionResponseType[] {
  switch (interaction.type) {
    case InteractionType.Ping:
      return [InteractionResponseType.Pong];
    case InteractionType.ApplicationCommand:
      return [
        InteractionResponseType.ChannelMessageWithSource,
        InteractionResponseType.DeferredChannelMessageWithSource,
        InteractionResponseType.Modal,
      ];
    case InteractionType.MessageComponent:
      return [
        InteractionResponseType.ChannelMessageWithSource,
        InteractionResponseType.DeferredChannelMessageWithSource,
        InteractionResponseType.DeferredMessageUpdate,
        InteractionResponseType.UpdateMessage,
        InteractionResponseType.Modal,
      ];
    case InteractionType.ApplicationCommandAutocomplete:
      return [InteractionResponseType.ApplicationCommandAutocompleteResult];
    case InteractionType.ModalSubmit: {
      // A modal cannot answer a modal; updating a message needs the modal to come from one.
      const base = [InteractionResponseType.ChannelMessageWithSource, InteractionResponseType.DeferredChannelMessageWithSource];
      return interaction.sourceMessageId === null
        ? base
        : [...base, InteractionResponseType.DeferredMessageUpdate, InteractionResponseType.UpdateMessage];
    }
  }
}

export function recordedFiles(files: readonly UploadedFile[]): RecordedFile[] {
  return files.map((file) => ({
    field: file.field,
    name: file.filename,
    contentType: file.contentType,
    size: file.bytes.length,
    bytes: file.bytes,
  }));
}

/** Discord applies the upload limit to each file (developers/reference.mdx, "Uploading Files"). */
export function checkUploadSizes(files: readonly UploadedFile[], limit: number): void {
  if (files.some((file) => file.bytes.length > limit)) throw discordError.requestTooLarge();
}

function responseMessageType(interaction: StoredInteraction): MessageType {
  if (interaction.type !== InteractionType.ApplicationCommand) return MessageType.Default;
  const data: unknown = interaction.payload.data;
  return isRecord(data) && data.type === ApplicationCommandType.ChatInput ? MessageType.ChatInputCommand : MessageType.ContextMenuCommand;
}

function interactionMetadata(world: FakeDiscordWorld, interaction: StoredInteraction): APIMessageInteractionMetadata {
  // The installs that authorized the interaction, as its payload carried them.
  const payloadOwners = (interaction.payload as { authorizing_integration_owners?: Record<string, string> }).authorizing_integration_owners;
  const owners = payloadOwners ?? { "0": interaction.guildId ?? "0" };
  const base = { id: interaction.id, user: interaction.user, authorizing_integration_owners: owners };
  if (interaction.type === InteractionType.MessageComponent && interaction.sourceMessageId !== null) {
    return { ...base, type: InteractionType.MessageComponent, interacted_message_id: interaction.sourceMessageId };
  }
  const trigger = interaction.triggeringInteractionId === null ? undefined : world.interactions.get(interaction.triggeringInteractionId);
  if (interaction.type === InteractionType.ModalSubmit && trigger) {
    const triggering = interactionMetadata(world, trigger);
    if (triggering.type !== InteractionType.ModalSubmit) {
      return { ...base, type: InteractionType.ModalSubmit, triggering_interaction_metadata: triggering };
    }
  }
  return { ...base, type: InteractionType.ApplicationCommand };
}

/** Creates a bot message tied to an interaction (a response or a follow-up). */
function createInteractionMessage(world: FakeDiscordWorld, interaction: StoredInteraction, draft: MessageDraft): StoredMessage {
  const ephemeral = (draft.flags & MessageFlags.Ephemeral) !== 0;
  const message = createStoredMessage(world, {
    channelId: interaction.channelId,
    guildId: interaction.guildId,
    type: responseMessageType(interaction),
    author: world.botUser,
    fromBot: true,
    draft,
    interactionId: interaction.id,
    interactionMetadata: interactionMetadata(world, interaction),
    interactionLegacy:
      interaction.type === InteractionType.ApplicationCommand
        ? { id: interaction.id, type: InteractionType.ApplicationCommand, name: interaction.commandName ?? "", user: interaction.user }
        : null,
    recipientId: ephemeral ? interaction.user.id : null,
    webhookId: world.applicationId,
    applicationId: world.applicationId,
  });
  return message;
}

/** Fire-and-forget variant for handlers that answer before the gateway echo; failures land in `internalErrors`. */
export function fireMessageEvent(context: RouteContext, event: "create" | "update" | "delete", message: StoredMessage): void {
  emitMessageEvent(context, event, message).catch((error: unknown) => {
    context.world.internalErrors.push(error instanceof Error ? error : new Error(String(error)));
  });
}

/** Bots with GUILD_MESSAGES receive MESSAGE_CREATE/UPDATE for visible messages, their own included. */
export async function emitMessageEvent(context: RouteContext, event: "create" | "update" | "delete", message: StoredMessage): Promise<void> {
  if ((message.flags & MessageFlags.Ephemeral) !== 0) return;
  if (!context.gateway.anySessionHasIntent(GatewayIntentBits.GuildMessages)) return;
  const guildId = message.guildId;
  if (event === "delete") {
    await context.gateway.dispatch(GatewayDispatchEvents.MessageDelete, { id: message.id, channel_id: message.channelId, guild_id: guildId ?? undefined }, guildId);
    return;
  }
  const data = { ...renderMessage(context.world, message), guild_id: guildId ?? undefined };
  await context.gateway.dispatch(event === "create" ? GatewayDispatchEvents.MessageCreate : GatewayDispatchEvents.MessageUpdate, data, guildId);
}

async function interactionCallback(context: RouteContext): Promise<RouteResult> {
  const { world, params, body, record } = context;
  const interaction = world.interactions.get(params.interactionId ?? "");
  if (!interaction || interaction.token !== params.interactionToken) throw discordError.unknownInteraction();
  record.interactionId = interaction.id;
  if (interaction.initial) throw discordError.alreadyAcknowledged();
  const elapsedMs = world.clock() - interaction.dispatchedAt;
  // Past the deadline Discord has already told the user "The application did not respond".
  if (elapsedMs > world.options.interactionResponseWindowMs) throw discordError.unknownInteraction();
  checkUploadSizes(body.files, interaction.attachmentSizeLimit);

  const json = body.json;
  const errors = new FormErrors();
  if (!isRecord(json)) {
    errors.add([], formError.objectType().code, formError.objectType().message);
    throw new DiscordHttpError(400, errors.toBody());
  }
  const allowed = allowedCallbackTypes(interaction);
  if (!isInteger(json.type) || !allowed.includes(json.type)) {
    const item = formError.interactionResponseTypeInvalid(allowed);
    errors.add(["type"], item.code, item.message);
    throw new DiscordHttpError(400, errors.toBody());
  }
  const type = json.type as InteractionResponseType;
  const data = json.data;
  let resourceMessage: StoredMessage | null = null;

  switch (type) {
    case InteractionResponseType.ChannelMessageWithSource: {
      const draft = draftMessageWrite(world, { mode: "create", existing: null, body: data ?? {}, files: body.files, path: ["data"] });
      resourceMessage = createInteractionMessage(world, interaction, draft);
      interaction.originalMessageId = resourceMessage.id;
      fireMessageEvent(context, "create", resourceMessage);
      break;
    }
    case InteractionResponseType.DeferredChannelMessageWithSource: {
      // Only EPHEMERAL may be set on a deferred response (receiving-and-responding.mdx, callback data note).
      const flags = isRecord(data) && isInteger(data.flags) ? data.flags & MessageFlags.Ephemeral : 0;
      const draft: MessageDraft = { content: "", embeds: [], components: [], flags: flags | MessageFlags.Loading, tts: false, attachments: [], allowedMentions: "missing" };
      const message = createInteractionMessage(world, interaction, draft);
      interaction.originalMessageId = message.id;
      break;
    }
    case InteractionResponseType.DeferredMessageUpdate:
      interaction.originalMessageId = interaction.sourceMessageId;
      break;
    case InteractionResponseType.UpdateMessage: {
      const source = interaction.sourceMessageId === null ? undefined : world.messages.get(interaction.sourceMessageId);
      if (!source || source.deleted) throw discordError.unknownMessage();
      const draft = draftMessageWrite(world, { mode: "edit", existing: source, body: data ?? {}, files: body.files, path: ["data"] });
      applyMessageEdit(world, source, draft);
      interaction.originalMessageId = source.id;
      resourceMessage = source;
      fireMessageEvent(context, "update", source);
      break;
    }
    case InteractionResponseType.Modal: {
      validateModal(errors, ["data"], data);
      errors.throwIfAny();
      const modal = cloneJson(data) as unknown as APIModalInteractionResponseCallbackData;
      assignModalComponentIds(modal);
      interaction.modal = modal;
      break;
    }
    case InteractionResponseType.ApplicationCommandAutocompleteResult: {
      const choices = isRecord(data) ? data.choices : undefined;
      if (Array.isArray(choices) && choices.length > 25) {
        const item = formError.maxLength(25);
        errors.add(["data", "choices"], item.code, item.message);
      }
      errors.throwIfAny();
      break;
    }
    default:
      break;
  }

  const withResponse = context.query.get("with_response") === "true";
  interaction.initial = {
    type,
    data: isRecord(data) ? (cloneJson(data) as unknown as InitialResponseData) : undefined,
    files: recordedFiles(body.files),
    at: world.clock(),
    elapsedMs,
    withResponse,
  };
  world.notify();
  if (!withResponse) return { status: 204 };
  const original = interaction.originalMessageId === null ? undefined : world.messages.get(interaction.originalMessageId);
  const callback: Record<string, unknown> = { id: interaction.id, type: interaction.type };
  if (original && type !== InteractionResponseType.Modal) {
    callback.response_message_id = original.id;
    callback.response_message_loading = (original.flags & MessageFlags.Loading) !== 0;
    callback.response_message_ephemeral = (original.flags & MessageFlags.Ephemeral) !== 0;
  }
  const resource: Record<string, unknown> = { type };
  // The message is only included for CHANNEL_MESSAGE_WITH_SOURCE and UPDATE_MESSAGE.
  if (resourceMessage) resource.message = renderMessage(world, resourceMessage);
  return { status: 200, body: { interaction: callback, resource } };
}

/** Modal components get numeric ids like message components, so a submit can echo them back. */
function assignModalComponentIds(modal: APIModalInteractionResponseCallbackData): void {
  let next = 1;
  const visit = (component: unknown): void => {
    if (!isRecord(component)) return;
    if (!isInteger(component.id) || component.id === 0) component.id = next++;
    if (Array.isArray(component.components)) component.components.forEach(visit);
    if (isRecord(component.component)) visit(component.component);
  };
  modal.components.forEach(visit);
}

/**
 * Resolves the interaction behind a webhook token. An unknown or expired token is 401 Invalid
 * Webhook Token (50027); a token whose interaction was never acknowledged is 404 Unknown Webhook
 * (10015), which is also what Discord answers after a missed 3-second window.
 */
function webhookInteraction(context: RouteContext): StoredInteraction {
  const { world, params, record } = context;
  const interaction = world.interactionsByToken.get(params.interactionToken ?? "");
  if (!interaction) throw discordError.invalidWebhookToken();
  record.interactionId = interaction.id;
  if (params.applicationId !== interaction.payload.application_id) throw discordError.unknownWebhook();
  if (world.clock() - interaction.dispatchedAt > world.options.interactionTokenLifetimeMs) throw discordError.invalidWebhookToken();
  if (!interaction.initial) throw discordError.unknownWebhook();
  return interaction;
}

/** The message a webhook route names: `@original` or one of this interaction's follow-ups. */
function webhookMessage(world: FakeDiscordWorld, interaction: StoredInteraction, messageId: string): StoredMessage {
  const id = messageId === "@original" ? interaction.originalMessageId : messageId;
  const belongs = id !== null && (id === interaction.originalMessageId || interaction.followupIds.includes(id));
  const message = id === null || !belongs ? undefined : world.messages.get(id);
  if (!message || message.deleted) throw discordError.unknownMessage();
  return message;
}

async function createFollowup(context: RouteContext): Promise<RouteResult> {
  const { world, body } = context;
  const interaction = webhookInteraction(context);
  checkUploadSizes(body.files, interaction.attachmentSizeLimit);
  const original = interaction.originalMessageId === null ? undefined : world.messages.get(interaction.originalMessageId);
  // Right after a deferred response, a follow-up edits the "thinking" message instead
  // (receiving-and-responding.mdx, "Create Followup Message"); its ephemeral flag is ignored.
  if (original && !original.deleted && (original.flags & MessageFlags.Loading) !== 0) {
    const draft = draftMessageWrite(world, { mode: "edit", existing: original, body: stripEphemeral(body.json), files: body.files, path: [] });
    applyMessageEdit(world, original, draft);
    fireMessageEvent(context, "create", original);
    return { status: 200, body: renderMessage(world, original) };
  }
  const draft = draftMessageWrite(world, { mode: "create", existing: null, body: body.json ?? {}, files: body.files, path: [] });
  const message = createInteractionMessage(world, interaction, draft);
  interaction.followupIds.push(message.id);
  world.notify();
  fireMessageEvent(context, "create", message);
  return { status: 200, body: renderMessage(world, message) };
}

function stripEphemeral(json: unknown): unknown {
  if (!isRecord(json) || !isInteger(json.flags)) return json;
  return { ...json, flags: json.flags & ~MessageFlags.Ephemeral };
}

function getWebhookMessage(context: RouteContext): RouteResult {
  const interaction = webhookInteraction(context);
  const message = webhookMessage(context.world, interaction, context.params.messageId ?? "");
  return { status: 200, body: renderMessage(context.world, message) };
}

function editWebhookMessage(context: RouteContext): RouteResult {
  const { world, body } = context;
  const interaction = webhookInteraction(context);
  checkUploadSizes(body.files, interaction.attachmentSizeLimit);
  const message = webhookMessage(world, interaction, context.params.messageId ?? "");
  const wasLoading = (message.flags & MessageFlags.Loading) !== 0;
  const draft = draftMessageWrite(world, { mode: "edit", existing: message, body: body.json ?? {}, files: body.files, path: [] });
  applyMessageEdit(world, message, draft);
  fireMessageEvent(context, wasLoading ? "create" : "update", message);
  return { status: 200, body: renderMessage(world, message) };
}

function deleteWebhookMessage(context: RouteContext): RouteResult {
  const interaction = webhookInteraction(context);
  const message = webhookMessage(context.world, interaction, context.params.messageId ?? "");
  deleteStoredMessage(context.world, message);
  fireMessageEvent(context, "delete", message);
  return { status: 204 };
}

export const interactionRoutes: readonly Route[] = [
  { method: "POST", template: "/interactions/:interactionId/:interactionToken/callback", auth: "none", handle: interactionCallback },
  { method: "POST", template: "/webhooks/:applicationId/:interactionToken", auth: "none", handle: createFollowup },
  { method: "GET", template: "/webhooks/:applicationId/:interactionToken/messages/:messageId", auth: "none", handle: getWebhookMessage },
  { method: "PATCH", template: "/webhooks/:applicationId/:interactionToken/messages/:messageId", auth: "none", handle: editWebhookMessage },
  { method: "DELETE", template: "/webhooks/:applicationId/:interactionToken/messages/:messageId", auth: "none", handle: deleteWebhookMessage },
];
