import { randomBytes } from "node:crypto";
import { FormData } from "undici";
import type { FormErrorResponse } from "./client.js";
import { DashScopeError } from "./errors.js";
import type { UploadPolicy } from "./upload-policy.js";

/**
 * The OSS side of temporary storage: the object key, the PostObject form, and OSS's XML errors.
 *
 * The form is the one the official Python SDK sends (`dashscope/utils/oss_utils.py`,
 * `OssUtils.upload`): OSSAccessKeyId, Signature, policy, key, x-oss-object-acl,
 * x-oss-forbid-overwrite, success_action_status "200", x-oss-content-type, then file — last, as
 * OSS requires ("file必须为最后一个表单域", Model Studio "上传本地文件获取临时URL").
 */

/** How errors and log lines name the upload; its URL is a bucket host, not a DashScope path. */
export const OSS_UPLOAD_ENDPOINT = "oss:PostObject";

/** The status we ask OSS to answer a stored file with (its default would be 204). */
export const SUCCESS_ACTION_STATUS = "200";

/** Longest sanitized file name we keep in a key; the key holds a directory and a random prefix too. */
const MAX_NAME_CHARS = 80;

/**
 * A file name safe in an OSS key and in an `oss://` URL: the base name only (no directory parts
 * a caller's name might smuggle in), ASCII letters, digits, `_` and `-` in the stem, one `.`
 * before a short extension, at most 80 characters. OSS would take most UTF-8, but the key
 * travels back inside a JSON message as a URL, where spaces, `#`, `?` and `%` would need
 * escaping that the service might or might not undo. A stem with nothing left becomes `file`.
 */
export function sanitizeFileName(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  const clean = (text: string) =>
    text
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[^A-Za-z0-9_-]+/g, "_")
      .replace(/_+/g, "_")
      .replace(/^[_-]+|[_-]+$/g, "");
  const extension = dot > 0 ? clean(base.slice(dot + 1)).slice(0, 10) : "";
  const stem = (clean(dot > 0 ? base.slice(0, dot) : base) || "file").slice(0, MAX_NAME_CHARS - extension.length - 1);
  return extension === "" ? stem : `${stem}.${extension}`;
}

/**
 * `{upload_dir}/{random}-{name}`. The policy's directory is shared by every upload made with it,
 * and `x-oss-forbid-overwrite: true` makes a second "part1.mp3" fail with 409; 96 random bits
 * keep two files (or two bots) from ever colliding.
 */
export function buildObjectKey(uploadDir: string, fileName: string, random: () => string = defaultRandomPrefix): string {
  return `${uploadDir.replace(/\/+$/, "")}/${random()}-${sanitizeFileName(fileName)}`;
}

function defaultRandomPrefix(): string {
  return randomBytes(12).toString("hex");
}

/** The PostObject form, fields in the SDK's order, `file` last. */
export function buildUploadForm(policy: UploadPolicy, key: string, file: { bytes: Buffer; contentType: string; fileName: string }): FormData {
  const form = new FormData();
  form.append("OSSAccessKeyId", policy.ossAccessKeyId);
  form.append("Signature", policy.signature);
  form.append("policy", policy.policy);
  form.append("key", key);
  form.append("x-oss-object-acl", policy.objectAcl);
  form.append("x-oss-forbid-overwrite", policy.forbidOverwrite);
  form.append("success_action_status", SUCCESS_ACTION_STATUS);
  form.append("x-oss-content-type", file.contentType);
  form.append("file", new Blob([file.bytes], { type: file.contentType }), sanitizeFileName(file.fileName));
  return form;
}

/** The parts of an OSS `<Error>` body we use. */
export type OssErrorBody = { code: string | undefined; message: string | undefined; requestId: string | undefined };

const xmlEntities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeXmlText(text: string): string {
  return text
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, "$1")
    .replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => xmlEntities[name] ?? "")
    .replace(/&#(x[0-9a-fA-F]+|\d+);/g, (_, ref: string) => {
      const point = ref.startsWith("x") ? Number.parseInt(ref.slice(1), 16) : Number(ref);
      return Number.isFinite(point) && point <= 0x10ffff ? String.fromCodePoint(point) : "";
    })
    .trim();
}

function xmlElement(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}(?:\\s[^>]*)?>([\\s\\S]*?)</${name}>`).exec(xml);
  if (!match?.[1]) return undefined;
  const text = decodeXmlText(match[1]);
  return text === "" ? undefined : text;
}

/**
 * Reads `<Error><Code/><Message/><RequestId/>…</Error>` (OSS "Error response", help.aliyun.com
 * doc 32005). Only these three elements are read: an OSS error body can also hold
 * `<SignatureProvided>`, `<StringToSign>` (our policy) and `<OSSAccessKeyId>`, none of which may
 * travel further than this function.
 */
export function parseOssErrorBody(text: string): OssErrorBody | undefined {
  if (!/<Error[\s>]/.test(text)) return undefined;
  return { code: xmlElement(text, "Code"), message: xmlElement(text, "Message"), requestId: xmlElement(text, "RequestId") };
}

const SNIPPET_CHARS = 200;

/**
 * The `DashScopeError` for a failed PostObject. Its message is OSS's `<Code>` and `<Message>`
 * with every credential of the form (signature, policy, access key id) and the API key
 * replaced, never the raw body; `status` keeps the client's retry rule (5xx yes, 4xx no).
 */
export function errorFromOssResponse(response: FormErrorResponse, secrets: readonly string[]): DashScopeError {
  const scrub = (text: string) => {
    let out = text;
    for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("[redacted]");
    return out;
  };
  const body = parseOssErrorBody(response.bodyText);
  const code = body?.code ?? "Unknown";
  let detail = body?.message ?? (body ? "" : response.bodyText.replace(/<[^>]*>/g, " "));
  detail = scrub(detail.replace(/\s+/g, " ").trim());
  if (detail.length > SNIPPET_CHARS) detail = `${detail.slice(0, SNIPPET_CHARS)}…`;
  return new DashScopeError({
    code,
    message: `OSS upload failed: HTTP ${response.status} ${code}${detail === "" ? "" : `: ${detail}`}`,
    status: response.status,
    requestId: body?.requestId ?? response.headerRequestId,
    endpoint: OSS_UPLOAD_ENDPOINT,
    method: "POST",
    retryAfterSeconds: response.retryAfterSeconds,
  });
}

/**
 * Whether a refused upload deserves a new policy and one more try: the policy expired
 * (403 `AccessDenied` "Invalid according to Policy: Policy expired."), or the key already exists
 * (409 `FileAlreadyExists`; with our random keys, most likely our own earlier try that landed
 * before its answer was lost — a fresh key stores the file again rather than guess).
 */
export function needsFreshPolicy(error: DashScopeError): boolean {
  if (error.endpoint !== OSS_UPLOAD_ENDPOINT) return false;
  if (error.status === 409 && error.code === "FileAlreadyExists") return true;
  if (error.status === 403 && error.code === "AccessDenied" && /expired/i.test(error.message)) return true;
  return false;
}
