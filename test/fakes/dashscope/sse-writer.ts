/**
 * DashScope's SSE framing, byte for byte as the service sends it (no space after the colons):
 *
 * ```
 * id:1
 * event:result
 * :HTTP_STATUS/200
 * data:{"output":{…},"request_id":"…"}
 *
 * ```
 *
 * `:HTTP_STATUS/<n>` is an SSE comment line carrying the status of that event; errors use
 * `event:error` with the error's status and `{request_id, code, message}` as data, and end the
 * stream. Ids count from 1 within a response. Sources: Qwen/Higress/Bailian captures
 * (`id:1\nevent:error\n:HTTP_STATUS/400\ndata:{…}`), the Qwen-Audio seed's SSE example (which
 * omits the comment line), and dashscope-sdk-python's `_handle_stream`, which reads `id:`,
 * `event:`, `data:` and skips other lines.
 */

export type SseEvent = {
  id: number;
  event: "result" | "error";
  status: number;
  /** The data line's text: one line of JSON (or, for a malformed fault, not-quite-JSON). */
  data: string;
};

export function formatSseEvent(event: SseEvent): string {
  if (event.data.includes("\n")) throw new Error("SSE data must be a single line");
  return `id:${event.id}\nevent:${event.event}\n:HTTP_STATUS/${event.status}\ndata:${event.data}\n\n`;
}

/** Numbers the events of one response. */
export function createSseSequence(): { next(event: SseEvent["event"], status: number, data: string): string; readonly sent: number } {
  let id = 0;
  return {
    next(event, status, data) {
      id += 1;
      return formatSseEvent({ id, event, status, data });
    },
    get sent() {
      return id;
    },
  };
}
