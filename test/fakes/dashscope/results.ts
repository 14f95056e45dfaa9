import { createHash, createHmac } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Fault } from "./faults.js";
import { newOssRequestId, randomHex } from "./ids.js";

/**
 * The fake's stand-in for the OSS bucket DashScope puts results in
 * (`http://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/pre/fun-music/<yyyymmdd>/<8 hex>/<id>.mp3?…`).
 *
 * URLs are OSS V1 signed URLs served by the fake itself:
 * `http://127.0.0.1:PORT/results/pre/fun-music/<yyyymmdd>/<8 hex>/<request id>.<fmt>?Expires=…&OSSAccessKeyId=…&Signature=…`,
 * with `Signature = base64(HMAC-SHA1(secret, "GET\n\n\n<Expires>\n/<bucket>/<key>"))`, percent-encoded,
 * the real V1 scheme. The signature usually holds `+`, `/` or `=`, so a client that decodes or
 * re-encodes the query string breaks here as it would against OSS.
 *
 * Answers, as OSS gives them (XML bodies from Alibaba OSS docs and a 2025 capture):
 * - valid: 200 with the bytes, Content-Type by extension, Content-Length, ETag; single `Range` → 206;
 * - expired (now > Expires, or after `expireAll()`): 403 AccessDenied "Request has expired.",
 *   header `x-oss-ec: 0002-00000069`;
 * - bad signature: 403 SignatureDoesNotMatch, `x-oss-ec: 0002-00000040`;
 * - no signature at all: 403 AccessDenied "…because of bucket acl." (private bucket);
 * - unknown key: 404 NoSuchKey.
 *
 * Scripted faults on downloads (`path: "/results"`): `error` answers an OSS XML error with the
 * fault's status and code; `malformed` sends 200 with HTML under the audio Content-Type;
 * `reset-mid-stream` sends the headers and half the bytes, then destroys the socket. The last two
 * only apply to a download that would have succeeded.
 */

const BUCKET = "dashscope-result-bj";
const HOST_ID = `${BUCKET}.oss-cn-beijing.aliyuncs.com`;
const ACCESS_KEY_ID = "LTAI5tFakeDashScopeResults";
const ACCESS_KEY_SECRET = "fake-dashscope-oss-secret";

type StoredResult = {
  bytes: Buffer;
  contentType: string;
  expiresAt: number;
  forcedExpired: boolean;
  etag: string;
  lastModified: string;
};

export type IssuedResult = { url: string; expiresAt: number; key: string };

export type ResultStore = {
  /** Stores `bytes` and returns its signed URL, valid until `expiresAt` (Unix seconds). */
  issue(input: { bytes: Buffer; contentType: string; fileName: string; expiresAt: number }): IssuedResult;
  /** Makes every URL issued so far answer 403 "Request has expired.". */
  expireAll(): void;
  /**
   * Serves GET/HEAD for a `/results/…` path. `claimAnswerFault` is called only when the download is
   * valid, and returns the `malformed` / `reset-mid-stream` fault to apply, if one is queued.
   */
  serve(req: IncomingMessage, res: ServerResponse, url: URL, claimAnswerFault: () => Fault | undefined): void;
  /** Answers an OSS-style XML error, for scripted `error` faults. */
  sendError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string): void;
};

export const RESULTS_PREFIX = "/results/";

function sign(expires: string, key: string): string {
  return createHmac("sha1", ACCESS_KEY_SECRET).update(`GET\n\n\n${expires}\n/${BUCKET}/${key}`).digest("base64");
}

function yyyymmdd(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll("-", "");
}

function ossXmlError(fields: Array<[string, string]>): string {
  const lines = fields.map(([name, value]) => `  <${name}>${value}</${name}>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n${lines.join("\n")}\n</Error>\n`;
}

/** `origin` is read when a URL is issued: the fake learns its port only after listening. */
export function createResultStore(origin: () => string): ResultStore {
  const objects = new Map<string, StoredResult>();

  function sendError(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    ec?: string,
    extra: Array<[string, string]> = [],
  ): void {
    const requestId = newOssRequestId();
    const fields: Array<[string, string]> = [["Code", code], ["Message", message], ["RequestId", requestId], ["HostId", HOST_ID], ...extra];
    if (ec !== undefined) fields.push(["EC", ec], ["RecommendDoc", `https://api.aliyun.com/troubleshoot?q=${ec}`]);
    const body = ossXmlError(fields);
    res.writeHead(status, {
      Server: "AliyunOSS",
      "Content-Type": "application/xml",
      "Content-Length": Buffer.byteLength(body),
      "x-oss-request-id": requestId,
      ...(ec === undefined ? {} : { "x-oss-ec": ec }),
    });
    res.end(req.method === "HEAD" ? undefined : body);
  }

  return {
    issue({ bytes, contentType, fileName, expiresAt }) {
      const key = `pre/fun-music/${yyyymmdd(new Date())}/${randomHex(4)}/${fileName}`;
      objects.set(key, {
        bytes,
        contentType,
        expiresAt,
        forcedExpired: false,
        etag: `"${createHash("md5").update(bytes).digest("hex").toUpperCase()}"`,
        lastModified: new Date().toUTCString(),
      });
      const expires = String(expiresAt);
      const query = `Expires=${expires}&OSSAccessKeyId=${ACCESS_KEY_ID}&Signature=${encodeURIComponent(sign(expires, key))}`;
      return { url: `${origin()}${RESULTS_PREFIX}${key}?${query}`, expiresAt, key };
    },

    expireAll() {
      for (const stored of objects.values()) stored.forcedExpired = true;
    },

    sendError(req, res, status, code, message) {
      sendError(req, res, status, code, message);
    },

    serve(req, res, url, claimAnswerFault) {
      if (req.method !== "GET" && req.method !== "HEAD") {
        sendError(req, res, 405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
        return;
      }
      const key = decodeURIComponent(url.pathname.slice(RESULTS_PREFIX.length));
      const expires = url.searchParams.get("Expires");
      const signature = url.searchParams.get("Signature");
      const accessKeyId = url.searchParams.get("OSSAccessKeyId");
      if (expires === null || signature === null || accessKeyId === null) {
        sendError(req, res, 403, "AccessDenied", "You have no right to access this object because of bucket acl.");
        return;
      }
      if (accessKeyId !== ACCESS_KEY_ID || signature !== sign(expires, key)) {
        sendError(
          req,
          res,
          403,
          "SignatureDoesNotMatch",
          "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
          "0002-00000040",
        );
        return;
      }
      const now = new Date();
      const stored = objects.get(key);
      if (stored === undefined) {
        sendError(req, res, 404, "NoSuchKey", "The specified key does not exist.", undefined, [["Key", key]]);
        return;
      }
      if (stored.forcedExpired || Math.floor(now.getTime() / 1000) > Number(expires)) {
        sendError(req, res, 403, "AccessDenied", "Request has expired.", "0002-00000069", [
          ["Expires", new Date(Number(expires) * 1000).toISOString()],
          ["ServerTime", now.toISOString()],
        ]);
        return;
      }
      sendObject(req, res, stored, claimAnswerFault());
    },
  };
}

function sendObject(req: IncomingMessage, res: ServerResponse, stored: StoredResult, fault: Fault | undefined): void {
  const total = stored.bytes.length;
  const headers: Record<string, string | number> = {
    Server: "AliyunOSS",
    "Content-Type": stored.contentType,
    "Accept-Ranges": "bytes",
    ETag: stored.etag,
    "Last-Modified": stored.lastModified,
    "x-oss-request-id": newOssRequestId(),
    "x-oss-object-type": "Normal",
    "x-oss-storage-class": "Standard",
  };
  if (fault?.kind === "malformed") {
    const html = Buffer.from("<html><body><h1>Service Unavailable</h1></body></html>\n");
    res.writeHead(200, { ...headers, "Content-Length": html.length });
    res.end(req.method === "HEAD" ? undefined : html);
    return;
  }
  // One "bytes=a-b" / "bytes=a-" / "bytes=-n" range; anything else gets the whole object, as OSS does.
  let status = 200;
  let body = stored.bytes;
  const match = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
  if (match && (match[1] !== "" || match[2] !== "")) {
    const start = match[1] === "" ? Math.max(0, total - Number(match[2])) : Number(match[1]);
    const end = match[1] === "" || match[2] === "" ? total - 1 : Math.min(Number(match[2]), total - 1);
    if (start <= end && start < total) {
      status = 206;
      body = stored.bytes.subarray(start, end + 1);
      headers["Content-Range"] = `bytes ${start}-${end}/${total}`;
    }
  }
  res.writeHead(status, { ...headers, "Content-Length": body.length });
  if (req.method === "HEAD") {
    res.end();
  } else if (fault?.kind === "reset-mid-stream") {
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
  } else {
    res.end(body);
  }
}
