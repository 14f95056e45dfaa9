/**
 * A small multipart/form-data reader (RFC 7578) for the fake OSS upload endpoint, kept byte-exact:
 * parts come back in the order sent, with their bytes untouched, so the fake can apply OSS's rule
 * that `file` must be the last field (fields after it are not read).
 */

export type FormPart = {
  name: string;
  /** Set for file parts (`filename=` in Content-Disposition), even when empty. */
  filename: string | undefined;
  contentType: string | undefined;
  body: Buffer;
};

/** The boundary from a `multipart/form-data; boundary=…` Content-Type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const [type, ...params] = contentType.split(";");
  if (type?.trim().toLowerCase() !== "multipart/form-data") return undefined;
  for (const param of params) {
    const match = /^\s*boundary=(?:"([^"]+)"|([^\s;]+))\s*$/i.exec(param);
    if (match) return match[1] ?? match[2];
  }
  return undefined;
}

function dispositionParam(header: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, "i").exec(header) ?? new RegExp(`;\\s*${name}=([^;\\s]+)`, "i").exec(header);
  return match?.[1]?.replace(/\\(.)/g, "$1");
}

/**
 * Parses `body`; undefined when it is not well-formed multipart with this boundary. `truncated`:
 * the body was cut short (too large to keep whole), so the last part runs to the end of what there is.
 */
export function parseMultipart(body: Buffer, boundary: string, truncated = false): FormPart[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  let position = body.indexOf(delimiter);
  if (position < 0) return undefined;
  const parts: FormPart[] = [];
  for (;;) {
    position += delimiter.length;
    if (body.subarray(position, position + 2).toString("latin1") === "--") return parts; // closing delimiter
    if (body.subarray(position, position + 2).toString("latin1") !== "\r\n") return undefined;
    position += 2;
    const headerEnd = body.indexOf("\r\n\r\n", position);
    if (headerEnd < 0) return undefined;
    const headers = body.subarray(position, headerEnd).toString("utf8").split("\r\n");
    const contentStart = headerEnd + 4;
    const found = body.indexOf(Buffer.from(`\r\n--${boundary}`), contentStart);
    if (found < 0 && !truncated) return undefined;
    const next = found < 0 ? body.length : found;
    let disposition: string | undefined;
    let contentType: string | undefined;
    for (const line of headers) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const field = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (field === "content-disposition") disposition = value;
      if (field === "content-type") contentType = value;
    }
    if (disposition === undefined || !/^form-data\b/i.test(disposition)) return undefined;
    const name = dispositionParam(disposition, "name");
    if (name === undefined) return undefined;
    parts.push({ name, filename: dispositionParam(disposition, "filename"), contentType, body: body.subarray(contentStart, next) });
    if (found < 0) return parts;
    position = next + 2;
  }
}
