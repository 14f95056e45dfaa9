import type { MessageKey, MessageParams } from "./i18n/index.js";

/**
 * A failure the user can do something about (bad input, quota, missing audio): it becomes an
 * ephemeral message in the user's language, never an apology with a reference id.
 */
export class UserError<K extends MessageKey = MessageKey> extends Error {
  override readonly name = "UserError";
  readonly messageKey: K;
  readonly params: MessageParams<K> | undefined;

  constructor(messageKey: K, params?: MessageParams<K>, options?: { cause?: unknown }) {
    super(messageKey, options);
    this.messageKey = messageKey;
    this.params = params;
  }
}
