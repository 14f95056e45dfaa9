/** Discord's message limits (developer docs, "Embed Limits" and "Create Message"). */
export const discordLimits = {
  contentLength: 2000,
  embedsPerMessage: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  embedFieldName: 256,
  embedFieldValue: 1024,
  embedFooterText: 2048,
  embedAuthorName: 256,
  embedTotalCharacters: 6000,
  customId: 100,
  buttonLabel: 80,
  modalTitle: 45,
  textInputLabel: 45,
  textInputValue: 4000,
  textInputPlaceholder: 100,
  attachmentFilename: 1024,
  /** Used when an interaction doesn't say its `attachment_size_limit` (Discord's free tier). */
  defaultAttachmentBytes: 10 * 1024 * 1024,
} as const;

/**
 * Shorten text to `max` characters, marking the cut; for titles and labels, never for content we
 * promise in full. Lengths are UTF-16 units (what `.length` says), which is never less than the
 * code-point count Discord may use, so what fits here fits there; a surrogate pair is never split.
 */
export function ellipsize(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = "";
  for (const char of text) {
    if (kept.length + char.length > max - 1) break;
    kept += char;
  }
  return `${kept}…`;
}

/** The longest start of `text` within `max` UTF-16 units, never splitting a surrogate pair; no mark. */
export function truncateWithin(text: string, max: number): string {
  if (text.length <= max) return text;
  let kept = "";
  for (const char of text) {
    if (kept.length + char.length > max) break;
    kept += char;
  }
  return kept;
}
