/**
 * An audio file found on a Discord message, described by the metadata Discord gives before any
 * download, so limits can be checked without fetching anything.
 */
export type AudioSource = {
  name: string;
  url: string;
  contentType: string | null;
  sizeBytes: number;
  /** Discord's `duration_secs` (voice messages); unknown for ordinary attachments. */
  durationSeconds: number | null;
  isVoiceMessage: boolean;
};

/** A Discord attachment, as much of it as we need (discord.js `Attachment` fits). */
export type AttachmentLike = {
  name: string;
  url: string;
  contentType: string | null;
  size: number;
  duration: number | null;
};

const audioExtensions = new Set(["mp3", "wav", "m4a", "aac", "ogg", "oga", "opus", "flac", "amr", "3gp", "3gpp", "mp4", "webm", "weba", "mka"]);
const videoTypes = new Set(["video/mp4", "video/webm", "video/3gpp", "video/quicktime"]);

function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
}

/** Audio files, and the audio track of small videos; by content type first, name second. */
export function isAudioAttachment(attachment: Pick<AttachmentLike, "name" | "contentType">): boolean {
  const type = attachment.contentType?.split(";")[0]?.trim().toLowerCase();
  if (type?.startsWith("audio/")) return true;
  if (type && videoTypes.has(type)) return true;
  if (type && !type.startsWith("application/octet-stream")) return false;
  return audioExtensions.has(extensionOf(attachment.name));
}

export function audioSourcesOf(message: { attachments: Iterable<AttachmentLike>; isVoiceMessage: boolean }): AudioSource[] {
  const sources: AudioSource[] = [];
  for (const attachment of message.attachments) {
    if (!isAudioAttachment(attachment)) continue;
    sources.push({
      name: attachment.name,
      url: attachment.url,
      contentType: attachment.contentType,
      sizeBytes: attachment.size,
      durationSeconds: attachment.duration ?? null,
      isVoiceMessage: message.isVoiceMessage && sources.length === 0,
    });
  }
  return sources;
}
