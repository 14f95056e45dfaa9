import { randomBytes } from "node:crypto";
import {
  ButtonStyle,
  ComponentType,
  DiscordAPIError,
  InteractionWebhook,
  RESTJSONErrorCodes,
  Routes,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type APIMessage,
  type Client,
  type InteractionReplyOptions,
  type MessageCreateOptions,
  type WebhookMessageEditOptions,
} from "discord.js";
import type { Job } from "../jobs/job-store.js";
import type { Logger } from "../log.js";
import type { JobProgress } from "../jobs/progress-board.js";
import { encodeCustomId, type JobAction } from "./custom-id.js";
import type { LocalTranslate } from "./failure-text.js";
import { isInteractionTokenGone, mentioningOnly } from "./channel-fallback.js";
import { discordLimits, ellipsize } from "./limits.js";
import { formatElapsed } from "./progress.js";
import { serverCatalogLocaleOf } from "../i18n/index.js";
import { localTranslator } from "./router.js";

const noMentions = { parse: [] as [] };

/**
 * Where a job's messages go, rebuilt from its row: any process can edit any job's reply, because
 * an interaction's webhook needs only the application id and the token (15 minutes). After that
 * the channel (public jobs) or a direct message (private ones) is what is left.
 */
export type JobReply = {
  /** The member's language: private text. */
  t: LocalTranslate;
  /** The server's language: public text (the member's own outside a server). */
  tPublic: LocalTranslate;
  /** The interaction token still works (with a minute's margin for a slow edit). */
  tokenValid(): boolean;
  edit(options: WebhookMessageEditOptions): Promise<void>;
  /**
   * Edits the reply into a message with one file, streaming the file's bytes into the request in
   * small pieces (`multipartBody`) instead of copying them whole (discord.js turns a Buffer into a
   * Blob and a form, two more copies of a song of up to tens of MB, and a main-thread stall while
   * it does).
   */
  editWithFile(message: { content: string; embeds: APIEmbed[]; components: APIActionRowComponent<APIButtonComponent>[] }, file: { name: string; data: Buffer }): Promise<void>;
  followUp(options: InteractionReplyOptions): Promise<void>;
  /** Deletes the reply (a public placeholder that can't turn private). */
  remove(): Promise<void>;
  /**
   * Posts in the job's channel with the bot's own token, mentioning only the requester; or, where
   * that token reaches no channel (no guild, a server without the bot, a channel it can't post
   * in), sends it to the requester by direct message instead.
   */
  toChannel(message: Omit<MessageCreateOptions, "allowedMentions">): Promise<void>;
  /** Sends the requester a direct message. */
  toRequester(message: Omit<MessageCreateOptions, "allowedMentions">): Promise<void>;
  /**
   * Once the token is gone and the job's last word goes elsewhere (the channel, a DM), deletes the
   * public reply with the bot's own token, so it is not left on its last progress line ("Composing…",
   * "position 3 in the queue"), unless it already holds a result (a file or embeds). Once per
   * reply; a failure (a server without the bot) is only logged.
   */
  removeExpiredPlaceholder(log: Logger): Promise<void>;
};

const TOKEN_MARGIN_MS = 60_000;

/**
 * Refusals that say the bot's own token can't post in the job's channel: a server it is not in
 * (a member's user install there), other people's DMs, a channel it can't see or write in, or one
 * deleted since. The requester's DM is what is left then.
 */
function isChannelOutOfReach(error: unknown): boolean {
  return (
    error instanceof DiscordAPIError &&
    (error.code === RESTJSONErrorCodes.MissingAccess || error.code === RESTJSONErrorCodes.UnknownChannel || error.code === RESTJSONErrorCodes.MissingPermissions)
  );
}

export function jobReplyFor(client: Client<true>, job: Job): JobReply {
  const webhook = new InteractionWebhook(client, job.applicationId, job.interactionToken);
  const toRequester = async (message: Omit<MessageCreateOptions, "allowedMentions">) => {
    const user = await client.users.fetch(job.userId);
    await user.send({ ...message, allowedMentions: noMentions });
  };
  let placeholderRemoved = false;
  return {
    t: localTranslator(job.locale),
    // Outside a server there is no server language: the member's own (as the router does).
    tPublic: localTranslator(serverCatalogLocaleOf(job.guildLocale, job.locale)),
    tokenValid: () => Date.now() < job.tokenExpiresAt.getTime() - TOKEN_MARGIN_MS,
    async edit(options) {
      await webhook.editMessage("@original", { allowedMentions: noMentions, ...options });
    },
    async followUp(options) {
      await webhook.send({ allowedMentions: noMentions, ...options });
    },
    async editWithFile(message, file) {
      const boundary = `dashtune-${randomBytes(12).toString("hex")}`;
      const payload = { ...message, allowed_mentions: noMentions, attachments: [{ id: 0, filename: file.name }] };
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="payload_json"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(payload)}\r\n` +
          `--${boundary}\r\nContent-Disposition: form-data; name="files[0]"; filename="${file.name.replace(/["\\\r\n]/g, "_")}"\r\n` +
          `Content-Type: ${contentTypeOf(file.name)}\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      await client.rest.patch(Routes.webhookMessage(job.applicationId, job.interactionToken, "@original"), {
        auth: false,
        passThroughBody: true,
        body: multipartBody(head, file.data, tail),
        headers: { "Content-Type": `multipart/form-data; boundary=${boundary}`, "Content-Length": String(head.length + file.data.length + tail.length) },
      });
    },
    async remove() {
      await client.rest.delete(Routes.webhookMessage(job.applicationId, job.interactionToken, "@original"), { auth: false });
    },
    async toChannel(message) {
      // Outside the bot's servers (a DM, other people's DMs) its token reaches no channel.
      if (job.guildId === null || job.channelId === null) {
        await toRequester(message);
        return;
      }
      // A user install in a server without the bot has a guild but no channel access either.
      const channel = await client.channels.fetch(job.channelId).catch((error: unknown) => {
        if (isChannelOutOfReach(error)) return null;
        throw error;
      });
      if (!channel?.isSendable()) {
        await toRequester(message);
        return;
      }
      try {
        await channel.send(mentioningOnly(job.userId, message));
      } catch (error) {
        if (!isChannelOutOfReach(error)) throw error;
        await toRequester(message);
      }
    },
    toRequester,
    async removeExpiredPlaceholder(log) {
      // A private reply is the requester's alone, and the bot's token can't reach it anyway.
      if (placeholderRemoved || job.ephemeral || job.replyMessageId === null || job.channelId === null) return;
      placeholderRemoved = true;
      const route = Routes.channelMessage(job.channelId, job.replyMessageId);
      try {
        // Only a placeholder: a reply that already holds a result (an edit that landed although
        // its answer was lost, or a process that died between posting and recording it) stays.
        const message = (await client.rest.get(route)) as APIMessage;
        if (message.attachments.length > 0 || message.embeds.length > 0) {
          log.info("the reply left from before the interaction token ran out already holds a result; keeping it");
          return;
        }
        await client.rest.delete(route);
      } catch (error) {
        log.warn({ err: error }, "could not remove the reply left from before the interaction token ran out");
      }
    },
  };
}

/**
 * Pieces of a file streamed into a request. fetch copies every piece it sends (undici's
 * `ReadableStreamFrom`), so a song sent whole is copied whole, and with many songs being posted
 * at once those copies add up to the songs' own size again; in 64 KiB pieces each copy is small
 * and short-lived, made only as the socket takes it.
 */
export const UPLOAD_PIECE_BYTES = 64 * 1024;

/**
 * A multipart body as an iterable that starts over each time it is iterated, not a one-shot
 * generator: @discordjs/rest sends the same body again when it retries a request (a reset
 * connection, its timeout), and a spent generator would send headers announcing the file and no file.
 */
export function multipartBody(head: Buffer, data: Buffer, tail: Buffer): AsyncIterable<Buffer> {
  return {
    async *[Symbol.asyncIterator]() {
      yield head;
      for (let offset = 0; offset < data.length; offset += UPLOAD_PIECE_BYTES) yield data.subarray(offset, offset + UPLOAD_PIECE_BYTES);
      yield tail;
    },
  };
}

function contentTypeOf(fileName: string): string {
  if (fileName.endsWith(".mp3")) return "audio/mpeg";
  if (fileName.endsWith(".wav")) return "audio/wav";
  return "application/octet-stream";
}

export function jobButton(action: JobAction, jobId: string, label: string, emoji: string): APIButtonComponent {
  return {
    type: ComponentType.Button,
    style: action === "cancel" ? ButtonStyle.Secondary : ButtonStyle.Primary,
    custom_id: encodeCustomId({ kind: "job-action", action, jobId }),
    label: ellipsize(label, discordLimits.buttonLabel),
    emoji: { name: emoji },
  };
}

function progressText(job: Job, progress: JobProgress, elapsedMs: number, t: LocalTranslate): string {
  const elapsed = formatElapsed(elapsedMs);
  switch (progress.phase) {
    case "queued":
      // The time waited moves with every edit, so a heartbeat is a visible change too.
      return progress.requeued ? t("job.progress.requeued", { position: progress.position, elapsed }) : t("song.progress.queued", { position: progress.position, elapsed });
    case "restarting":
      return t("job.progress.restarting");
    case "starting":
      return job.kind === "song" ? t("song.progress.generating", { elapsed }) : t("analysis.progress.preparing", { elapsed });
    case "composing":
      return progress.audioSeconds === undefined
        ? t("song.progress.generating", { elapsed })
        : t("song.progress.streaming", { elapsed, audioSeconds: Math.floor(progress.audioSeconds) });
    case "finishing":
      return job.kind === "song" ? t("song.progress.finishing", { elapsed }) : t("analysis.progress.listening", { elapsed });
    case "preparing":
      return t("analysis.progress.preparing", { elapsed });
    case "pieces":
      return t("analysis.progress.pieces", { done: progress.done, total: progress.total, elapsed });
    case "listening": {
      const head = t("analysis.progress.listening", { elapsed });
      return progress.text ? ellipsize(`${head}\n\n${progress.text}`, discordLimits.contentLength) : head;
    }
  }
}

/**
 * Shows a job's progress in its reply. A queued job carries a Cancel button; nothing else does,
 * because a running job's call may already be billed. Past the token's life nothing is edited:
 * the job's final message goes by the channel or a direct message instead.
 */
export async function showJobProgress(client: Client<true>, job: Job, progress: JobProgress, elapsedMs: number): Promise<void> {
  const reply = jobReplyFor(client, job);
  if (!reply.tokenValid()) return;
  // A public reply speaks the server's language; a private one the member's.
  const t = job.ephemeral ? reply.t : reply.tPublic;
  const cancellable = progress.phase === "queued" || progress.phase === "restarting";
  const components: APIActionRowComponent<APIButtonComponent>[] = cancellable
    ? [{ type: ComponentType.ActionRow, components: [jobButton("cancel", job.id, t("job.button.cancel"), "✖️")] }]
    : [];
  try {
    await reply.edit({ content: progressText(job, progress, elapsedMs, t), embeds: [], components });
  } catch (error) {
    if (!isInteractionTokenGone(error)) throw error;
  }
}
