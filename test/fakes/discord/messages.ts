import { extname } from "node:path";
import {
  MessageFlags,
  type APIAllowedMentions,
  type APIAttachment,
  type APIEmbed,
  type APIMessage,
  type APIMessageTopLevelComponent,
  type APIUser,
  type MessageType,
} from "discord.js";
import { DiscordHttpError, discordError, formError, FormErrors, type FormPath } from "./errors.js";
import { cloneJson, isInteger, isRecord, type JsonRecord } from "./json.js";
import { MESSAGE_LIMITS, SETTABLE_MESSAGE_FLAGS, validateMessageBody } from "./message-limits.js";
import type { FakeDiscordWorld, StoredAttachment, StoredMessage } from "./state.js";
import type { FakeAttachment, FakeAttachmentInput, FakeMessageView } from "./types.js";

/** One `files[n]` part of a multipart request. */
export interface UploadedFile {
  /** The `n` of `files[n]`, which `attachments[].id` refers to. */
  readonly index: string;
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  readonly bytes: Buffer;
}

/** The fields of a message after a create or edit was validated; committed only if nothing failed. */
export interface MessageDraft {
  readonly content: string;
  readonly embeds: APIEmbed[];
  readonly components: JsonRecord[];
  readonly flags: number;
  readonly tts: boolean;
  readonly attachments: StoredAttachment[];
  /** `undefined` keeps the previous value (an edit that touched neither content nor embeds). */
  readonly allowedMentions: APIAllowedMentions | "missing" | undefined;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".mp3": "audio/mpeg",
  ".ogg": "audio/ogg",
  ".oga": "audio/ogg",
  ".opus": "audio/ogg",
  ".wav": "audio/x-wav",
  ".flac": "audio/flac",
  ".m4a": "audio/mp4",
  ".aac": "audio/aac",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".txt": "text/plain; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".mp4": "video/mp4",
};

/** Discord derives `content_type` itself; we trust the part's type unless it is the generic default. */
export function contentTypeFor(filename: string, declared: string | undefined): string | null {
  if (declared && declared !== "application/octet-stream") return declared;
  return CONTENT_TYPES[extname(filename).toLowerCase()] ?? declared ?? null;
}

function newAttachment(world: FakeDiscordWorld, file: UploadedFile, meta: JsonRecord | undefined): StoredAttachment {
  return {
    id: world.nextId(),
    filename: file.filename,
    contentType: contentTypeFor(file.filename, file.contentType),
    bytes: file.bytes,
    size: file.bytes.length,
    description: typeof meta?.description === "string" ? meta.description : null,
    title: typeof meta?.title === "string" ? meta.title : null,
    durationSecs: typeof meta?.duration_secs === "number" ? meta.duration_secs : null,
    waveform: typeof meta?.waveform === "string" ? meta.waveform : null,
    flags: 0,
    width: null,
    height: null,
  };
}

/** Builds a stored attachment from a test's input (a user's upload), hosting its bytes. */
export function attachmentFromInput(world: FakeDiscordWorld, input: FakeAttachmentInput): StoredAttachment {
  const bytes = Buffer.from(input.bytes ?? new Uint8Array());
  return {
    id: world.nextId(),
    filename: input.filename,
    contentType: contentTypeFor(input.filename, input.contentType),
    bytes,
    size: input.size ?? bytes.length,
    description: input.description ?? null,
    title: null,
    durationSecs: input.durationSecs ?? null,
    waveform: input.waveform ?? null,
    flags: input.flags ?? 0,
    width: input.width ?? null,
    height: input.height ?? null,
  };
}

/**
 * Works out the attachment list a write produces (developers/reference.mdx, "Editing Message
 * Attachments"): on create every uploaded file is attached; on edit, when `attachments` is sent,
 * only listed existing attachments survive and only listed uploads are added.
 */
function planAttachments(
  world: FakeDiscordWorld,
  mode: "create" | "edit",
  existing: readonly StoredAttachment[],
  body: JsonRecord,
  files: readonly UploadedFile[],
): StoredAttachment[] {
  const listed = Array.isArray(body.attachments) ? body.attachments.filter(isRecord) : undefined;
  const metaFor = (index: string): JsonRecord | undefined => listed?.find((entry) => String(entry.id) === index);
  if (mode === "create" || listed === undefined) {
    const kept = mode === "edit" ? [...existing] : [];
    return [...kept, ...files.map((file) => newAttachment(world, file, metaFor(file.index)))];
  }
  const result: StoredAttachment[] = [];
  for (const entry of listed) {
    const id = String(entry.id);
    const old = existing.find((attachment) => attachment.id === id);
    if (old) {
      if (typeof entry.description === "string") old.description = entry.description;
      result.push(old);
      continue;
    }
    const file = files.find((candidate) => candidate.index === id);
    if (file) result.push(newAttachment(world, file, entry));
  }
  return result;
}

/** Gives every component a numeric `id` when it has none, as Discord does ("generated sequentially"). */
function assignComponentIds(components: JsonRecord[], startAt: number): number {
  let next = startAt;
  const visit = (component: JsonRecord): void => {
    if (!isInteger(component.id) || component.id === 0) component.id = next++;
    for (const key of ["components"] as const) {
      const children = component[key];
      if (Array.isArray(children)) children.filter(isRecord).forEach(visit);
    }
    if (isRecord(component.accessory)) visit(component.accessory);
    if (isRecord(component.component)) visit(component.component);
  };
  components.forEach(visit);
  return next;
}

function normalizeEmbeds(embeds: unknown): APIEmbed[] {
  if (!Array.isArray(embeds)) return [];
  return embeds.filter(isRecord).map((embed) => {
    const copy = cloneJson(embed);
    for (const key of ["title", "description"] as const) {
      if (typeof copy[key] === "string") copy[key] = (copy[key] as string).trim();
    }
    return { type: "rich", ...copy } as APIEmbed;
  });
}

export interface DraftArgs {
  readonly mode: "create" | "edit";
  readonly existing: StoredMessage | null;
  readonly body: unknown;
  readonly files: readonly UploadedFile[];
  /** Where errors go in the response tree: `[]` for webhook/channel routes, `["data"]` for callbacks. */
  readonly path: FormPath;
  /** Flags that may not change on edit (ephemeral, loading) are carried over from `existing`. */
  readonly extraFlags?: number;
}

/** Validates a create/edit body and computes the resulting message, throwing Discord's error on failure. */
export function draftMessageWrite(world: FakeDiscordWorld, args: DraftArgs): MessageDraft {
  const { mode, existing, body, files, path } = args;
  if (!isRecord(body)) {
    const errors = new FormErrors();
    errors.add(path, formError.objectType().code, formError.objectType().message);
    throw new DiscordHttpError(400, errors.toBody());
  }
  const requestedFlags = isInteger(body.flags) ? body.flags : 0;
  const componentsV2 =
    ((existing?.flags ?? 0) & MessageFlags.IsComponentsV2) !== 0 || (requestedFlags & MessageFlags.IsComponentsV2) !== 0;
  const errors = new FormErrors();
  validateMessageBody(errors, path, body, {
    mode,
    uploadedFileIndexes: new Set(files.map((file) => file.index)),
    existingAttachmentIds: new Set(existing?.attachments.map((attachment) => attachment.id) ?? []),
    componentsV2,
  });
  const attachments = planAttachments(world, mode, existing?.attachments ?? [], body, files);
  if (attachments.length > MESSAGE_LIMITS.attachments) {
    const item = formError.maxLength(MESSAGE_LIMITS.attachments);
    errors.add([...path, "attachments"], item.code, item.message);
  }
  errors.throwIfAny();

  const has = (key: string): boolean => Object.hasOwn(body, key);
  const content = has("content") || mode === "create" ? (typeof body.content === "string" ? body.content : "") : (existing?.content ?? "");
  const embeds = has("embeds") || mode === "create" ? normalizeEmbeds(body.embeds) : (existing?.embeds ?? []);
  const components =
    has("components") || mode === "create"
      ? (Array.isArray(body.components) ? body.components.filter(isRecord).map((component) => cloneJson(component)) : [])
      : (existing?.components ?? []);
  // Ephemeral and loading cannot be changed by an edit; SUPPRESS_EMBEDS and IS_COMPONENTS_V2 can be set.
  const keptFlags = existing ? existing.flags & ~MessageFlags.Loading : 0;
  const settable = mode === "create" ? SETTABLE_MESSAGE_FLAGS : MessageFlags.SuppressEmbeds | MessageFlags.IsComponentsV2;
  const flags = keptFlags | (requestedFlags & settable) | (args.extraFlags ?? 0);
  const tts = mode === "create" ? body.tts === true : (existing?.tts ?? false);
  const touchedText = mode === "create" || has("content") || has("embeds");
  const allowedMentions = touchedText ? (isRecord(body.allowed_mentions) ? (cloneJson(body.allowed_mentions) as APIAllowedMentions) : "missing") : undefined;

  const empty = content.trim() === "" && embeds.length === 0 && attachments.length === 0 && components.length === 0 && body.poll === undefined;
  if (empty && !(body.sticker_ids && Array.isArray(body.sticker_ids) && body.sticker_ids.length > 0)) throw discordError.emptyMessage();

  if (mode === "create" && (flags & MessageFlags.IsVoiceMessage) !== 0) {
    if (content !== "" || embeds.length > 0 || components.length > 0) throw discordError.voiceMessageExtraContent();
    const [audio, ...rest] = attachments;
    if (!audio || rest.length > 0 || !(audio.contentType ?? "").startsWith("audio/")) throw discordError.voiceMessageSingleAudio();
    if (audio.durationSecs === null || audio.waveform === null) throw discordError.voiceMessageMetadata();
  }
  return { content, embeds, components, flags, tts, attachments, allowedMentions };
}

export interface CreateMessageArgs {
  readonly channelId: string;
  readonly guildId: string | null;
  readonly type: MessageType;
  readonly author: APIUser;
  readonly fromBot: boolean;
  readonly draft: MessageDraft;
  readonly interactionId?: string | null;
  readonly interactionMetadata?: StoredMessage["interactionMetadata"];
  readonly interactionLegacy?: StoredMessage["interactionLegacy"];
  readonly recipientId?: string | null;
  readonly webhookId?: string | null;
  readonly applicationId?: string | null;
  readonly id?: string;
}

export function createStoredMessage(world: FakeDiscordWorld, args: CreateMessageArgs): StoredMessage {
  const { draft } = args;
  const components = draft.components;
  const nextComponentId = assignComponentIds(components, 1);
  const message: StoredMessage = {
    id: args.id ?? world.nextId(),
    channelId: args.channelId,
    guildId: args.guildId,
    type: args.type,
    author: args.author,
    fromBot: args.fromBot,
    content: draft.content,
    embeds: draft.embeds,
    components,
    flags: draft.flags,
    tts: draft.tts,
    attachments: draft.attachments,
    createdAt: world.clock(),
    editedAt: null,
    deleted: false,
    editCount: 0,
    allowedMentions: draft.allowedMentions ?? "missing",
    interactionId: args.interactionId ?? null,
    interactionMetadata: args.interactionMetadata ?? null,
    interactionLegacy: args.interactionLegacy ?? null,
    recipientId: args.recipientId ?? null,
    webhookId: args.webhookId ?? null,
    applicationId: args.applicationId ?? null,
    nextComponentId,
  };
  world.messages.set(message.id, message);
  hostAttachments(world, message);
  world.notify();
  return message;
}

export function applyMessageEdit(world: FakeDiscordWorld, message: StoredMessage, draft: MessageDraft): void {
  const wasLoading = (message.flags & MessageFlags.Loading) !== 0;
  message.content = draft.content;
  message.embeds = draft.embeds;
  if (draft.components !== message.components) {
    message.nextComponentId = assignComponentIds(draft.components, message.nextComponentId);
    message.components = draft.components;
  }
  message.flags = draft.flags & ~MessageFlags.Loading;
  message.attachments = draft.attachments;
  if (draft.allowedMentions !== undefined) message.allowedMentions = draft.allowedMentions;
  // Completing a deferred response is not an "edit" to the user; later changes are.
  if (!wasLoading) {
    message.editedAt = world.clock();
    message.editCount += 1;
  }
  hostAttachments(world, message);
  world.notify();
}

/** Mirrors Discord's CDN layout (`/attachments/<channel>/<attachment>/<filename>`) on the fake's own port. */
function attachmentPath(channelId: string, attachment: StoredAttachment): string {
  return `/attachments/${channelId}/${attachment.id}/${encodeURIComponent(attachment.filename)}`;
}

/** Makes an attachment's bytes downloadable from its `url`, as the bot may fetch user uploads. */
export function hostAttachment(world: FakeDiscordWorld, channelId: string, attachment: StoredAttachment): void {
  world.hostedFiles.set(attachmentPath(channelId, attachment), {
    bytes: attachment.bytes,
    contentType: attachment.contentType,
    filename: attachment.filename,
  });
}

function hostAttachments(world: FakeDiscordWorld, message: StoredMessage): void {
  for (const attachment of message.attachments) hostAttachment(world, message.channelId, attachment);
}

function renderAttachment(world: FakeDiscordWorld, message: StoredMessage, attachment: StoredAttachment): APIAttachment {
  return renderStoredAttachment(world, message.channelId, attachment, (message.flags & MessageFlags.Ephemeral) !== 0);
}

export function renderStoredAttachment(world: FakeDiscordWorld, channelId: string, attachment: StoredAttachment, ephemeral: boolean): APIAttachment {
  const url = `${world.baseUrl}${attachmentPath(channelId, attachment)}`;
  const rendered: APIAttachment = {
    id: attachment.id,
    filename: attachment.filename,
    size: attachment.size,
    url,
    proxy_url: url,
  };
  if (attachment.contentType !== null) rendered.content_type = attachment.contentType;
  if (attachment.description !== null) rendered.description = attachment.description;
  if (attachment.title !== null) rendered.title = attachment.title;
  if (attachment.durationSecs !== null) rendered.duration_secs = attachment.durationSecs;
  if (attachment.waveform !== null) rendered.waveform = attachment.waveform;
  if (attachment.flags !== 0) rendered.flags = attachment.flags;
  if (attachment.width !== null) rendered.width = attachment.width;
  if (attachment.height !== null) rendered.height = attachment.height;
  if (ephemeral) rendered.ephemeral = true;
  return rendered;
}

/** The message as Discord's REST API returns it. */
export function renderMessage(world: FakeDiscordWorld, message: StoredMessage): APIMessage {
  const rendered: APIMessage = {
    id: message.id,
    type: message.type,
    content: message.content,
    channel_id: message.channelId,
    author: message.author,
    attachments: message.attachments.map((attachment) => renderAttachment(world, message, attachment)),
    embeds: cloneJson(message.embeds),
    mentions: [],
    mention_roles: [],
    pinned: false,
    mention_everyone: false,
    tts: message.tts,
    timestamp: new Date(message.createdAt).toISOString(),
    edited_timestamp: message.editedAt === null ? null : new Date(message.editedAt).toISOString(),
    flags: message.flags,
    components: cloneJson(message.components) as unknown as APIMessageTopLevelComponent[],
  };
  if (message.webhookId !== null) rendered.webhook_id = message.webhookId;
  if (message.applicationId !== null) rendered.application_id = message.applicationId;
  if (message.interactionMetadata !== null) rendered.interaction_metadata = cloneJson(message.interactionMetadata);
  if (message.interactionLegacy !== null) rendered.interaction = cloneJson(message.interactionLegacy);
  return rendered;
}

export function viewAttachment(world: FakeDiscordWorld, message: StoredMessage, attachment: StoredAttachment): FakeAttachment {
  return {
    id: attachment.id,
    filename: attachment.filename,
    contentType: attachment.contentType,
    size: attachment.size,
    bytes: Buffer.from(attachment.bytes),
    url: `${world.baseUrl}${attachmentPath(message.channelId, attachment)}`,
    description: attachment.description,
    title: attachment.title,
    durationSecs: attachment.durationSecs,
    waveform: attachment.waveform,
    flags: attachment.flags,
  };
}

/** A detached snapshot for tests. */
export function viewMessage(world: FakeDiscordWorld, message: StoredMessage): FakeMessageView {
  return {
    id: message.id,
    channelId: message.channelId,
    content: message.content,
    embeds: cloneJson(message.embeds),
    components: cloneJson(message.components) as unknown as APIMessageTopLevelComponent[],
    flags: message.flags,
    ephemeral: (message.flags & MessageFlags.Ephemeral) !== 0,
    loading: (message.flags & MessageFlags.Loading) !== 0,
    attachments: message.attachments.map((attachment) => viewAttachment(world, message, attachment)),
    allowedMentions: message.allowedMentions === "missing" ? "missing" : cloneJson(message.allowedMentions),
    deleted: message.deleted,
    editCount: message.editCount,
    interactionId: message.interactionId,
    fromBot: message.fromBot,
    raw: renderMessage(world, message),
  };
}

export function deleteStoredMessage(world: FakeDiscordWorld, message: StoredMessage): void {
  message.deleted = true;
  world.notify();
}
