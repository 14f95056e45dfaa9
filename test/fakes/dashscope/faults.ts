/**
 * Scripted misbehaviour. `enqueue(fault)` puts a fault at the back of a FIFO queue; each request
 * takes the first fault in the queue that matches it, and that fault is used up.
 *
 * Matching (the first matching fault decides; later ones wait their turn):
 * - `path` (optional) targets a path: it matches a request whose path equals it, equals
 *   `/api/v1` + it, or starts with it + `/`. So `"/services/audio/music/generation"` targets the
 *   music endpoint and `"/results"` targets result downloads. Without `path` a fault matches any
 *   DashScope API call (under `/api/v1`, getPolicy included) but never a result download or an
 *   upload to the temporary storage's OSS host, so a test that generates a song and then downloads
 *   it does not lose its fault to the download. Aim at uploads with `path: "/oss-upload"`.
 * - `sse-error-mid-stream` and `stall-mid-stream` only match SSE calls; every other kind matches SSE
 *   and plain calls.
 * - Faults that change a successful answer (`malformed`, `reset-mid-stream`, `sse-error-mid-stream`,
 *   `stall-mid-stream`)
 *   only apply to a call that passes validation: an invalid call gets its validation error and leaves
 *   the fault queued. The others (`error`, `delay`, `stall`, `reset`) apply on arrival.
 *
 * Effects:
 * - `error`: the call is answered with this error instead — JSON `{request_id, code, message}` under
 *   HTTP `status` for a plain call; for an SSE call one `event:error` frame with
 *   `:HTTP_STATUS/<status>`, under HTTP `status` for gateway codes (InvalidApiKey, Arrearage,
 *   AccessDenied…, unknown codes) or HTTP 200 for codes the model service raises inside the stream
 *   (InvalidParameter, DataInspectionFailed, Throttling…, InternalError…); `httpStatus` overrides
 *   that HTTP status (see `ApiError.inStream` in errors.ts). On a plain call `httpStatus` replaces
 *   the HTTP status too: `httpStatus: 200` answers the JSON error body under HTTP 200, as DashScope
 *   was seen to do (issue 7). `retryAfterSeconds` adds a `Retry-After` header. On a download or an
 *   upload: an OSS-style XML error with that status and code.
 * - `delay`: waits `ms` before anything is sent, then answers normally.
 * - `stall`: reads the request and never answers, until the client gives up or the fake closes.
 * - `reset`: destroys the socket after the request arrives, with no response at all.
 * - `reset-mid-stream`: SSE: sends `afterEvents` result events, then destroys the socket.
 *   Plain call or download: sends the headers (with the whole body's Content-Length) and half of
 *   the body, then destroys the socket. The work was done, so it counts as billed (`billed()`).
 * - `stall-mid-stream`: SSE only: sends `afterEvents` result events, then nothing more, keeping the
 *   connection open until the client gives up or the fake closes. Billed like a finished call.
 *   Upload: stores the object, sends the headers, then destroys the socket before the body.
 * - `malformed`: a 200 that is not the documented shape (`variant`, default `truncated-json`):
 *   `truncated-json` cuts the JSON (for SSE, the final event's data) in half; `missing-output` drops
 *   `output` (getPolicy: `data`); `missing-url` drops `output.audio.url` (Fun-Music);
 *   `missing-content` drops `output.choices[].message.content` (Qwen-Audio); `html` answers
 *   `text/html` like a confused proxy; `expires-at-date` writes Fun-Music's `output.audio.expires_at`
 *   as an ISO date string instead of Unix seconds, in every event of a stream (a field the client
 *   does not need drifting, while URL and `usage.duration` stay usable). On a download: 200 with HTML bytes under the audio
 *   Content-Type; on an upload (`path: "/oss-upload"`): 200 with an HTML body.
 * - `sse-error-mid-stream`: sends `afterEvents` result events (HTTP 200 already), then an
 *   `event:error` frame with `:HTTP_STATUS/<status>` and `{request_id, code, message}`, and ends.
 *
 * `afterEvents` is clamped so the fault lands before the final event: a stream never completes.
 */

export type MalformedVariant = "truncated-json" | "missing-output" | "missing-url" | "missing-content" | "html" | "expires-at-date";

type Targeted = { path?: string };

export type Fault = Targeted &
  (
    | { kind: "error"; status: number; code: string; message?: string; retryAfterSeconds?: number; httpStatus?: number }
    | { kind: "delay"; ms: number }
    | { kind: "stall" }
    | { kind: "reset" }
    | { kind: "reset-mid-stream"; afterEvents: number }
    | { kind: "malformed"; variant?: MalformedVariant }
    | { kind: "sse-error-mid-stream"; afterEvents: number; code: string; status: number; message?: string }
    | { kind: "stall-mid-stream"; afterEvents: number }
  );

export type FaultKind = Fault["kind"];

/** Faults that change a successful answer and so wait for the call to pass validation. */
export const ANSWER_FAULTS: ReadonlySet<FaultKind> = new Set(["malformed", "reset-mid-stream", "sse-error-mid-stream", "stall-mid-stream"]);

/** Faults only an SSE call can take. */
const SSE_ONLY_FAULTS: ReadonlySet<FaultKind> = new Set(["sse-error-mid-stream", "stall-mid-stream"]);

export type FaultProbe = { path: string; sse: boolean; download: boolean };

export type FaultQueue = {
  enqueue(fault: Fault): void;
  /** The first queued fault that matches, without taking it. */
  peek(probe: FaultProbe): Fault | undefined;
  /** Removes a fault returned by `peek`; false when a concurrent call took it first. */
  take(fault: Fault): boolean;
  readonly pending: readonly Fault[];
};

const API_PREFIX = "/api/v1";

function matchesPath(fault: Fault, probe: FaultProbe): boolean {
  if (fault.path === undefined) return !probe.download;
  const target = fault.path.replace(/\/+$/, "");
  const candidates = [target, `${API_PREFIX}${target}`];
  return candidates.some((c) => probe.path === c || probe.path.startsWith(`${c}/`));
}

function checkFault(fault: Fault): void {
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  const problems: string[] = [];
  if (fault.kind === "error" || fault.kind === "sse-error-mid-stream") {
    if (!Number.isInteger(fault.status) || fault.status < 400 || fault.status > 599) problems.push("status must be 400–599");
    if (fault.code === "") problems.push("code must not be empty");
  }
  if (fault.kind === "error" && fault.httpStatus !== undefined && !(Number.isInteger(fault.httpStatus) && fault.httpStatus >= 200 && fault.httpStatus <= 599)) {
    problems.push("httpStatus must be 200–599");
  }
  if (fault.kind === "delay" && !(fault.ms >= 0)) problems.push("ms must be ≥ 0");
  if ((fault.kind === "reset-mid-stream" || fault.kind === "sse-error-mid-stream" || fault.kind === "stall-mid-stream") && !whole(fault.afterEvents)) {
    problems.push("afterEvents must be a whole number ≥ 0");
  }
  if (problems.length > 0) throw new TypeError(`invalid ${fault.kind} fault: ${problems.join("; ")}`);
}

export function createFaultQueue(): FaultQueue {
  const queue: Fault[] = [];
  return {
    enqueue(fault) {
      checkFault(fault);
      queue.push(fault);
    },
    peek(probe) {
      return queue.find((fault) => matchesPath(fault, probe) && (!SSE_ONLY_FAULTS.has(fault.kind) || probe.sse));
    },
    take(fault) {
      const index = queue.indexOf(fault);
      if (index < 0) return false;
      queue.splice(index, 1);
      return true;
    },
    get pending() {
      return [...queue];
    },
  };
}
