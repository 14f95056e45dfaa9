import { DiscordAPIError, RESTJSONErrorCodes, type MessageCreateOptions, type RepliableInteraction } from "discord.js";

/**
 * An interaction's token lasts 15 minutes. A song that waited in the queue and then took long to
 * generate can outlive it; Discord then answers 50027 (Invalid Webhook Token) or 10015 (Unknown
 * Webhook) to every reply call, and the only way left to reach the user is the channel itself.
 */
export function isInteractionTokenGone(error: unknown): boolean {
  return (
    error instanceof DiscordAPIError &&
    (error.code === RESTJSONErrorCodes.InvalidWebhookToken || error.code === RESTJSONErrorCodes.UnknownWebhook)
  );
}

/**
 * Posts in the interaction's channel with the bot's own token, mentioning the requester (and only
 * them) so they notice: their reply can no longer be edited.
 */
export async function sendToChannel(interaction: RepliableInteraction, message: Omit<MessageCreateOptions, "allowedMentions">): Promise<void> {
  const channel = interaction.channelId ? await interaction.client.channels.fetch(interaction.channelId) : null;
  if (!channel?.isSendable()) throw new Error(`channel ${interaction.channelId ?? "(none)"} is not one the bot can post in`);
  await channel.send(mentioningOnly(interaction.user.id, message));
}

/** A channel message that mentions the requester, and pings nobody else. */
export function mentioningOnly(userId: string, message: Omit<MessageCreateOptions, "allowedMentions">): MessageCreateOptions {
  const mention = `<@${userId}>`;
  return { ...message, content: message.content ? `${mention} ${message.content}` : mention, allowedMentions: { parse: [], users: [userId] } };
}
