import type { IncomingMessage } from "node:http";
import { discordError } from "./errors.js";
import type { UploadedFile } from "./messages.js";

export interface ParsedBody {
  /** JSON body, `payload_json`, or the plain multipart fields; `undefined` when the request had no body. */
  readonly json: unknown;
  readonly files: UploadedFile[];
}

export async function readRawBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw discordError.invalidJson();
  }
}

/**
 * Parses a request body the way Discord accepts it: JSON, or multipart/form-data with
 * `payload_json` and `files[n]` parts (developers/reference.mdx, "Uploading Files"). Multipart
 * parsing is delegated to the WHATWG `Response.formData()` built into Node.
 */
export async function parseBody(raw: Buffer, contentType: string | null): Promise<ParsedBody> {
  if (raw.length === 0) return { json: undefined, files: [] };
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (type === "application/json") return { json: parseJson(raw.toString("utf8")), files: [] };
  if (type !== "multipart/form-data") throw discordError.invalidFormBodyContentType();
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { "content-type": contentType ?? "" } }).formData();
  } catch {
    throw discordError.invalidFormBodyContentType();
  }
  const files: UploadedFile[] = [];
  const fields: Record<string, string> = {};
  let json: unknown;
  for (const [field, value] of form.entries()) {
    if (typeof value === "string") {
      if (field === "payload_json") json = parseJson(value);
      else fields[field] = value;
      continue;
    }
    const index = /^files\[(\d+)\]$/.exec(field)?.[1] ?? field;
    files.push({
      index,
      field,
      filename: value.name,
      contentType: value.type,
      bytes: Buffer.from(await value.arrayBuffer()),
    });
  }
  return { json: json ?? (Object.keys(fields).length > 0 ? fields : undefined), files };
}
