/**
 * Decodes base64 that arrives in pieces, as Fun-Music's streamed `audio.data` does.
 *
 * The seed does not say whether each event's `data` is a whole base64 string (with its own `=`
 * padding) or a slice of one long string. Decoding every piece on its own would corrupt the
 * second kind wherever a piece's length is not a multiple of 4, so we carry the remainder over
 * to the next piece; for the first kind the carry is always empty and nothing changes.
 *
 * Node's `Buffer.from(…, "base64")` skips characters it doesn't know without a word, which would
 * hand the user a silently damaged song; we check the alphabet first and report bad pieces.
 */
export type Base64ChunkDecoder = {
  /** Decodes a piece; `undefined` if it isn't base64 (the piece is dropped). */
  push(piece: string): Buffer | undefined;
  /** True when no partial quantum is left over, i.e. the pieces made whole base64. */
  end(): boolean;
};

const base64Body = /^[A-Za-z0-9+/]*={0,2}$/;

export function createBase64ChunkDecoder(): Base64ChunkDecoder {
  let carry = "";
  return {
    push(piece) {
      // JSON may carry MIME-style line breaks; base64url's `-_` are accepted as `+/`.
      const clean = piece.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
      if (!base64Body.test(clean)) return undefined;
      const text = carry + clean;
      if (text.endsWith("=")) {
        if (text.length % 4 !== 0) return undefined;
        carry = "";
        return Buffer.from(text, "base64");
      }
      const whole = text.length - (text.length % 4);
      carry = text.slice(whole);
      return Buffer.from(text.slice(0, whole), "base64");
    },
    end() {
      return carry === "";
    },
  };
}
