import { InteractionType } from "discord.js";
import { cloneJson, isRecord } from "./json.js";
import { viewMessage } from "./messages.js";
import type { FakeDiscordWorld, StoredInteraction } from "./state.js";
import type { FakeMessageView, InitialResponse, InteractionHandle, MessagePredicate, RecordedRequest } from "./types.js";

const DEFAULT_WAIT_MS = 5000;

function truncate(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

/** A compact, readable line for timeout messages: enough to see why a predicate never matched. */
export function summarizeMessage(message: FakeMessageView): string {
  const embeds = message.embeds.map((embed) => ({ title: embed.title, description: embed.description === undefined ? undefined : truncate(embed.description, 80) }));
  const customIds: string[] = [];
  const walk = (component: unknown): void => {
    if (!isRecord(component)) return;
    if (typeof component.custom_id === "string") customIds.push(component.custom_id);
    if (Array.isArray(component.components)) component.components.forEach(walk);
  };
  message.components.forEach(walk);
  return JSON.stringify({
    id: message.id,
    content: truncate(message.content),
    embeds,
    flags: message.flags,
    loading: message.loading,
    deleted: message.deleted,
    customIds,
    attachments: message.attachments.map((attachment) => `${attachment.filename} (${attachment.size} B)`),
  });
}

function summarizeRequests(requests: readonly RecordedRequest[]): string {
  if (requests.length === 0) return "none";
  return requests
    .map((request) => `${request.method} ${request.route ?? request.path} → ${request.status}${request.error ? ` ${request.error.code} "${request.error.message}"` : ""}`)
    .join("; ");
}

export function createInteractionHandle(world: FakeDiscordWorld, interaction: StoredInteraction): InteractionHandle {
  const requests = (): RecordedRequest[] => world.recordedRequests().filter((request) => request.interactionId === interaction.id);
  const original = (): FakeMessageView | undefined => {
    const message = interaction.originalMessageId === null ? undefined : world.messages.get(interaction.originalMessageId);
    return message ? viewMessage(world, message) : undefined;
  };
  const followups = (): FakeMessageView[] =>
    interaction.followupIds.flatMap((id) => {
      const message = world.messages.get(id);
      return message ? [viewMessage(world, message)] : [];
    });
  const label = `${InteractionType[interaction.type]} interaction ${interaction.id}${interaction.commandName ? ` (/${interaction.commandName})` : ""}`;
  const context = (): string => {
    const response = interaction.initial ? `initial response type ${interaction.initial.type}` : "no initial response";
    return `for ${label}; ${response}; REST calls: ${summarizeRequests(requests())}`;
  };

  return {
    id: interaction.id,
    token: interaction.token,
    payload: interaction.payload,
    user: interaction.user,
    response(timeoutMs = DEFAULT_WAIT_MS): Promise<InitialResponse> {
      return world.waitFor(() => interaction.initial, timeoutMs, () => `waiting for the initial response ${context()}`);
    },
    initialResponse: () => interaction.initial,
    original,
    get originalDeleted(): boolean {
      const message = interaction.originalMessageId === null ? undefined : world.messages.get(interaction.originalMessageId);
      return message?.deleted ?? false;
    },
    followups,
    modal: () => (interaction.modal === undefined ? undefined : cloneJson(interaction.modal)),
    // By default waits for a finished @original: deferred "thinking" messages do not count yet.
    waitForOriginal(predicate: MessagePredicate = (message) => !message.loading, timeoutMs = DEFAULT_WAIT_MS): Promise<FakeMessageView> {
      return world.waitFor(
        () => {
          const current = original();
          return current && predicate(current) ? current : undefined;
        },
        timeoutMs,
        () => {
          const current = original();
          return `waiting for @original to match ${context()}; last seen: ${current ? summarizeMessage(current) : "no @original"}`;
        },
      );
    },
    waitForFollowup(predicate: MessagePredicate = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<FakeMessageView> {
      return world.waitFor(
        () => followups().find(predicate),
        timeoutMs,
        () => `waiting for a matching follow-up ${context()}; follow-ups seen: ${followups().map(summarizeMessage).join(", ") || "none"}`,
      );
    },
    requests,
    deliveredTo: () => interaction.deliveredTo.map((shard) => [shard[0], shard[1]] as const),
  };
}
