import type { IncomingHttpHeaders } from "node:http";
import { EndpointFailure } from "./dashscope-call.js";
import { dashScopeError } from "./errors.js";
import { algoInvalid } from "./qwen-audio-request.js";
import type { TemporaryStorage } from "./temporary-storage.js";

/**
 * Where the fake's Qwen-Audio gets an `{"audio": …}` item's bytes from, and the errors the real
 * service gives when it cannot (Model Studio "错误信息" page; temporary-storage doc's error table):
 *
 * - `http(s)://` — fetched for real (redirects followed), like the service's downloader. Failures are
 *   data-inspection errors, 400 `InvalidParameter.DataInspection`: connection refused/reset or a 5xx →
 *   "Unable to download the media resource during the data inspection process."; 404/410 →
 *   "Failed to find the requested media resource during the data inspection process."; 401/403 (an
 *   expired signed URL) → "Don't have authorization to access the media resource during the data
 *   inspection process."; no answer within `downloadTimeoutMs` → "Download the media resource timed
 *   out during the data inspection process." (the last also quoted in an OpenAPI example with this code).
 * - `oss://<key>` — the fake's temporary storage, only with `X-DashScope-OssResourceResolve: enable`;
 *   without it the service does not resolve the scheme and answers the invalid-URL error, as the
 *   temporary-storage doc says (its table also lists `InvalidParameter.DataInspection` "The media
 *   format is not supported or incorrect for the data inspection." for the same cause; the fake uses
 *   the URL message). An unknown or expired key → the "Failed to find" message; a key uploaded for
 *   another model → the "Don't have authorization" message (the doc says files are bound to the
 *   model, not which error a mismatch gives: the fake's choice).
 * - `data:;base64,…` — decoded (the audio doc's Base64 route); more than 10 MiB of encoded text →
 *   "Exceeded limit on max bytes per data-uri item : 10485760'." (sic, as the error page prints it).
 * - anything else, `file://` included (the SDKs upload local files before calling; the HTTP API
 *   cannot read the caller's disk) → 400 InvalidParameter "<400> InternalError.Algo.InvalidParameter:
 *   The provided URL does not appear to be valid. Ensure it is correctly formatted.".
 * Files over 10 MB ("音频文件大小不超过10 MB") → "…InvalidParameter: Multimodal file size is too large"
 * (captured from the native API for an audio model).
 */

export const MAX_AUDIO_BYTES = 10 * 1024 * 1024;
const MAX_DATA_URI_CHARS = 10_485_760;

export const MEDIA_MESSAGES = {
  invalidUrl: "The provided URL does not appear to be valid. Ensure it is correctly formatted.",
  unableToDownload: "Unable to download the media resource during the data inspection process.",
  notFound: "Failed to find the requested media resource during the data inspection process.",
  noAuthorization: "Don't have authorization to access the media resource during the data inspection process.",
  timedOut: "Download the media resource timed out during the data inspection process.",
  notMedia: "The media format is not supported or incorrect for the data inspection.",
  brokenAudio: "The audio format is illegal and cannot be opened.",
  tooLarge: "Multimodal file size is too large",
  dataUriTooLarge: "Exceeded limit on max bytes per data-uri item : 10485760'.",
  audioTooLong: "The audio is too long",
} as const;

function inspection(message: string): EndpointFailure {
  return new EndpointFailure(dashScopeError("InvalidParameter.DataInspection", message));
}

function algo(message: string): EndpointFailure {
  return new EndpointFailure(algoInvalid(message));
}

export type MediaContext = {
  headers: IncomingHttpHeaders;
  model: string;
  storage: TemporaryStorage;
  downloadTimeoutMs: number;
  signal: AbortSignal;
};

function resolveFlag(headers: IncomingHttpHeaders): boolean {
  return String(headers["x-dashscope-ossresourceresolve"] ?? "").trim().toLowerCase() === "enable";
}

async function download(url: string, context: MediaContext): Promise<Buffer> {
  const timeout = AbortSignal.timeout(context.downloadTimeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.any([timeout, context.signal]), redirect: "follow" });
  } catch {
    context.signal.throwIfAborted();
    throw timeout.aborted ? inspection(MEDIA_MESSAGES.timedOut) : inspection(MEDIA_MESSAGES.unableToDownload);
  }
  if (response.status === 404 || response.status === 410) throw inspection(MEDIA_MESSAGES.notFound);
  if (response.status === 401 || response.status === 403) throw inspection(MEDIA_MESSAGES.noAuthorization);
  if (!response.ok || response.body === null) throw inspection(MEDIA_MESSAGES.unableToDownload);
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > MAX_AUDIO_BYTES) {
    await response.body.cancel().catch(() => undefined);
    throw algo(MEDIA_MESSAGES.tooLarge);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += (chunk as Uint8Array).length;
      if (size > MAX_AUDIO_BYTES) throw algo(MEDIA_MESSAGES.tooLarge);
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
  } catch (error) {
    if (error instanceof EndpointFailure) throw error;
    context.signal.throwIfAborted();
    throw timeout.aborted ? inspection(MEDIA_MESSAGES.timedOut) : inspection(MEDIA_MESSAGES.unableToDownload);
  }
  return Buffer.concat(chunks);
}

/** The bytes of one audio item, or an `EndpointFailure` carrying the real service's error. */
export async function fetchAudio(url: string, context: MediaContext): Promise<Buffer> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "http" || scheme === "https") return download(url, context);
  if (scheme === "oss" && resolveFlag(context.headers)) {
    const found = context.storage.resolve(url.slice("oss://".length), context.model);
    if (found.ok) {
      if (found.bytes.length > MAX_AUDIO_BYTES) throw algo(MEDIA_MESSAGES.tooLarge);
      return found.bytes;
    }
    throw inspection(found.reason === "missing" ? MEDIA_MESSAGES.notFound : MEDIA_MESSAGES.noAuthorization);
  }
  if (scheme === "data") {
    const comma = url.indexOf(",");
    if (comma < 0 || !/;base64$/i.test(url.slice(0, comma))) throw algo(MEDIA_MESSAGES.invalidUrl);
    if (url.length - comma - 1 > MAX_DATA_URI_CHARS) throw algo(MEDIA_MESSAGES.dataUriTooLarge);
    return Buffer.from(url.slice(comma + 1), "base64");
  }
  throw algo(MEDIA_MESSAGES.invalidUrl);
}

