import { createHash, createHmac, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DashScopeEndpoint } from "./dashscope-call.js";
import { beforeStream, dashScopeError } from "./errors.js";
import type { Fault } from "./faults.js";
import { newOssRequestId, randomHex } from "./ids.js";
import { multipartBoundary, parseMultipart, type FormPart } from "./multipart.js";
import { isQwenAudioModel } from "./qwen-audio-request.js";

/**
 * DashScope's temporary storage ("上传本地文件获取临时URL"), both halves:
 *
 * 1. `GET {base}/uploads?action=getPolicy&model=<model>` (Bearer key) →
 *    `{request_id, data:{policy, signature, upload_dir, upload_host, expire_in_seconds,
 *    max_file_size_mb, capacity_limit_mb, oss_access_key_id, x_oss_object_acl, x_oss_forbid_overwrite}}`.
 *    Types as the doc's response example prints them: the three sizes/times are numbers, the rest
 *    strings (`x_oss_forbid_overwrite: "true"`); the doc's field table says "string" for all of them,
 *    so a client should accept both. `upload_host` is this fake (`http://127.0.0.1:PORT/oss-upload`;
 *    the real one is `https://dashscope-file-xxx.oss-cn-beijing.aliyuncs.com`, bucket
 *    `dashscope-file-mgr` in a captured error), `upload_dir` is `dashscope-instant/<32 hex>/<date>/<uuid>`.
 * 2. `POST {upload_host}` multipart/form-data, OSS PostObject with a V1 policy signature:
 *    `Signature = base64(HMAC-SHA1(secret, policy))`, `policy = base64(JSON)`. The policy JSON is
 *    `{"expiration":…,"conditions":[["content-length-range",0,<max>],["starts-with","$key",<dir>],
 *    {"bucket":"dashscope-file-mgr"},{"x-oss-object-acl":"private"},{"x-oss-forbid-overwrite":"true"}]}` —
 *    the doc's truncated samples begin `eyJleHBpcmF0aW9…` (`{"expiratio`) and end `…1ZSJ9XX0=` (`ue"}]}`),
 *    which fits a last condition of `{"x-oss-forbid-overwrite":"true"}`; the other conditions are the
 *    fake's reading of the fields the SDK is told to send.
 *
 * Checks, in OSS's order, each answered with OSS's XML error body:
 * - not multipart → 400 RequestIsNotMultiPartContent; unreadable multipart → 400 MalformedPOSTRequest;
 * - a field missing before `file` (OSSAccessKeyId, Signature, policy, key, file) → 400 InvalidArgument
 *   "The bucket POST must contain the specified '<field>'. If it is specified, please check the order
 *   of the fields" with ArgumentName/ArgumentValue (a captured answer of the real upload host, with
 *   EC 0002-00000706 for OSSAccessKeyId); fields after `file` are not read, as OSS requires;
 * - unknown OSSAccessKeyId → 403 InvalidAccessKeyId; wrong signature → 403 SignatureDoesNotMatch;
 * - policy past its expiration (or `expirePolicies()`) → 403 AccessDenied "Invalid according to
 *   Policy: Policy expired." (the DashScope doc's own error table);
 * - a policy condition not met (key outside `upload_dir`, ACL or forbid-overwrite field missing or
 *   different) → 403 AccessDenied "Invalid according to Policy: Policy Condition failed: [...]";
 * - file larger than max_file_size_mb → 400 EntityTooLarge (EC 0006-00000003);
 * - `x-oss-forbid-overwrite: true` and the key exists → 409 FileAlreadyExists "The object you
 *   specified already exists and can not be overwritten.".
 * Success: the status `success_action_status` asks for (200 or 201; anything else, or none, 204 as
 * OSS does), empty body except 201's `<PostResponse>`. The SDK needs 200, so a client that forgets
 * the field gets OSS's 204 here too.
 *
 * Objects live `fileTtlSeconds` (48 h, as documented) and resolve as `oss://<key>` only for the
 * model the policy was issued for ("文件与模型绑定").
 */

export const UPLOAD_PATH = "/oss-upload";
export const UPLOAD_BUCKET = "dashscope-file-mgr";
const UPLOAD_HOST_ID = `${UPLOAD_BUCKET}.oss-cn-beijing.aliyuncs.com`;
const UPLOAD_ACCESS_KEY_ID = "LTAI5tFakeDashScopeUploads";
const UPLOAD_ACCESS_KEY_SECRET = "fake-dashscope-upload-secret";
const MIB = 1024 * 1024;

export type TemporaryStorageSettings = {
  origin(): string;
  policyTtlSeconds: number;
  maxFileSizeMb: number;
  fileTtlSeconds: number;
};

/** One object in the fake's temporary storage. */
export type UploadedObject = {
  key: string;
  /** `oss://<key>`, the URL a model call uses. */
  url: string;
  bytes: Buffer;
  contentType: string;
  /** The model the upload policy was issued for; only that model can read the object. */
  model: string;
  /** When the upload finished (ms since the epoch). */
  at: number;
};

type StoredObject = UploadedObject & { expiresAt: number; forcedExpired: boolean };
type IssuedPolicy = { model: string; forcedExpired: boolean };

export type ResolvedObject = { ok: true; bytes: Buffer } | { ok: false; reason: "missing" | "other-model" };

export type TemporaryStorage = {
  /** The getPolicy endpoint, to register with the other DashScope endpoints. */
  policyEndpoint: DashScopeEndpoint;
  /**
   * Handles `POST /oss-upload`. `truncated`: the body went over what the server keeps (the file is
   * then certainly over the limit). `claimAnswerFault` returns a queued malformed/reset-mid-stream fault.
   */
  handleUpload(req: IncomingMessage, res: ServerResponse, body: Buffer, truncated: boolean, claimAnswerFault: () => Fault | undefined): UploadSummary;
  /** Answers an OSS-style XML error, for scripted `error` faults. */
  sendError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string): void;
  resolve(key: string, model: string): ResolvedObject;
  list(): UploadedObject[];
  expirePolicies(): void;
  expireObjects(): void;
};

/** What an upload request carried, for the request record. */
export type UploadSummary = {
  fields: Record<string, string>;
  file: { filename: string | undefined; contentType: string | undefined; size: number } | undefined;
};

function sign(policy: string): string {
  return createHmac("sha1", UPLOAD_ACCESS_KEY_SECRET).update(policy).digest("base64");
}

function xmlEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

type OssError = { status: number; code: string; message: string; ec?: string; extra?: Array<[string, string]> };

function missingField(name: string, value = ""): OssError {
  return {
    status: 400,
    code: "InvalidArgument",
    message: `The bucket POST must contain the specified '${name}'. If it is specified, please check the order of the fields`,
    ...(name === "OSSAccessKeyId" ? { ec: "0002-00000706" } : {}),
    extra: [
      ["ArgumentName", name],
      ["ArgumentValue", value],
    ],
  };
}

function policyFailed(condition: unknown[]): OssError {
  const shown = condition.map((part) => JSON.stringify(part)).join(", ");
  return { status: 403, code: "AccessDenied", message: `Invalid according to Policy: Policy Condition failed: [${shown}]` };
}

type PolicyDocument = { expiration: string; conditions: unknown[] };

function decodePolicy(policy: string): PolicyDocument | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(policy, "base64").toString("utf8")) as unknown;
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { expiration, conditions } = parsed as Record<string, unknown>;
    if (typeof expiration !== "string" || !Array.isArray(conditions)) return undefined;
    return { expiration, conditions };
  } catch {
    return undefined;
  }
}

export function createTemporaryStorage(settings: TemporaryStorageSettings): TemporaryStorage {
  const objects = new Map<string, StoredObject>();
  const policies = new Map<string, IssuedPolicy>();
  const maxBytes = settings.maxFileSizeMb * MIB;
  // One Alibaba Cloud account per fake: the 32-hex segment of every upload_dir.
  const accountSegment = randomHex(16);

  function sendError(req: IncomingMessage, res: ServerResponse, error: OssError): void {
    const requestId = newOssRequestId();
    const fields: Array<[string, string]> = [
      ["Code", error.code],
      ["Message", error.message],
      ["RequestId", requestId],
      ["HostId", UPLOAD_HOST_ID],
      ...(error.extra ?? []),
    ];
    if (error.ec !== undefined) fields.push(["EC", error.ec], ["RecommendDoc", `https://api.aliyun.com/troubleshoot?q=${error.ec}`]);
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n${fields.map(([n, v]) => `  <${n}>${xmlEscape(v)}</${n}>`).join("\n")}\n</Error>\n`;
    res.writeHead(error.status, {
      Server: "AliyunOSS",
      "Content-Type": "application/xml",
      "Content-Length": Buffer.byteLength(body),
      "x-oss-request-id": requestId,
      ...(error.ec === undefined ? {} : { "x-oss-ec": error.ec }),
    });
    res.end(req.method === "HEAD" ? undefined : body);
  }

  function issuePolicy(model: string): Record<string, unknown> {
    const now = new Date();
    const uploadDir = `dashscope-instant/${accountSegment}/${now.toISOString().slice(0, 10)}/${randomUUID()}`;
    const document: PolicyDocument = {
      expiration: new Date(now.getTime() + settings.policyTtlSeconds * 1000).toISOString(),
      conditions: [
        ["content-length-range", 0, maxBytes],
        ["starts-with", "$key", uploadDir],
        { bucket: UPLOAD_BUCKET },
        { "x-oss-object-acl": "private" },
        { "x-oss-forbid-overwrite": "true" },
      ],
    };
    const policy = Buffer.from(JSON.stringify(document)).toString("base64");
    policies.set(policy, { model, forcedExpired: false });
    return {
      policy,
      signature: sign(policy),
      upload_dir: uploadDir,
      upload_host: `${settings.origin()}${UPLOAD_PATH}`,
      expire_in_seconds: settings.policyTtlSeconds,
      max_file_size_mb: settings.maxFileSizeMb,
      capacity_limit_mb: 999_999_999,
      oss_access_key_id: UPLOAD_ACCESS_KEY_ID,
      x_oss_object_acl: "private",
      x_oss_forbid_overwrite: "true",
    };
  }

  const policyEndpoint: DashScopeEndpoint = {
    path: "/uploads",
    method: "GET",
    prepare({ query, requestId }) {
      const model = query.get("model");
      if (query.get("action") !== "getPolicy") return { ok: false, error: beforeStream(dashScopeError("InvalidParameter")) };
      if (model === null || model === "") return { ok: false, error: beforeStream(dashScopeError("BadRequest.EmptyModel")) };
      if (!isQwenAudioModel(model)) return { ok: false, error: beforeStream(dashScopeError("InvalidParameter", "Model not exist.")) };
      return {
        ok: true,
        durationMs: 0,
        async answer() {
          return { partials: [], final: { request_id: requestId, data: issuePolicy(model) } };
        },
      };
    },
  };

  function checkUpload(req: IncomingMessage, body: Buffer, truncated: boolean, summary: UploadSummary): OssError | { key: string; object: StoredObject; status: number } {
    const boundary = multipartBoundary(req.headers["content-type"]);
    if (boundary === undefined) {
      return { status: 400, code: "RequestIsNotMultiPartContent", message: "Bucket POST must be of the enclosure-type multipart/form-data" };
    }
    const parts = parseMultipart(body, boundary, truncated);
    if (parts === undefined) {
      return { status: 400, code: "MalformedPOSTRequest", message: "The body of your POST request is not well-formed multipart/form-data." };
    }
    // OSS reads fields up to `file` and ignores the rest: "file必须为最后一个表单域".
    const fields = new Map<string, string>();
    let file: FormPart | undefined;
    for (const part of parts) {
      if (part.name === "file") {
        file = part;
        break;
      }
      if (!fields.has(part.name.toLowerCase())) fields.set(part.name.toLowerCase(), part.body.toString("utf8"));
      summary.fields[part.name] = part.body.toString("utf8");
    }
    if (file) summary.file = { filename: file.filename, contentType: file.contentType, size: file.body.length };
    const field = (name: string): string | undefined => fields.get(name.toLowerCase());

    for (const name of ["OSSAccessKeyId", "Signature", "policy", "key"]) {
      if (field(name) === undefined || field(name) === "") return missingField(name);
    }
    if (file === undefined) return missingField("file");
    const accessKeyId = field("OSSAccessKeyId") ?? "";
    const signature = field("Signature") ?? "";
    const policy = field("policy") ?? "";
    const key = field("key") ?? "";
    if (accessKeyId !== UPLOAD_ACCESS_KEY_ID) {
      return { status: 403, code: "InvalidAccessKeyId", message: "The OSS Access Key Id you provided does not exist in our records.", extra: [["OSSAccessKeyId", accessKeyId]] };
    }
    if (signature !== sign(policy)) {
      return {
        status: 403,
        code: "SignatureDoesNotMatch",
        message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
      };
    }
    const document = decodePolicy(policy);
    if (document === undefined) return { status: 400, code: "InvalidPolicyDocument", message: "Invalid Policy: Invalid JSON." };
    const issued = policies.get(policy);
    if (issued === undefined || issued.forcedExpired || Date.now() > Date.parse(document.expiration)) {
      return { status: 403, code: "AccessDenied", message: "Invalid according to Policy: Policy expired." };
    }
    for (const condition of document.conditions) {
      if (Array.isArray(condition) && condition[0] === "content-length-range") {
        const max = Number(condition[2]);
        if (file.body.length > max) {
          return { status: 400, code: "EntityTooLarge", message: "Your proposed upload exceeds the maximum allowed size.", ec: "0006-00000003" };
        }
      } else if (Array.isArray(condition) && condition[0] === "starts-with") {
        const value = String(condition[1]) === "$key" ? key : (field(String(condition[1]).replace(/^\$/, "")) ?? "");
        if (!value.startsWith(String(condition[2]))) return policyFailed(condition);
      } else if (typeof condition === "object" && condition !== null && !Array.isArray(condition)) {
        for (const [name, expected] of Object.entries(condition)) {
          if (name === "bucket") continue;
          if (field(name) !== expected) return policyFailed(["eq", `$${name}`, expected]);
        }
      }
    }
    const existing = objects.get(key);
    if (existing && !existing.forcedExpired && Date.now() <= existing.expiresAt && field("x-oss-forbid-overwrite")?.toLowerCase() === "true") {
      return { status: 409, code: "FileAlreadyExists", message: "The object you specified already exists and can not be overwritten." };
    }
    const at = Date.now();
    const contentType = field("x-oss-content-type") || field("Content-Type") || file.contentType || "application/octet-stream";
    const requested = Number(field("success_action_status"));
    return {
      key,
      status: requested === 200 || requested === 201 ? requested : 204,
      object: {
        key,
        url: `oss://${key}`,
        bytes: Buffer.from(file.body),
        contentType,
        model: issued.model,
        at,
        expiresAt: at + settings.fileTtlSeconds * 1000,
        forcedExpired: false,
      },
    };
  }

  return {
    policyEndpoint,

    handleUpload(req, res, body, truncated, claimAnswerFault) {
      const summary: UploadSummary = { fields: {}, file: undefined };
      if (req.method !== "POST") {
        sendError(req, res, { status: 405, code: "MethodNotAllowed", message: "The specified method is not allowed against this resource." });
        return summary;
      }
      const checked = checkUpload(req, body, truncated, summary);
      if ("code" in checked) {
        sendError(req, res, checked);
        return summary;
      }
      const fault = claimAnswerFault();
      objects.set(checked.key, checked.object);
      const etag = `"${createHash("md5").update(checked.object.bytes).digest("hex").toUpperCase()}"`;
      const headers: Record<string, string | number> = { Server: "AliyunOSS", "x-oss-request-id": newOssRequestId(), ETag: etag };
      if (fault?.kind === "malformed") {
        const html = "<html><body><h1>502 Bad Gateway</h1></body></html>\n";
        res.writeHead(200, { ...headers, "Content-Type": "text/html", "Content-Length": Buffer.byteLength(html) });
        res.end(html);
        return summary;
      }
      if (fault?.kind === "reset-mid-stream") {
        // Headers promise a body that never comes: the connection drops first.
        res.writeHead(checked.status, { ...headers, "Content-Length": 64 });
        res.flushHeaders();
        setImmediate(() => res.destroy());
        return summary;
      }
      if (checked.status === 201) {
        const xml =
          `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>\n  <Bucket>${UPLOAD_BUCKET}</Bucket>\n` +
          `  <Location>${xmlEscape(`${settings.origin()}${UPLOAD_PATH}/${checked.key}`)}</Location>\n  <Key>${xmlEscape(checked.key)}</Key>\n` +
          `  <ETag>${xmlEscape(etag)}</ETag>\n</PostResponse>\n`;
        res.writeHead(201, { ...headers, "Content-Type": "application/xml", "Content-Length": Buffer.byteLength(xml) });
        res.end(xml);
        return summary;
      }
      res.writeHead(checked.status, { ...headers, "Content-Length": 0 });
      res.end();
      return summary;
    },

    sendError(req, res, status, code, message) {
      sendError(req, res, { status, code, message });
    },

    resolve(key, model) {
      const stored = objects.get(key);
      if (stored === undefined || stored.forcedExpired || Date.now() > stored.expiresAt) return { ok: false, reason: "missing" };
      if (stored.model !== model) return { ok: false, reason: "other-model" };
      return { ok: true, bytes: stored.bytes };
    },

    list() {
      return [...objects.values()].map(({ key, url, bytes, contentType, model, at }) => ({ key, url, bytes, contentType, model, at }));
    },

    expirePolicies() {
      for (const issued of policies.values()) issued.forcedExpired = true;
    },

    expireObjects() {
      for (const stored of objects.values()) stored.forcedExpired = true;
    },
  };
}
