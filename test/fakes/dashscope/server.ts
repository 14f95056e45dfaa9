import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { handleDashScopeCall, type DashScopeEndpoint } from "./dashscope-call.js";
import { scriptedError } from "./errors.js";
import { ANSWER_FAULTS, createFaultQueue, type Fault } from "./faults.js";
import { createMusicEndpoint, type SampleRateStyle, type StreamedWavHeader } from "./music-endpoint.js";
import { newRecord, trackResponse, type RecordedRequest } from "./request-record.js";
import { createResultStore, RESULTS_PREFIX } from "./results.js";

export type FakeDashScopeOptions = {
  /** The only key the fake accepts. Default "sk-fake-dashscope-key". */
  apiKey?: string;
  /** Length of generated music in seconds; `usage.duration` reports it. Default 8. */
  songSeconds?: number;
  /** End-to-end time of one generation; SSE chunks are spread over it. Default 200 ms. */
  generationMs?: number;
  /** Validity of result URLs. Default 24 h, as the seed says. */
  resultTtlSeconds?: number;
  /**
   * Type of `extra_info.sample_rate`: the seed shows both "48000" and 48000. Default "alternate":
   * string on the 1st answer, number on the 2nd, and so on.
   */
  sampleRate?: SampleRateStyle;
  /** "exact" (default) or "placeholder": see music-endpoint.ts. */
  streamedWavHeader?: StreamedWavHeader;
};

export type FakeDashScope = {
  /** `http://127.0.0.1:PORT/api/v1`, the value to give the bot as DASHSCOPE_HTTP_BASE_URL. */
  readonly baseUrl: string;
  /** `http://127.0.0.1:PORT`; result URLs live under `${origin}/results/`. */
  readonly origin: string;
  readonly apiKey: string;
  /** Every request seen, oldest first (live objects: status and events fill in as answers go out). */
  readonly requests: readonly RecordedRequest[];
  /** Faults still waiting for a request. */
  readonly pendingFaults: readonly Fault[];
  /** Scripts the next matching request; see faults.ts for matching and effects. */
  enqueue(...faults: Fault[]): void;
  setSongSeconds(seconds: number): void;
  /** Makes every result URL issued so far answer 403 "Request has expired.". */
  expireResults(): void;
  /** Ends stalled and streaming responses, closes every socket and stops listening. */
  close(): Promise<void>;
};

export const DEFAULT_API_KEY = "sk-fake-dashscope-key";
const API_PREFIX = "/api/v1";
const MAX_BODY_BYTES = 8 * 1024 * 1024;

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`${name} must be a ${allowZero ? "non-negative" : "positive"} number, got ${value}`);
  }
  return value;
}

/** The body as UTF-8 text, and whether it went over MAX_BODY_BYTES (the excess is dropped). */
function readBody(req: IncomingMessage): Promise<{ text: string; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => resolve({ text: Buffer.concat(chunks).toString("utf8"), tooLarge: size > MAX_BODY_BYTES }));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("the client went away before sending its whole request"));
    });
  });
}

/**
 * Starts a fake DashScope on 127.0.0.1 (a free port) that speaks the real wire protocol:
 * the Fun-Music endpoint, SSE framing, error shapes, OSS-style result URLs and scripted faults.
 * Other endpoints (Qwen-Audio) plug in as another `DashScopeEndpoint` in `endpoints` below.
 */
export async function startFakeDashScope(options: FakeDashScopeOptions = {}): Promise<FakeDashScope> {
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  let songSeconds = positive("songSeconds", options.songSeconds ?? 8);
  const generationMs = positive("generationMs", options.generationMs ?? 200, true);
  const resultTtlSeconds = positive("resultTtlSeconds", options.resultTtlSeconds ?? 24 * 60 * 60, true);

  const requests: RecordedRequest[] = [];
  const faults = createFaultQueue();
  const closing = new AbortController();
  let origin = "";
  const results = createResultStore(() => origin);

  const server = createServer((req, res) => {
    handleRequest(req, res).catch(() => {
      // Aborted waits (client gone, fake closing) and write-after-destroy land here; nothing to answer.
      if (!res.headersSent && !res.destroyed && !req.socket.destroyed && !closing.signal.aborted) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("fake DashScope failed");
      } else {
        res.destroy();
      }
    });
  });

  const endpoints = new Map<string, DashScopeEndpoint>();
  const register = (endpoint: DashScopeEndpoint): void => {
    endpoints.set(`${API_PREFIX}${endpoint.path}`, endpoint);
  };
  register(
    createMusicEndpoint({
      songSeconds: () => songSeconds,
      generationMs,
      resultTtlSeconds,
      sampleRate: options.sampleRate ?? "alternate",
      streamedWavHeader: options.streamedWavHeader ?? "exact",
      results,
    }),
  );

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", origin);
    const body = await readBody(req);
    const record = newRecord({ method: req.method ?? "", path: url.pathname, query: url.search.slice(1), headers: req.headers, rawBody: body.text });
    requests.push(record);
    trackResponse(record, res);

    const clientGone = new AbortController();
    res.on("close", () => clientGone.abort());
    const signal = AbortSignal.any([closing.signal, clientGone.signal]);

    if (url.pathname.startsWith(RESULTS_PREFIX)) {
      await handleDownload(req, res, url, record, signal);
    } else if (url.pathname.startsWith(`${API_PREFIX}/`)) {
      await handleDashScopeCall({ req, res, record, apiKey, faults, signal, bodyTooLarge: body.tooLarge }, endpoints.get(url.pathname));
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("Not found: the fake DashScope serves /api/v1/… and /results/…");
    }
  }

  async function handleDownload(req: IncomingMessage, res: ServerResponse, url: URL, record: RecordedRequest, signal: AbortSignal): Promise<void> {
    const probe = { path: url.pathname, sse: false, download: true };
    const fault = faults.peek(probe);
    if (fault && !ANSWER_FAULTS.has(fault.kind) && faults.take(fault)) {
      record.fault = fault.kind;
      if (fault.kind === "error") {
        results.sendError(req, res, fault.status, fault.code, scriptedError(fault.status, fault.code, fault.message).message);
        return;
      }
      if (fault.kind === "stall") return;
      if (fault.kind === "reset") {
        req.socket.destroy();
        return;
      }
      if (fault.kind === "delay") await sleep(fault.ms, undefined, { signal });
    }
    const answerFault = fault && ANSWER_FAULTS.has(fault.kind) ? fault : undefined;
    results.serve(req, res, url, () => {
      if (answerFault === undefined || !faults.take(answerFault)) return undefined;
      record.fault = answerFault.kind;
      return answerFault;
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl: `${origin}${API_PREFIX}`,
    origin,
    apiKey,
    requests,
    get pendingFaults() {
      return faults.pending;
    },
    enqueue(...list) {
      for (const fault of list) faults.enqueue(fault);
    },
    setSongSeconds(seconds) {
      songSeconds = positive("songSeconds", seconds);
    },
    expireResults() {
      results.expireAll();
    },
    async close() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
