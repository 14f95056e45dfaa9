import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { handleDashScopeCall, type DashScopeEndpoint } from "./dashscope-call.js";
import { scriptedError } from "./errors.js";
import { ANSWER_FAULTS, createFaultQueue, type Fault } from "./faults.js";
import { createMusicEndpoint, MUSIC_PATH, type SampleRateStyle, type StreamedWavHeader } from "./music-endpoint.js";
import { createQwenAudioEndpoint, QWEN_AUDIO_PATH, type OverlongAudio, type SseContentStyle } from "./qwen-audio-endpoint.js";
import { newRecord, trackResponse, type RecordedRequest } from "./request-record.js";
import { createResultStore, RESULTS_PREFIX } from "./results.js";
import { createTemporaryStorage, UPLOAD_PATH, type UploadedObject } from "./temporary-storage.js";

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
  /**
   * Qwen-Audio input over 30 s: "truncate" (default, as documented: only the first 30 s are heard)
   * or "refuse" (400 "The audio is too long"). See qwen-audio-endpoint.ts.
   */
  overlongAudio?: OverlongAudio;
  /** Shape of `message.content` in Qwen-Audio SSE frames: "list" (default) or the seed example's "string". */
  sseContent?: SseContentStyle;
  /** How long the fake's Qwen-Audio waits for an audio URL before "Download … timed out". Default 10 s. */
  mediaDownloadTimeoutMs?: number;
  /** Temporary storage: `max_file_size_mb` of issued policies. Default 100, as the doc's example. */
  uploadMaxFileSizeMb?: number;
  /** Temporary storage: `expire_in_seconds` of issued policies. Default 300, as the doc's example. */
  uploadPolicyTtlSeconds?: number;
  /** Temporary storage: life of uploaded objects. Default 48 h, as documented. */
  uploadedFileTtlSeconds?: number;
};

export type FakeDashScope = {
  /** `http://127.0.0.1:PORT/api/v1`, the value to give the bot as DASHSCOPE_HTTP_BASE_URL. */
  readonly baseUrl: string;
  /** `http://127.0.0.1:PORT`; result URLs live under `${origin}/results/`, uploads go to `${origin}/oss-upload`. */
  readonly origin: string;
  readonly apiKey: string;
  /** Every request seen, oldest first (live objects: status and events fill in as answers go out). */
  readonly requests: readonly RecordedRequest[];
  /** Faults still waiting for a request. */
  readonly pendingFaults: readonly Fault[];
  /**
   * Work DashScope would bill: songs Fun-Music composed and answers Qwen-Audio produced, counted
   * when the work is done, whether or not the answer then reached the client whole (a
   * `reset-mid-stream` or `stall-mid-stream` answer counts; a refused or failed call does not).
   * A test proves "not sent twice" by a count of one.
   */
  billed(): { songs: number; analyses: number };
  /** Scripts the next matching request; see faults.ts for matching and effects. */
  enqueue(...faults: Fault[]): void;
  setSongSeconds(seconds: number): void;
  /** Makes every result URL issued so far answer 403 "Request has expired.". */
  expireResults(): void;
  /** Objects in the temporary storage, oldest first (expired ones included). */
  uploads(): UploadedObject[];
  /** Makes every upload policy issued so far answer 403 "Invalid according to Policy: Policy expired.". */
  expireUploadPolicies(): void;
  /** Makes every uploaded object unresolvable, as after the documented 48 h. */
  expireUploads(): void;
  /** Ends stalled and streaming responses, closes every socket and stops listening. */
  close(): Promise<void>;
};

export const DEFAULT_API_KEY = "sk-fake-dashscope-key";
const API_PREFIX = "/api/v1";
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MIB = 1024 * 1024;

function positive(name: string, value: number, allowZero = false): number {
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`${name} must be a ${allowZero ? "non-negative" : "positive"} number, got ${value}`);
  }
  return value;
}

/** The body, and whether it went over `limit` bytes (the excess is dropped). */
function readBody(req: IncomingMessage, limit: number): Promise<{ bytes: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on("end", () => resolve({ bytes: Buffer.concat(chunks), tooLarge: size > limit }));
    req.on("error", reject);
    req.on("close", () => {
      if (!req.complete) reject(new Error("the client went away before sending its whole request"));
    });
  });
}

/**
 * Starts a fake DashScope on 127.0.0.1 (a free port) that speaks the real wire protocol:
 * the Fun-Music and Qwen-Audio endpoints, the temporary storage (getPolicy and the OSS form
 * upload), SSE framing, error shapes, OSS-style result URLs and scripted faults.
 */
export async function startFakeDashScope(options: FakeDashScopeOptions = {}): Promise<FakeDashScope> {
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  let songSeconds = positive("songSeconds", options.songSeconds ?? 8);
  const generationMs = positive("generationMs", options.generationMs ?? 200, true);
  const resultTtlSeconds = positive("resultTtlSeconds", options.resultTtlSeconds ?? 24 * 60 * 60, true);
  const uploadMaxFileSizeMb = positive("uploadMaxFileSizeMb", options.uploadMaxFileSizeMb ?? 100);
  const uploadPolicyTtlSeconds = positive("uploadPolicyTtlSeconds", options.uploadPolicyTtlSeconds ?? 300);
  const uploadedFileTtlSeconds = positive("uploadedFileTtlSeconds", options.uploadedFileTtlSeconds ?? 48 * 60 * 60);
  const mediaDownloadTimeoutMs = positive("mediaDownloadTimeoutMs", options.mediaDownloadTimeoutMs ?? 10_000);

  const requests: RecordedRequest[] = [];
  const billed = { songs: 0, analyses: 0 };
  const countBilled = (path: string): void => {
    if (path === `${API_PREFIX}${MUSIC_PATH}`) billed.songs += 1;
    if (path === `${API_PREFIX}${QWEN_AUDIO_PATH}`) billed.analyses += 1;
  };
  const faults = createFaultQueue();
  const closing = new AbortController();
  let origin = "";
  const results = createResultStore(() => origin);
  const storage = createTemporaryStorage({
    origin: () => origin,
    policyTtlSeconds: uploadPolicyTtlSeconds,
    maxFileSizeMb: uploadMaxFileSizeMb,
    fileTtlSeconds: uploadedFileTtlSeconds,
  });

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
  register(
    createQwenAudioEndpoint({
      generationMs,
      storage,
      overlongAudio: options.overlongAudio ?? "truncate",
      sseContent: options.sseContent ?? "list",
      downloadTimeoutMs: mediaDownloadTimeoutMs,
    }),
  );
  register(storage.policyEndpoint);

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", origin);
    const isUpload = url.pathname === UPLOAD_PATH || url.pathname === `${UPLOAD_PATH}/`;
    // Uploads are binary and may be large: read enough to see that a file is over the limit.
    const body = await readBody(req, isUpload ? (uploadMaxFileSizeMb + 1) * MIB : MAX_BODY_BYTES);
    const rawBody = isUpload ? "" : body.bytes.toString("utf8");
    const record = newRecord({ method: req.method ?? "", path: url.pathname, query: url.search.slice(1), headers: req.headers, rawBody });
    requests.push(record);
    trackResponse(record, res);

    const clientGone = new AbortController();
    res.on("close", () => clientGone.abort());
    const signal = AbortSignal.any([closing.signal, clientGone.signal]);

    if (url.pathname.startsWith(RESULTS_PREFIX)) {
      await handleDownload(req, res, url, record, signal);
    } else if (isUpload) {
      await handleUpload(req, res, body, record, signal);
    } else if (url.pathname.startsWith(`${API_PREFIX}/`)) {
      const onAnswered = () => countBilled(url.pathname);
      await handleDashScopeCall({ req, res, record, apiKey, faults, signal, bodyTooLarge: body.tooLarge, onAnswered }, endpoints.get(url.pathname));
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("Not found: the fake DashScope serves /api/v1/…, /results/… and /oss-upload");
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

  /** The temporary storage's OSS host. Faults reach it only when aimed with `path: "/oss-upload"`. */
  async function handleUpload(
    req: IncomingMessage,
    res: ServerResponse,
    body: { bytes: Buffer; tooLarge: boolean },
    record: RecordedRequest,
    signal: AbortSignal,
  ): Promise<void> {
    const fault = faults.peek({ path: UPLOAD_PATH, sse: false, download: true });
    const targeted = fault?.path === undefined ? undefined : fault;
    if (targeted && !ANSWER_FAULTS.has(targeted.kind) && faults.take(targeted)) {
      record.fault = targeted.kind;
      if (targeted.kind === "error") {
        storage.sendError(req, res, targeted.status, targeted.code, scriptedError(targeted.status, targeted.code, targeted.message).message);
        return;
      }
      if (targeted.kind === "stall") return;
      if (targeted.kind === "reset") {
        req.socket.destroy();
        return;
      }
      if (targeted.kind === "delay") await sleep(targeted.ms, undefined, { signal });
    }
    const answerFault = targeted && ANSWER_FAULTS.has(targeted.kind) ? targeted : undefined;
    record.form = storage.handleUpload(req, res, body.bytes, body.tooLarge, () => {
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
    billed() {
      return { ...billed };
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
    uploads() {
      return storage.list();
    },
    expireUploadPolicies() {
      storage.expirePolicies();
    },
    expireUploads() {
      storage.expireObjects();
    },
    async close() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
