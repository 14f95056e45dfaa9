import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { FaultKind } from "./faults.js";

/** What the fake saw and did for one HTTP request. Test-only, so headers are kept raw. */
export type RecordedRequest = {
  method: string;
  /** Path without the query string, e.g. `/api/v1/services/audio/music/generation`. */
  path: string;
  /** The query string without `?`, or "". */
  query: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The body parsed as JSON, or undefined when it was empty or not JSON. */
  body: unknown;
  /** Whether the request asked for SSE (`X-DashScope-SSE: enable` or `Accept: text/event-stream`). */
  sse: boolean;
  /** The request id the fake answered with (DashScope calls only). */
  requestId: string | undefined;
  /** HTTP status sent, once headers went out; undefined while pending, stalled or reset. */
  status: number | undefined;
  /** Whether the answer was `text/event-stream`. */
  responseSse: boolean;
  /** SSE events written (results and errors). */
  events: number;
  /** The scripted fault this request consumed, if any. */
  fault: FaultKind | undefined;
  /** DashScope error code sent (JSON body or SSE error frame), if any. */
  errorCode: string | undefined;
  receivedAt: number;
  /** True once the response ended normally; false while open or after a reset or stall. */
  completed: boolean;
  /**
   * Uploads to the temporary storage's OSS host only (their body is binary, so `rawBody` is ""):
   * the text fields read before `file`, and the file part's name, type and size.
   */
  form?: {
    fields: Record<string, string>;
    file: { filename: string | undefined; contentType: string | undefined; size: number } | undefined;
  };
};

export function newRecord(input: Pick<RecordedRequest, "method" | "path" | "query" | "headers" | "rawBody">): RecordedRequest {
  let body: unknown;
  try {
    body = input.rawBody === "" ? undefined : JSON.parse(input.rawBody);
  } catch {
    body = undefined;
  }
  return {
    ...input,
    body,
    sse: false,
    requestId: undefined,
    status: undefined,
    responseSse: false,
    events: 0,
    fault: undefined,
    errorCode: undefined,
    receivedAt: Date.now(),
    completed: false,
  };
}

/** Keeps `record.status`, `responseSse` and `completed` in step with what `res` actually sent. */
export function trackResponse(record: RecordedRequest, res: ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    record.status = args[0] as number;
    // writeHead(status, headers) or writeHead(status, statusMessage, headers).
    const headers = [args[1], args[2]].find((a): a is Record<string, unknown> => typeof a === "object" && a !== null);
    const contentType = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === "content-type")?.[1];
    record.responseSse = String(contentType ?? res.getHeader("content-type") ?? "").startsWith("text/event-stream");
    return writeHead(...args);
  }) as ServerResponse["writeHead"];
  res.on("finish", () => {
    record.completed = true;
  });
}
