import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Agent, FormData as UndiciFormData } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { createDashScopeClient } from "../../src/dashscope/client.js";
import { DashScopeError } from "../../src/dashscope/errors.js";
import {
  createUploadPolicyCache,
  sanitizeFileName,
  TemporaryFileTooLargeError,
  uploadTemporaryFile,
  type UploadDeps,
} from "../../src/dashscope/upload.js";

const API_KEY = "sk-test-upload-0123456789abcdef0123456789";
const MODEL = "qwen2-audio-instruct";
const SIGNATURE = "c2lnbmF0dXJlLW9mLXRoZS1wb2xpY3k9PQ==";
const POLICY = "eyJleHBpcmF0aW9uIjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJjb25kaXRpb25zIjpbXX0=";
const ACCESS_KEY_ID = "LTAI5tTestAccessKeyId";
const UPLOAD_DIR = "dashscope-instant/0a1b2c/2026-01-01/d3e4f5";

// ── a tiny DashScope + OSS stand-in on one port ───────────────────────────────────────────

type Received = { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer };
type Handler = (res: ServerResponse, received: Received) => void;

type TestServer = {
  baseUrl: string;
  uploadHost: string;
  received: Received[];
  policyRequests: () => Received[];
  uploads: () => Received[];
  close(): Promise<void>;
};

/** `GET /api/v1/uploads` answers with the n-th policy handler, `POST /oss` with the n-th upload handler (the last repeats). */
async function startServer(handlers: { policy: Handler[]; upload: Handler[] }): Promise<TestServer> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const entry = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      received.push(entry);
      const isPolicy = entry.url.startsWith("/api/v1/uploads");
      const list = isPolicy ? handlers.policy : handlers.upload;
      const seen = received.filter((r) => r.url.startsWith("/api/v1/uploads") === isPolicy).length;
      (list[Math.min(seen, list.length) - 1] as Handler)(res, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/api/v1`,
    uploadHost: `http://127.0.0.1:${port}/oss`,
    received,
    policyRequests: () => received.filter((r) => r.url.startsWith("/api/v1/uploads")),
    uploads: () => received.filter((r) => r.url.startsWith("/oss")),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function policyAnswer(uploadHost: string, overrides: Record<string, unknown> = {}) {
  return {
    request_id: "req-policy",
    data: {
      policy: POLICY,
      signature: SIGNATURE,
      upload_dir: UPLOAD_DIR,
      upload_host: uploadHost,
      expire_in_seconds: 300,
      max_file_size_mb: 100,
      capacity_limit_mb: 999999999,
      oss_access_key_id: ACCESS_KEY_ID,
      x_oss_object_acl: "private",
      x_oss_forbid_overwrite: "true",
      ...overrides,
    },
  };
}

/** The policy handler; `upload_host` points at the same server. */
function policy(overrides: Record<string, unknown> = {}): Handler {
  return (res, received) => {
    const host = `http://${received.headers.host}/oss`;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(policyAnswer(host, overrides)));
  };
}

const stored: Handler = (res) => {
  res.writeHead(200, { "x-oss-request-id": "oss-req-ok" });
  res.end();
};

function ossError(status: number, code: string, message: string, extra = ""): Handler {
  return (res) => {
    res.writeHead(status, { "content-type": "application/xml", "x-oss-request-id": "oss-req-header" });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <Code>${code}</Code>\n  <Message>${message}</Message>\n  <RequestId>oss-req-${status}</RequestId>\n  <HostId>dashscope-file.oss-cn-beijing.aliyuncs.com</HostId>${extra}\n</Error>\n`,
    );
  };
}

/** Parses a multipart body the way a server would, and lists its field names in order. */
async function parseForm(received: Received): Promise<{ form: FormData; order: string[] }> {
  const form = await new Response(new Uint8Array(received.body), { headers: { "content-type": String(received.headers["content-type"]) } }).formData();
  const order = [...received.body.toString("latin1").matchAll(/Content-Disposition: form-data; name="([^"]+)"/gi)].map((m) => m[1] as string);
  return { form, order };
}

// ── the code under test, wired with real HTTP and no real waiting ─────────────────────────

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function serve(handlers: { policy: Handler[]; upload: Handler[] }): Promise<TestServer> {
  const server = await startServer(handlers);
  cleanups.push(server.close);
  return server;
}

function harness(server: TestServer, options: { now?: () => number } = {}): { deps: UploadDeps; rawLog: () => string } {
  let raw = "";
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        raw += chunk.toString();
        callback();
      },
    }),
  );
  const dispatcher = new Agent({ keepAliveTimeout: 1000 });
  cleanups.push(() => dispatcher.close());
  const client = createDashScopeClient({
    baseUrl: server.baseUrl,
    apiKey: API_KEY,
    logger,
    dispatcher,
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
    sleep: async () => {},
  });
  return { deps: { client, logger, policyCache: createUploadPolicyCache(options), now: options.now }, rawLog: () => raw };
}

const audio = Buffer.from("ID3\u0004\u0000fake mp3 bytes \u00ff\u00fe", "latin1");
const input = { model: MODEL, fileName: "part1.mp3", bytes: audio, contentType: "audio/mpeg", timeoutMs: 5000 };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the upload to fail");
}

// ── tests ─────────────────────────────────────────────────────────────────────────────────

describe("uploadTemporaryFile", () => {
  it("gets a policy for the model, posts the SDK's form to the upload host, and returns oss://{key}", async () => {
    const server = await serve({ policy: [policy()], upload: [stored] });
    const { deps } = harness(server);
    const before = Date.now();

    const file = await uploadTemporaryFile(deps, input);

    const [policyRequest] = server.policyRequests();
    expect(policyRequest?.method).toBe("GET");
    const query = new URL(policyRequest?.url ?? "", "http://x").searchParams;
    expect(new URL(policyRequest?.url ?? "", "http://x").pathname).toBe("/api/v1/uploads");
    expect(query.get("action")).toBe("getPolicy");
    expect(query.get("model")).toBe(MODEL);
    expect(policyRequest?.headers.authorization).toBe(`Bearer ${API_KEY}`);

    const [upload] = server.uploads();
    expect(upload?.method).toBe("POST");
    // The API key never goes to the storage host: the form carries its own signed policy.
    expect(upload?.headers.authorization).toBeUndefined();
    expect(upload?.body.toString("latin1")).not.toContain(API_KEY);
    expect(String(upload?.headers["content-type"])).toMatch(/^multipart\/form-data; ?boundary=/);

    const { form, order } = await parseForm(upload as Received);
    expect(order).toEqual([
      "OSSAccessKeyId",
      "Signature",
      "policy",
      "key",
      "x-oss-object-acl",
      "x-oss-forbid-overwrite",
      "success_action_status",
      "x-oss-content-type",
      "file",
    ]);
    expect(form.get("OSSAccessKeyId")).toBe(ACCESS_KEY_ID);
    expect(form.get("Signature")).toBe(SIGNATURE);
    expect(form.get("policy")).toBe(POLICY);
    expect(form.get("x-oss-object-acl")).toBe("private");
    expect(form.get("x-oss-forbid-overwrite")).toBe("true");
    expect(form.get("success_action_status")).toBe("200");
    expect(form.get("x-oss-content-type")).toBe("audio/mpeg");
    const key = String(form.get("key"));
    expect(key.startsWith(`${UPLOAD_DIR}/`)).toBe(true);
    expect(key).toMatch(/^dashscope-instant\/0a1b2c\/2026-01-01\/d3e4f5\/[0-9a-f]{24}-part1\.mp3$/);
    const part = form.get("file") as File;
    expect(part.name).toBe("part1.mp3");
    expect(part.type).toBe("audio/mpeg");
    expect(Buffer.from(await part.arrayBuffer()).equals(audio)).toBe(true);

    expect(file.url).toBe(`oss://${key}`);
    const lifetime = (file.expiresAt?.getTime() ?? 0) - before;
    expect(lifetime).toBeGreaterThanOrEqual(48 * 3600 * 1000 - 1000);
    expect(lifetime).toBeLessThanOrEqual(48 * 3600 * 1000 + 5000);
  });

  it("reuses one policy for the pieces of an audio, even when they upload at once", async () => {
    const server = await serve({ policy: [policy()], upload: [stored] });
    const { deps } = harness(server);

    const first = await uploadTemporaryFile(deps, input);
    const more = await Promise.all([2, 3, 4].map((n) => uploadTemporaryFile(deps, { ...input, fileName: `part${n}.mp3` })));

    expect(server.policyRequests()).toHaveLength(1);
    expect(server.uploads()).toHaveLength(4);
    const urls = [first, ...more].map((file) => file.url);
    expect(new Set(urls).size).toBe(4);
  });

  it("fetches a new policy shortly before the old one expires", async () => {
    const server = await serve({ policy: [policy({ expire_in_seconds: "300" })], upload: [stored] });
    let clock = 1_000_000;
    const { deps } = harness(server, { now: () => clock });

    await uploadTemporaryFile(deps, input);
    clock += 200_000; // 100 s left: still used
    await uploadTemporaryFile(deps, input);
    expect(server.policyRequests()).toHaveLength(1);
    clock += 50_000; // 50 s left: inside the one-minute margin
    await uploadTemporaryFile(deps, input);
    expect(server.policyRequests()).toHaveLength(2);
  });

  it("keeps separate policies per model", async () => {
    const server = await serve({ policy: [policy()], upload: [stored] });
    const { deps } = harness(server);
    await uploadTemporaryFile(deps, input);
    await uploadTemporaryFile(deps, { ...input, model: "qwen-audio-turbo" });
    const models = server.policyRequests().map((r) => new URL(r.url, "http://x").searchParams.get("model"));
    expect(models).toEqual([MODEL, "qwen-audio-turbo"]);
  });

  it("turns a 403 XML error into a DashScopeError with OSS's code and request id, and no credential in it", async () => {
    const leaky = ossError(
      403,
      "SignatureDoesNotMatch",
      `The request signature we calculated does not match the signature you provided. Provided: ${SIGNATURE} for ${ACCESS_KEY_ID}`,
      `\n  <SignatureProvided>${SIGNATURE}</SignatureProvided>\n  <StringToSign>${POLICY}</StringToSign>\n  <OSSAccessKeyId>${ACCESS_KEY_ID}</OSSAccessKeyId>`,
    );
    const server = await serve({ policy: [policy()], upload: [leaky] });
    const { deps, rawLog } = harness(server);

    const error = await rejection(uploadTemporaryFile(deps, input));

    expect(error).toBeInstanceOf(DashScopeError);
    expect(error).toMatchObject({ code: "SignatureDoesNotMatch", status: 403, requestId: "oss-req-403", retryable: false });
    const dashscopeError = error as DashScopeError;
    expect(dashscopeError.message).toContain("SignatureDoesNotMatch");
    expect(dashscopeError.message).toContain("does not match");
    for (const text of [dashscopeError.message, String(dashscopeError.stack), JSON.stringify(dashscopeError), rawLog()]) {
      expect(text).not.toContain(SIGNATURE);
      expect(text).not.toContain(POLICY);
      expect(text).not.toContain(ACCESS_KEY_ID);
      expect(text).not.toContain(API_KEY);
    }
    // A 4xx that a new policy would not fix is not retried.
    expect(server.uploads()).toHaveLength(1);
    expect(server.policyRequests()).toHaveLength(1);
  });

  it("fetches a fresh policy and tries once more when OSS says the policy expired", async () => {
    const expired = ossError(403, "AccessDenied", "Invalid according to Policy: Policy expired.");
    const server = await serve({ policy: [policy()], upload: [expired, stored] });
    const { deps } = harness(server);

    const file = await uploadTemporaryFile(deps, input);

    expect(server.policyRequests()).toHaveLength(2);
    expect(server.uploads()).toHaveLength(2);
    expect(file.url).toMatch(/^oss:\/\//);
  });

  it("uses a fresh policy and a new key after 409 FileAlreadyExists", async () => {
    const exists = ossError(409, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.");
    const server = await serve({ policy: [policy()], upload: [exists, stored] });
    const { deps } = harness(server);

    const file = await uploadTemporaryFile(deps, input);

    const keys = await Promise.all(server.uploads().map(async (upload) => String((await parseForm(upload)).form.get("key"))));
    expect(keys).toHaveLength(2);
    expect(keys[0]).not.toBe(keys[1]);
    expect(file.url).toBe(`oss://${keys[1]}`);
    expect(server.policyRequests()).toHaveLength(2);
  });

  it("refreshes the policy only once: a second refusal is the caller's", async () => {
    const exists = ossError(409, "FileAlreadyExists", "The object you specified already exists.");
    const server = await serve({ policy: [policy()], upload: [exists] });
    const { deps } = harness(server);
    expect(await rejection(uploadTemporaryFile(deps, input))).toMatchObject({ code: "FileAlreadyExists", status: 409 });
    expect(server.uploads()).toHaveLength(2);
  });

  it("retries a 503 from storage, with the same policy", async () => {
    const server = await serve({ policy: [policy()], upload: [ossError(503, "ServiceUnavailable", "Please reduce your request rate."), stored] });
    const { deps } = harness(server);
    await uploadTemporaryFile(deps, input);
    expect(server.uploads()).toHaveLength(2);
    expect(server.policyRequests()).toHaveLength(1);
  });

  it("refuses a file over max_file_size_mb before uploading anything", async () => {
    const server = await serve({ policy: [policy({ max_file_size_mb: "1" })], upload: [stored] });
    const { deps } = harness(server);

    const error = await rejection(uploadTemporaryFile(deps, { ...input, bytes: Buffer.alloc(1024 * 1024 + 1) }));

    expect(error).toBeInstanceOf(TemporaryFileTooLargeError);
    expect(error).toMatchObject({ bytes: 1024 * 1024 + 1, maxBytes: 1024 * 1024, model: MODEL });
    expect(server.uploads()).toHaveLength(0);
    // Exactly at the limit is fine.
    await uploadTemporaryFile(deps, { ...input, bytes: Buffer.alloc(1024 * 1024) });
    expect(server.uploads()).toHaveLength(1);
  });

  it("calls a policy answer missing its signature MalformedResponse, and uploads nothing", async () => {
    const server = await serve({ policy: [policy({ signature: undefined })], upload: [stored] });
    const { deps } = harness(server);
    const error = await rejection(uploadTemporaryFile(deps, input));
    expect(error).toMatchObject({ code: "MalformedResponse", endpoint: "/uploads", method: "GET" });
    expect((error as Error).message).toContain("data.signature");
    expect(server.uploads()).toHaveLength(0);
  });

  it("passes on DashScope's JSON error for the policy request, without retrying a 4xx", async () => {
    const invalidKey: Handler = (res) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "InvalidApiKey", message: "Invalid API-key provided.", request_id: "req-401" }));
    };
    const server = await serve({ policy: [invalidKey], upload: [stored] });
    const { deps } = harness(server);
    expect(await rejection(uploadTemporaryFile(deps, input))).toMatchObject({ code: "InvalidApiKey", status: 401, requestId: "req-401" });
    expect(server.policyRequests()).toHaveLength(1);
  });

  it("does not cache a failed policy request", async () => {
    const throttled: Handler = (res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "InvalidParameter", message: "model not supported", request_id: "r" }));
    };
    const server = await serve({ policy: [throttled, policy()], upload: [stored] });
    const { deps } = harness(server);
    await rejection(uploadTemporaryFile(deps, input));
    await uploadTemporaryFile(deps, input);
    expect(server.policyRequests()).toHaveLength(2);
  });

  it("stops waiting when the caller aborts", async () => {
    const server = await serve({ policy: [() => {}], upload: [stored] });
    const { deps } = harness(server);
    const controller = new AbortController();
    const reason = new Error("user cancelled");
    const call = uploadTemporaryFile(deps, { ...input, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    expect(await rejection(call)).toBe(reason);
  });

  it("keeps the shared policy request going for the uploads that still wait when one gives up", async () => {
    const slowPolicy: Handler = (res, received) => setTimeout(() => policy()(res, received), 80);
    const server = await serve({ policy: [slowPolicy], upload: [stored] });
    const { deps } = harness(server);
    const controller = new AbortController();
    const reason = new Error("user cancelled");

    const cancelled = uploadTemporaryFile(deps, { ...input, signal: controller.signal });
    const kept = uploadTemporaryFile(deps, { ...input, fileName: "part2.mp3" });
    setTimeout(() => controller.abort(reason), 20);

    expect(await rejection(cancelled)).toBe(reason);
    expect((await kept).url).toMatch(/-part2\.mp3$/);
    expect(server.policyRequests()).toHaveLength(1);
    expect(server.uploads()).toHaveLength(1);
  });
});

describe("DashScope client, form posts", () => {
  it("never sends an Authorization header to the storage host, even when a caller adds one", async () => {
    const server = await serve({ policy: [policy()], upload: [stored] });
    const { deps } = harness(server);
    const answer = await deps.client.postForm(
      server.uploadHost,
      () => {
        const form = new UndiciFormData();
        form.append("key", "k");
        return form;
      },
      { timeoutMs: 5000, headers: { Authorization: `Bearer ${API_KEY}` }, requestIdHeader: "x-oss-request-id" },
    );
    expect(answer).toEqual({ status: 200, requestId: "oss-req-ok" });
    expect(server.uploads()[0]?.headers.authorization).toBeUndefined();
  });
});

describe("sanitizeFileName", () => {
  it.each([
    ["part1.mp3", "part1.mp3"],
    ["My Song (live) #2.MP3", "My_Song_live_2.MP3"],
    ["../../etc/passwd", "passwd"],
    ["C:\\music\\a b.wav", "a_b.wav"],
    ["Beyoncé – Halo.m4a", "Beyonce_Halo.m4a"],
    ["歌曲.mp3", "file.mp3"],
    [".hidden", "hidden"],
    ["", "file"],
    ["?%#.ogg", "file.ogg"],
  ])("turns %j into %j", (name, safe) => {
    expect(sanitizeFileName(name)).toBe(safe);
  });

  it("keeps long names to 80 characters with their extension", () => {
    const safe = sanitizeFileName(`${"a".repeat(300)}.flac`);
    expect(safe).toHaveLength(80);
    expect(safe.endsWith(".flac")).toBe(true);
  });
});
