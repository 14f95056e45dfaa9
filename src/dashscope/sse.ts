/**
 * An incremental parser for DashScope's Server-Sent Events.
 *
 * DashScope frames look like this (seed `qwen-audio-api.zh.txt`, and the mock server in the
 * DashScope Go SDK tests):
 *
 * ```text
 * id:1
 * event:result
 * :HTTP_STATUS/200
 * data:{"output":{…},"request_id":"…"}
 *
 * ```
 *
 * Errors arrive as `event:error` with `:HTTP_STATUS/400` (or 429, 500 …) and a JSON `data:` of
 * `{code, message, request_id}`. The `:HTTP_STATUS/` line is an SSE comment to a generic client;
 * it is the only place an in-stream error states its status, so we read it.
 *
 * The parser is pure: bytes in, frames out. Chunks may be split anywhere, even inside a UTF-8
 * multi-byte character or between the `\r` and `\n` of a CRLF.
 */

/** One dispatched SSE event. */
export type SseFrame = {
  /** The `id:` field, if the event had one. */
  id: string | undefined;
  /** The `event:` field; `"message"` when absent, as in the WHATWG EventSource spec. */
  event: string;
  /** The status from a `:HTTP_STATUS/NNN` comment (or a `status:` field), if the event had one. */
  httpStatus: number | undefined;
  /** The `data:` lines joined with `\n`. */
  data: string;
};

export type SseParser = {
  /** Feed the next chunk; returns the events it completed. */
  push(chunk: Uint8Array | string): SseFrame[];
  /**
   * The stream ended: returns the last event even without its closing blank line. The WHATWG
   * spec would drop it, but a server that closes right after its final `data:` line has still
   * told us the final event, and dropping it would lose the song's URL.
   */
  end(): SseFrame[];
};

export type SseParserOptions = {
  /**
   * Longest line or event we hold, in characters (default 64 Mi). A Fun-Music chunk is a few
   * hundred KB of base64; the cap only stops a broken server from growing memory without end.
   */
  maxEventChars?: number;
};

/** Thrown by the parser when an event outgrows `maxEventChars`. */
export class SseFrameTooLargeError extends Error {
  override readonly name = "SseFrameTooLargeError";
}

const HTTP_STATUS_COMMENT = /^HTTP_STATUS\/(\d{3})\s*$/;
/** Some DashScope streams glue the status onto the event name: `event:result:HTTP_STATUS/200`. */
const EVENT_WITH_STATUS = /^(.*):HTTP_STATUS\/(\d{3})\s*$/;

export function createSseParser(options: SseParserOptions = {}): SseParser {
  const maxChars = options.maxEventChars ?? 64 * 1024 * 1024;
  // fatal: false — a stray invalid byte becomes U+FFFD rather than killing a billed stream;
  // the JSON or base64 check downstream will notice if it mattered.
  const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });

  let partialLine: string[] = [];
  let partialLength = 0;
  let lastWasCR = false;

  let id: string | undefined;
  let event: string | undefined;
  let httpStatus: number | undefined;
  let dataLines: string[] = [];
  let eventChars = 0;

  function resetEvent(): void {
    id = undefined;
    event = undefined;
    httpStatus = undefined;
    dataLines = [];
    eventChars = 0;
  }

  function dispatch(out: SseFrame[]): void {
    // As in the WHATWG spec, an event with no data is not dispatched (a keep-alive, or a lone id).
    if (dataLines.length > 0) {
      out.push({ id, event: event ?? "message", httpStatus, data: dataLines.join("\n") });
    }
    resetEvent();
  }

  function processLine(line: string, out: SseFrame[]): void {
    if (line === "") {
      dispatch(out);
      return;
    }
    if (line.startsWith(":")) {
      const status = HTTP_STATUS_COMMENT.exec(line.slice(1).trim());
      if (status) httpStatus = Number(status[1]);
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);

    eventChars += value.length;
    if (eventChars > maxChars) throw new SseFrameTooLargeError(`SSE event larger than ${maxChars} characters`);

    switch (field) {
      case "data":
        dataLines.push(value);
        break;
      case "event": {
        const glued = EVENT_WITH_STATUS.exec(value);
        if (glued) {
          event = glued[1];
          httpStatus = Number(glued[2]);
        } else {
          event = value;
        }
        break;
      }
      case "id":
        // The spec ignores ids containing NUL; so do we.
        if (!value.includes("\0")) id = value;
        break;
      case "status": {
        // The DashScope Python SDK reads a `status:` field too (`dashscope/common/utils.py`).
        const n = Number(value.trim());
        if (Number.isInteger(n)) httpStatus = n;
        break;
      }
      default:
        // `retry:` and unknown fields mean nothing to us.
        break;
    }
  }

  function takeLine(tail: string): string {
    partialLine.push(tail);
    const line = partialLine.length === 1 ? tail : partialLine.join("");
    partialLine = [];
    partialLength = 0;
    return line;
  }

  function processText(text: string, out: SseFrame[]): void {
    let start = 0;
    let i = 0;
    if (lastWasCR && text.length > 0) {
      // The previous chunk ended with `\r`; a `\n` opening this one is the same line break.
      if (text.charCodeAt(0) === 10) {
        start = 1;
        i = 1;
      }
      lastWasCR = false;
    }
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      processLine(takeLine(text.slice(start, i)), out);
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          lastWasCR = true;
        }
      }
      start = i + 1;
    }
    if (start < text.length) {
      const rest = text.slice(start);
      partialLength += rest.length;
      if (partialLength > maxChars) throw new SseFrameTooLargeError(`SSE line longer than ${maxChars} characters`);
      partialLine.push(rest);
    }
  }

  return {
    push(chunk) {
      const out: SseFrame[] = [];
      const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      processText(text, out);
      return out;
    },
    end() {
      const out: SseFrame[] = [];
      processText(decoder.decode(), out);
      if (partialLine.length > 0) processLine(takeLine(""), out);
      dispatch(out);
      return out;
    },
  };
}

/** Parses a whole byte stream; for tests and for error bodies that arrive complete. */
export async function* parseSseStream(
  source: AsyncIterable<Uint8Array | string>,
  options?: SseParserOptions,
): AsyncGenerator<SseFrame> {
  const parser = createSseParser(options);
  for await (const chunk of source) yield* parser.push(chunk);
  yield* parser.end();
}

/** Parses a complete SSE text at once. */
export function parseSseText(text: string | Uint8Array, options?: SseParserOptions): SseFrame[] {
  const parser = createSseParser(options);
  return [...parser.push(text), ...parser.end()];
}
