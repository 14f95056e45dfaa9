import { Agent, request, type Dispatcher } from "undici";

/**
 * Downloads only from hosts we expect files on, with a byte cap, so that a URL placed in an
 * API answer or a Discord message can't make the bot fetch internal addresses or fill its memory.
 */

export class DownloadError extends Error {
  override readonly name = "DownloadError";
  readonly reason: "host-not-allowed" | "too-large" | "http-status" | "network" | "timeout";
  readonly status: number | undefined;

  constructor(reason: DownloadError["reason"], message: string, options?: { status?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.status = options?.status;
  }
}

/** A host rule: an exact host name (with port if any), or `*.domain` for any subdomain of it. */
export type HostRule = string;

/** Discord's attachment hosts and DashScope's result hosts, as the real services use them. */
export const defaultDownloadHosts: readonly HostRule[] = [
  "*.aliyuncs.com",
  "cdn.discordapp.com",
  "media.discordapp.net",
];

export function hostOfUrl(url: string): string {
  return new URL(url).host;
}

export function isHostAllowed(url: URL, rules: readonly HostRule[]): boolean {
  if (url.protocol !== "https:" && url.protocol !== "http:") return false;
  const host = url.host.toLowerCase();
  const hostname = url.hostname.toLowerCase();
  return rules.some((rule) => {
    const r = rule.toLowerCase();
    if (r.startsWith("*.")) {
      const domain = r.slice(2);
      return hostname.endsWith(`.${domain}`) && !url.port;
    }
    return host === r || (!r.includes(":") && hostname === r && !url.port);
  });
}

export type Downloader = (url: string, options?: { maxBytes?: number; signal?: AbortSignal; timeoutMs?: number }) => Promise<Buffer>;

const MAX_REDIRECTS = 3;

export function createDownloader(options: {
  allowedHosts: readonly HostRule[];
  maxBytes: number;
  defaultTimeoutMs?: number;
  dispatcher?: Dispatcher;
}): Downloader {
  const { allowedHosts } = options;
  // Never undici's global dispatcher: on Node 26 that slot belongs to Node's bundled undici.
  const dispatcher = options.dispatcher ?? new Agent();

  return async function download(url, callOptions = {}) {
    const maxBytes = callOptions.maxBytes ?? options.maxBytes;
    const timeoutMs = callOptions.timeoutMs ?? options.defaultTimeoutMs ?? 120_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, timeout]) : timeout;

    let current = new URL(url);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (!isHostAllowed(current, allowedHosts)) {
        throw new DownloadError("host-not-allowed", `refusing to download from ${current.host}`);
      }
      let response: Dispatcher.ResponseData;
      try {
        response = await request(current, { method: "GET", signal, dispatcher });
      } catch (error) {
        if (timeout.aborted) throw new DownloadError("timeout", `download from ${current.host} timed out`, { cause: error });
        throw new DownloadError("network", `download from ${current.host} failed`, { cause: error });
      }
      const { statusCode, headers, body } = response;
      if (statusCode >= 300 && statusCode < 400 && typeof headers.location === "string") {
        await body.dump();
        current = new URL(headers.location, current);
        continue;
      }
      if (statusCode !== 200) {
        await body.dump();
        throw new DownloadError("http-status", `download from ${current.host} answered ${statusCode}`, { status: statusCode });
      }
      const declared = Number(headers["content-length"]);
      if (Number.isFinite(declared) && declared > maxBytes) {
        discard(body);
        throw new DownloadError("too-large", `file of ${declared} bytes is over the ${maxBytes}-byte cap`);
      }
      return await readCapped(body, maxBytes, current.host, timeout, Number.isFinite(declared) && declared > 0 ? declared : undefined);
    }
    throw new DownloadError("network", `too many redirects downloading from ${new URL(url).host}`);
  };
}

/** Drop a body we won't read; undici reports the abort as an error event, which is expected here. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  body.on("error", () => undefined);
  body.destroy();
}

/**
 * Reads a body under the cap. With a declared length the bytes go straight into one buffer of that
 * size, so a song is held once while it downloads, not as chunks and then their concatenation.
 */
async function readCapped(body: Dispatcher.ResponseData["body"], maxBytes: number, host: string, timeout: AbortSignal, declaredBytes?: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  let whole = declaredBytes === undefined ? undefined : Buffer.allocUnsafe(declaredBytes);
  try {
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      received += bytes.length;
      if (received > maxBytes) {
        discard(body);
        throw new DownloadError("too-large", `file from ${host} is over the ${maxBytes}-byte cap`);
      }
      if (whole && received <= whole.length) {
        bytes.copy(whole, received - bytes.length);
        continue;
      }
      // More than declared (a wrong Content-Length): keep everything as chunks from here on.
      if (whole) {
        chunks.push(whole.subarray(0, received - bytes.length));
        whole = undefined;
      }
      chunks.push(bytes);
    }
  } catch (error) {
    if (error instanceof DownloadError) throw error;
    if (timeout.aborted) throw new DownloadError("timeout", `download from ${host} timed out`, { cause: error });
    throw new DownloadError("network", `download from ${host} broke off`, { cause: error });
  }
  if (whole) return received === whole.length ? whole : whole.subarray(0, received);
  return Buffer.concat(chunks, received);
}
