import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createDashScopeClient, type CallFinished, type DashScopeClient, type DashScopeSseEvent } from "../../src/dashscope/client.js";
import { DashScopeError, DashScopeOutcomeUnknownError } from "../../src/dashscope/errors.js";

const API_KEY = "sk-test-0123456789abcdef0123456789abcdef";
const PATH = "/services/audio/music/generation";

// ── a tiny DashScope stand-in ──────────────────────────────────────────────────────────────

type Received = { url: string; headers: IncomingHttpHeaders; body: string };
type Handler = (res: ServerResponse, req: IncomingMessage, received: Received) => void;

type TestServer = { baseUrl: string; received: Received[]; close(): Promise<void> };

/** Answers the n-th request with the n-th handler (the last one repeats). */
async function startServer(...handlers: Handler[]): Promise<TestServer> {
  return startServerOn(0, ...handlers);
}

/** `startServer` on a given port (0: any free one). */
async function startServerOn(port: number, ...handlers: Handler[]): Promise<TestServer> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const entry = { url: req.url ?? "", headers: req.headers, body };
      received.push(entry);
      const handler = handlers[Math.min(received.length, handlers.length) - 1] as Handler;
      handler(res, req, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${address.port}/api/v1`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (res) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };
}

function sse(frames: string[], options: { status?: number; thenDestroy?: boolean } = {}): Handler {
  return (res) => {
    res.writeHead(options.status ?? 200, { "content-type": "text/event-stream;charset=UTF-8" });
    for (const frame of frames) res.write(frame);
    if (options.thenDestroy) setTimeout(() => res.socket?.destroy(), 20);
    else res.end();
  };
}

const resetConnection: Handler = (_res, req) => req.socket.destroy();
const neverAnswer: Handler = () => {};
/** A 200 whose headers promise the whole body, of which only half arrives. */
const cutBody: Handler = (res) => {
  const body = JSON.stringify(okAnswerFor("req-cut"));
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), "x-request-id": "req-cut" });
  res.write(body.slice(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
};

/** A port nobody listens on: connecting to it is refused, so nothing is ever sent. */
async function refusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function resultFrame(id: number, payload: unknown): string {
  return `id:${id}\nevent:result\n:HTTP_STATUS/200\ndata:${JSON.stringify(payload)}\n\n`;
}

// ── a client wired for tests: real HTTP, no real waiting ───────────────────────────────────

type Harness = { client: DashScopeClient; sleeps: number[]; logLines: () => Array<Record<string, unknown>>; rawLog: () => string };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function serve(...handlers: Handler[]): Promise<TestServer> {
  const server = await startServer(...handlers);
  cleanups.push(server.close);
  return server;
}

function harness(
  server: Pick<TestServer, "baseUrl">,
  retry: { attempts?: number } = {},
  sleepOverride?: (ms: number, signal: AbortSignal) => Promise<void>,
  onCallFinished?: (call: CallFinished) => void,
): Harness {
  let raw = "";
  // A plain pino logger, without the app's scrubbing: the client must not rely on it.
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        raw += chunk.toString();
        callback();
      },
    }),
  );
  const sleeps: number[] = [];
  const dispatcher = new Agent({ keepAliveTimeout: 1000 });
  cleanups.push(() => dispatcher.close());
  const client = createDashScopeClient({
    baseUrl: server.baseUrl,
    apiKey: API_KEY,
    logger,
    dispatcher,
    retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000, ...retry },
    random: () => 0.5,
    onCallFinished,
    sleep: async (ms, signal) => {
      sleeps.push(ms);
      if (sleepOverride) await sleepOverride(ms, signal);
    },
  });
  return {
    client,
    sleeps,
    rawLog: () => raw,
    logLines: () =>
      raw
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function rejection(promise: Promise<unknown>): Promise<DashScopeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DashScopeError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

async function collect(events: AsyncIterable<DashScopeSseEvent>): Promise<DashScopeSseEvent[]> {
  const out: DashScopeSseEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

function okAnswerFor(requestId: string) {
  return { output: { audio: { data: "", url: "http://example.oss-cn-beijing.aliyuncs.com/a.mp3" } }, request_id: requestId };
}
const okAnswer = okAnswerFor("req-ok");

// ── JSON calls ─────────────────────────────────────────────────────────────────────────────

describe("DashScope client, JSON calls", () => {
  it("posts JSON with Bearer auth and returns the answer with its request id", async () => {
    const server = await serve(json(200, okAnswer));
    const { client, logLines } = harness(server);

    const answer = await client.postJson(PATH, { model: "fun-music-v1", input: { prompt: "folk" } }, { timeoutMs: 5000 });

    expect(answer).toEqual({ data: okAnswer, status: 200, requestId: "req-ok" });
    const [request] = server.received;
    expect(request?.url).toBe("/api/v1/services/audio/music/generation");
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["x-dashscope-sse"]).toBeUndefined();
    expect(JSON.parse(request?.body ?? "")).toEqual({ model: "fun-music-v1", input: { prompt: "folk" } });
    expect(logLines()).toEqual([
      expect.objectContaining({ msg: "dashscope call", endpoint: PATH, status: 200, requestId: "req-ok", attempt: 1, durationMs: expect.any(Number) }),
    ]);
  });

  it("validates the answer with a schema, and calls a mismatch MalformedResponse", async () => {
    const server = await serve(json(200, { output: { nothing: true }, request_id: "req-odd" }));
    const { client } = harness(server);
    const schema = z.object({ output: z.object({ audio: z.object({ url: z.string() }) }) });

    const error = await rejection(client.postJson(PATH, {}, { timeoutMs: 5000, schema }));

    expect(error).toMatchObject({ code: "MalformedResponse", status: 200, requestId: "req-odd", endpoint: PATH });
    expect(error.message).toContain("output.audio");
    expect(server.received).toHaveLength(1);
  });

  it("calls a 200 answer that is not JSON MalformedResponse", async () => {
    const server = await serve((res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>hello</html>");
    });
    const { client } = harness(server);
    expect(await rejection(client.postJson(PATH, {}, { timeoutMs: 5000 }))).toMatchObject({ code: "MalformedResponse" });
  });

  it("turns a JSON error body into a DashScopeError with code, status, request id and endpoint", async () => {
    const server = await serve(
      json(400, { code: "InvalidParameter", message: "Lyrics content is illegal", request_id: "req-400" }),
    );
    const { client, sleeps, logLines } = harness(server);

    const error = await rejection(client.postJson(PATH, {}, { timeoutMs: 5000 }));

    expect(error).toMatchObject({
      name: "DashScopeError",
      code: "InvalidParameter",
      status: 400,
      requestId: "req-400",
      endpoint: PATH,
      method: "POST",
      retryable: false,
    });
    expect(error.message).toContain("Lyrics content is illegal");
    expect(server.received).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(logLines()).toEqual([
      expect.objectContaining({ msg: "dashscope call failed", status: 400, code: "InvalidParameter", requestId: "req-400", attempt: 1, willRetry: false }),
    ]);
  });

  it.each([
    [401, "InvalidApiKey"],
    [403, "AccessDenied.Unpurchased"],
    [403, "Model.AccessDenied"],
    [400, "Arrearage"],
    [400, "DataInspectionFailed"],
    [429, "PrepaidBillOverdue"],
  ])("does not retry %i %s", async (status, code) => {
    const server = await serve(json(status, { code, message: "no", request_id: "r" }));
    const { client } = harness(server);
    expect(await rejection(client.postJson(PATH, {}, { timeoutMs: 5000 }))).toMatchObject({ code, status });
    expect(server.received).toHaveLength(1);
  });

  it("retries a 429 after exactly the Retry-After seconds, then succeeds", async () => {
    const server = await serve(
      json(429, { code: "Throttling.RateQuota", message: "Requests rate limit exceeded", request_id: "r1" }, { "retry-after": "2" }),
      json(200, okAnswer),
    );
    const { client, sleeps, logLines } = harness(server);

    const answer = await client.postJson(PATH, {}, { timeoutMs: 10_000 });

    expect(answer.requestId).toBe("req-ok");
    expect(server.received).toHaveLength(2);
    expect(sleeps).toEqual([2000]);
    expect(logLines().map((line) => [line.attempt, line.status, line.willRetry])).toEqual([
      [1, 429, true],
      [2, 200, undefined],
    ]);
  });

  it("reads Retry-After given as an HTTP date", async () => {
    const inThreeSeconds = new Date(Date.now() + 3000).toUTCString();
    const server = await serve(json(503, { code: "ServiceUnavailable", message: "busy" }, { "retry-after": inThreeSeconds }), json(200, okAnswer));
    const { client, sleeps } = harness(server);
    await client.postJson(PATH, {}, { timeoutMs: 10_000 });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(1000);
    expect(sleeps[0]).toBeLessThanOrEqual(3000);
  });

  it("gives up at once when Retry-After is longer than it would wait, and says how long", async () => {
    const server = await serve(json(429, { code: "Throttling.AllocationQuota", message: "quota" }, { "retry-after": "3600" }));
    const { client, sleeps } = harness(server);
    const error = await rejection(client.postJson(PATH, {}, { timeoutMs: 10_000 }));
    expect(error).toMatchObject({ code: "Throttling.AllocationQuota", status: 429, retryAfterSeconds: 3600 });
    expect(sleeps).toEqual([]);
  });

  it("reports the last failure when the call's budget runs out during a wait", async () => {
    const server = await serve(json(429, { code: "Throttling.RateQuota", message: "slow down", request_id: "r429" }, { "retry-after": "1" }));
    // A wait that ends only when aborted, as if the clock ran out mid-sleep.
    const { client, sleeps } = harness(server, {}, (_ms, signal) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason))));
    const error = await rejection(client.postJson(PATH, {}, { timeoutMs: 1200 }));
    expect(error).toMatchObject({ code: "Throttling.RateQuota", status: 429, requestId: "r429" });
    expect(sleeps).toEqual([1000]);
    expect(server.received).toHaveLength(1);
  });

  it("retries a 500 with jittered exponential backoff, then succeeds", async () => {
    const server = await serve(
      json(500, { code: "InternalError.Algo", message: "[music]Receive batching backend response failed!" }),
      json(500, { code: "InternalError.Algo", message: "again" }),
      json(200, okAnswer),
    );
    const { client, sleeps } = harness(server);
    await client.postJson(PATH, {}, { timeoutMs: 10_000 });
    expect(server.received).toHaveLength(3);
    // random() = 0.5 of a ceiling of 100 ms, then 200 ms.
    expect(sleeps).toEqual([50, 100]);
  });

  it("fails with the last error once every try is used", async () => {
    const server = await serve(json(503, { code: "ModelUnavailable", message: "Model is unavailable", request_id: "r503" }));
    const { client } = harness(server);
    expect(await rejection(client.postJson(PATH, {}, { timeoutMs: 10_000 }))).toMatchObject({ code: "ModelUnavailable", status: 503 });
    expect(server.received).toHaveLength(3);
  });

  it("gives a non-JSON error body the code Unknown with its status and a short quote", async () => {
    const server = await serve(
      (res) => {
        res.writeHead(502, { "content-type": "text/html", "x-request-id": "gw-1" });
        res.end(`<html><body>502 Bad Gateway ${"x".repeat(5000)}</body></html>`);
      },
      json(200, okAnswer),
    );
    const { client, logLines } = harness(server, { attempts: 1 });
    const error = await rejection(client.postJson(PATH, {}, { timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: "Unknown", status: 502, requestId: "gw-1", retryable: true });
    expect(error.message).toMatch(/^HTTP 502: <html><body>502 Bad Gateway x+…$/);
    expect(error.message.length).toBeLessThan(300);
    expect(logLines()[0]).toMatchObject({ status: 502, requestId: "gw-1" });
  });

  it("re-sends a call whose connection was refused (it never left), then succeeds", async () => {
    const port = await refusedPort();
    let server: TestServer | undefined;
    // The service comes up while the client waits to retry.
    const { client, sleeps, logLines } = harness({ baseUrl: `http://127.0.0.1:${port}/api/v1` }, {}, async () => {
      server ??= await startServerOn(port, json(200, okAnswer));
      cleanups.push(server.close);
    });
    const answer = await client.postJson(PATH, {}, { timeoutMs: 5000 });
    expect(answer.requestId).toBe("req-ok");
    expect(server?.received).toHaveLength(1);
    expect(sleeps).toHaveLength(1);
    expect(logLines()[0]).toMatchObject({ code: "NetworkError", attempt: 1, willRetry: true });
    expect(String(logLines()[0]?.error)).toContain("never sent");
  });

  it("reports NetworkError when the connection is refused on every try", async () => {
    const port = await refusedPort();
    const { client, sleeps } = harness({ baseUrl: `http://127.0.0.1:${port}/api/v1` });
    const error = await rejection(client.postJson(PATH, {}, { timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: "NetworkError", status: undefined, retryable: true });
    expect(error.message).toContain("ECONNREFUSED");
    expect(sleeps).toHaveLength(2);
  });

  it("does not re-send a paid call reset after it was sent: the outcome is unknown", async () => {
    const server = await serve(resetConnection, json(200, okAnswer));
    const { client, sleeps, logLines } = harness(server);
    const error = await rejection(client.postJson(PATH, {}, { timeoutMs: 5000 }));
    expect(error).toBeInstanceOf(DashScopeOutcomeUnknownError);
    expect(error).toMatchObject({ code: "OutcomeUnknown", reason: "no-answer", retryable: false, status: undefined });
    expect(error.message).toContain("may have been billed");
    expect(server.received).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(logLines()).toEqual([expect.objectContaining({ code: "OutcomeUnknown", willRetry: false })]);
  });

  it("does not re-send a 200 whose body broke off mid-way, and keeps its request id", async () => {
    const server = await serve(cutBody, json(200, okAnswer));
    const { client } = harness(server);
    const error = await rejection(client.postJson(PATH, {}, { timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: "OutcomeUnknown", reason: "cut-off", status: 200, requestId: "req-cut" });
    expect(server.received).toHaveLength(1);
  });

  it("does not re-send a call that got no headers within its budget: the outcome is unknown", async () => {
    const server = await serve(neverAnswer, json(200, okAnswer));
    const { client, sleeps } = harness(server);
    const error = await rejection(client.postJson(PATH, {}, { timeoutMs: 300 }));
    expect(error).toMatchObject({ code: "OutcomeUnknown", reason: "timed-out", endpoint: PATH });
    expect(error.message).toContain("300 ms");
    expect(server.received).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("does not re-send a paid call after a 5xx without DashScope's error body (a proxy may have passed it on)", async () => {
    const server = await serve((res) => {
      res.writeHead(504, { "content-type": "text/html" });
      res.end("<html>504 Gateway Time-out</html>");
    }, json(200, okAnswer));
    const { client } = harness(server);
    expect(await rejection(client.postJson(PATH, {}, { timeoutMs: 5000 }))).toMatchObject({ code: "Unknown", status: 504 });
    expect(server.received).toHaveLength(1);
  });

  it("reads a 200 whose body is {code, message, request_id} as that error, without re-sending", async () => {
    const server = await serve(json(200, { code: "InvalidParameter", message: "Lyrics content is illegal", request_id: "req-200err" }), json(200, okAnswer));
    const { client } = harness(server);
    const error = await rejection(client.postJson(PATH, {}, { timeoutMs: 5000, schema: z.object({ output: z.unknown() }) }));
    expect(error).not.toBeInstanceOf(DashScopeOutcomeUnknownError);
    expect(error).toMatchObject({ code: "InvalidParameter", status: 200, requestId: "req-200err" });
    expect(error.message).toContain("Lyrics content is illegal");
    expect(server.received).toHaveLength(1);
  });

  it("keeps retrying a free call (getJson) reset after it was sent: it bills nothing", async () => {
    const server = await serve(resetConnection, json(200, { data: { policy: "p" }, request_id: "req-policy" }));
    const { client } = harness(server);
    const answer = await client.getJson("/uploads", { timeoutMs: 5000 });
    expect(answer.requestId).toBe("req-policy");
    expect(server.received).toHaveLength(2);
  });

  it("rejects with the caller's abort reason, without retrying", async () => {
    const server = await serve(neverAnswer);
    const { client } = harness(server);
    const controller = new AbortController();
    const reason = new Error("user pressed cancel");
    setTimeout(() => controller.abort(reason), 50);
    await expect(client.postJson(PATH, {}, { timeoutMs: 5000, signal: controller.signal })).rejects.toBe(reason);
    expect(server.received).toHaveLength(1);
  });

  it("takes the request id from the x-request-id header when the body has none", async () => {
    const server = await serve(json(404, { code: "NotFound", message: "Request path not found" }, { "x-request-id": "hdr-1" }));
    const { client } = harness(server);
    expect(await rejection(client.postJson(PATH, {}, { timeoutMs: 5000 }))).toMatchObject({ code: "NotFound", requestId: "hdr-1" });
  });

  it("lets callers add headers but not replace the authorization", async () => {
    const server = await serve(json(200, okAnswer));
    const { client } = harness(server);
    await client.postJson(PATH, {}, { timeoutMs: 5000, headers: { Authorization: "Bearer nope", "X-DashScope-OssResourceResolve": "enable" } });
    expect(server.received[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(server.received[0]?.headers["x-dashscope-ossresourceresolve"]).toBe("enable");
  });
});

// ── SSE calls ──────────────────────────────────────────────────────────────────────────────

describe("DashScope client, SSE calls", () => {
  const frame1 = resultFrame(1, { output: { audio: { data: "AAAA" }, finish_reason: "null" }, request_id: "req-sse" });
  const frame2 = resultFrame(2, { output: { audio: { data: "", url: "http://x.aliyuncs.com/a.mp3" }, finish_reason: "stop" }, request_id: "req-sse" });

  it("asks for SSE and yields each event with its id, name, status and request id", async () => {
    const server = await serve(sse([frame1, frame2]));
    const { client, logLines } = harness(server);

    const events = await collect(client.postSse(PATH, { model: "fun-music-v1" }, { timeoutMs: 5000 }));

    expect(events.map(({ id, event, httpStatus, requestId }) => ({ id, event, httpStatus, requestId }))).toEqual([
      { id: "1", event: "result", httpStatus: 200, requestId: "req-sse" },
      { id: "2", event: "result", httpStatus: 200, requestId: "req-sse" },
    ]);
    expect(JSON.parse(events[0]?.data ?? "")).toMatchObject({ output: { audio: { data: "AAAA" } } });
    expect(server.received[0]?.headers["x-dashscope-sse"]).toBe("enable");
    expect(server.received[0]?.headers.accept).toBe("text/event-stream");
    expect(server.received[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(logLines()).toEqual([
      expect.objectContaining({ msg: "dashscope call", endpoint: PATH, status: 200, requestId: "req-sse", attempt: 1, stream: true, events: 2 }),
    ]);
  });

  it("throws an event:error frame as a DashScopeError with the :HTTP_STATUS status", async () => {
    const server = await serve(
      sse([
        'id:1\nevent:error\n:HTTP_STATUS/400\ndata:{"code":"DataInspectionFailed","message":"Input data may contain inappropriate content.","request_id":"req-bad"}\n\n',
      ]),
    );
    const { client } = harness(server);
    const error = await rejection(collect(client.postSse(PATH, {}, { timeoutMs: 5000 })));
    expect(error).toMatchObject({ code: "DataInspectionFailed", status: 400, requestId: "req-bad", endpoint: PATH });
    expect(server.received).toHaveLength(1);
  });

  it("reads the error frame of a non-2xx SSE answer", async () => {
    const server = await serve(
      sse(['event:error\n:HTTP_STATUS/401\ndata:{"code":"InvalidApiKey","message":"Invalid API-key provided.","request_id":"req-401"}\n\n'], {
        status: 401,
      }),
    );
    const { client } = harness(server);
    expect(await rejection(collect(client.postSse(PATH, {}, { timeoutMs: 5000 })))).toMatchObject({
      code: "InvalidApiKey",
      status: 401,
      requestId: "req-401",
    });
  });

  it("retries when the stream fails before its first event", async () => {
    const server = await serve(
      json(503, { code: "ServiceUnavailable", message: "busy" }),
      sse(['event:error\n:HTTP_STATUS/500\ndata:{"code":"InternalError.Algo","message":"inference internal error"}\n\n']),
      sse([frame1, frame2]),
    );
    const { client, sleeps } = harness(server);
    const events = await collect(client.postSse(PATH, {}, { timeoutMs: 5000 }));
    expect(events).toHaveLength(2);
    expect(server.received).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it("does not retry once an event is out: a retry would generate and bill a second song", async () => {
    const server = await serve(sse([frame1], { thenDestroy: true }), sse([frame1, frame2]));
    const { client, logLines } = harness(server);
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const event of client.postSse(PATH, {}, { timeoutMs: 5000 })) seen.push(event.id ?? "");
      })(),
    );
    expect(error).toMatchObject({ code: "OutcomeUnknown", reason: "cut-off", requestId: "req-sse" });
    expect(seen).toEqual(["1"]);
    expect(server.received).toHaveLength(1);
    expect(logLines()).toEqual([expect.objectContaining({ code: "OutcomeUnknown", willRetry: false, events: 1 })]);
  });

  it("does not retry a 500 error frame that follows an event", async () => {
    const server = await serve(sse([frame1, 'event:error\n:HTTP_STATUS/500\ndata:{"code":"ResponseTimeout","message":"Response stream timeout"}\n\n']));
    const { client } = harness(server);
    expect(await rejection(collect(client.postSse(PATH, {}, { timeoutMs: 5000 })))).toMatchObject({ code: "ResponseTimeout", status: 500 });
    expect(server.received).toHaveLength(1);
  });

  it("reports OutcomeUnknown (timed-out) when a stream outlives its budget, without retrying", async () => {
    const server = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(frame1);
    });
    const { client } = harness(server);
    expect(await rejection(collect(client.postSse(PATH, {}, { timeoutMs: 300, idleTimeoutMs: 60_000 })))).toMatchObject({
      code: "OutcomeUnknown",
      reason: "timed-out",
    });
    expect(server.received).toHaveLength(1);
  });

  it("gives up a stream that sends no event for idleTimeoutMs, and does not re-send it", async () => {
    const server = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req-sse" });
      res.write(frame1);
    }, sse([frame1, frame2]));
    const { client, logLines } = harness(server);
    const error = await rejection(collect(client.postSse(PATH, {}, { timeoutMs: 60_000, idleTimeoutMs: 200 })));
    expect(error).toBeInstanceOf(DashScopeOutcomeUnknownError);
    expect(error).toMatchObject({ code: "OutcomeUnknown", reason: "stream-idle", idleMs: 200, requestId: "req-sse" });
    expect(server.received).toHaveLength(1);
    expect(logLines()).toEqual([expect.objectContaining({ code: "OutcomeUnknown", willRetry: false })]);
  });

  it("counts events, not bytes: a stream that only sends comments is idle", async () => {
    const server = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(frame1);
      const timer = setInterval(() => res.write(":keep-alive\n\n"), 30);
      res.on("close", () => clearInterval(timer));
    });
    const { client } = harness(server);
    expect(await rejection(collect(client.postSse(PATH, {}, { timeoutMs: 60_000, idleTimeoutMs: 200 })))).toMatchObject({ reason: "stream-idle" });
  });

  it("gives up a stream whose headers never come within idleTimeoutMs", async () => {
    const server = await serve(neverAnswer);
    const { client } = harness(server);
    expect(await rejection(collect(client.postSse(PATH, {}, { timeoutMs: 60_000, idleTimeoutMs: 200 })))).toMatchObject({
      code: "OutcomeUnknown",
      reason: "stream-idle",
      status: undefined,
    });
    expect(server.received).toHaveLength(1);
  });

  it("re-sends a stream whose connection was refused", async () => {
    const port = await refusedPort();
    let server: TestServer | undefined;
    const { client } = harness({ baseUrl: `http://127.0.0.1:${port}/api/v1` }, {}, async () => {
      server ??= await startServerOn(port, sse([frame1, frame2]));
      cleanups.push(server.close);
    });
    expect(await collect(client.postSse(PATH, {}, { timeoutMs: 5000 }))).toHaveLength(2);
    expect(server?.received).toHaveLength(1);
  });

  it("reads a 200 JSON error body on an SSE call as that error", async () => {
    const server = await serve(json(200, { code: "Throttling.RateQuota", message: "Requests rate limit exceeded", request_id: "req-j" }));
    const { client } = harness(server);
    expect(await rejection(collect(client.postSse(PATH, {}, { timeoutMs: 5000 })))).toMatchObject({ code: "Throttling.RateQuota", requestId: "req-j" });
    expect(server.received).toHaveLength(1);
  });

  it("closes the connection and logs once when the caller stops reading", async () => {
    const server = await serve(sse([frame1, frame2]));
    const { client, logLines } = harness(server);
    for await (const _event of client.postSse(PATH, {}, { timeoutMs: 5000 })) break;
    expect(logLines()).toEqual([expect.objectContaining({ msg: "dashscope call", events: 1, closedByCaller: true })]);
  });

  it("accepts a JSON answer to an SSE call as a single result event", async () => {
    const server = await serve(json(200, okAnswer));
    const { client } = harness(server);
    const events = await collect(client.postSse(PATH, {}, { timeoutMs: 5000 }));
    expect(events).toEqual([{ id: undefined, event: "result", httpStatus: 200, data: JSON.stringify(okAnswer), requestId: "req-ok" }]);
  });
});

// ── the metrics hook ───────────────────────────────────────────────────────────────────────

describe("DashScope client, onCallFinished", () => {
  it("hears every try once, with its API label, status, duration and request id", async () => {
    const server = await serve(
      json(429, { code: "Throttling.RateQuota", message: "slow down", request_id: "r429" }, { "retry-after": "1" }),
      json(200, okAnswer),
    );
    const calls: CallFinished[] = [];
    const { client } = harness(server, {}, undefined, (call) => calls.push(call));
    await client.postJson(PATH, {}, { timeoutMs: 5000, api: "music" });
    expect(calls).toEqual([
      { api: "music", status: 429, durationMs: expect.any(Number), requestId: "r429" },
      { api: "music", status: 200, durationMs: expect.any(Number), requestId: "req-ok" },
    ]);
  });

  it("says outcome-unknown, network-error, timeout and aborted for tries with no whole answer", async () => {
    const calls: CallFinished[] = [];
    const record = (call: CallFinished) => calls.push(call);

    const resetting = await serve(resetConnection);
    await rejection(harness(resetting, {}, undefined, record).client.postJson(PATH, {}, { timeoutMs: 5000, api: "music" }));

    const port = await refusedPort();
    await rejection(harness({ baseUrl: `http://127.0.0.1:${port}/api/v1` }, { attempts: 1 }, undefined, record).client.postJson(PATH, {}, { timeoutMs: 5000, api: "music" }));

    const silent = await serve(neverAnswer);
    await rejection(harness(silent, {}, undefined, record).client.getJson("/uploads", { timeoutMs: 200, api: "upload-policy" }));

    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await harness(silent, {}, undefined, record)
      .client.postJson(PATH, {}, { timeoutMs: 5000, api: "music", signal: controller.signal })
      .catch(() => undefined);

    expect(calls.map(({ api, status }) => [api, status])).toEqual([
      ["music", "outcome-unknown"],
      ["music", "network-error"],
      ["upload-policy", "timeout"],
      ["music", "aborted"],
    ]);
  });

  it("labels a stream's try once, and an observer that throws does not break the call", async () => {
    const frame = resultFrame(1, { output: { finish_reason: "stop" }, request_id: "req-s" });
    const server = await serve(sse([frame]));
    const calls: CallFinished[] = [];
    const { client, logLines } = harness(server, {}, undefined, (call) => {
      calls.push(call);
      throw new Error("metrics are down");
    });
    expect(await collect(client.postSse(PATH, {}, { timeoutMs: 5000, api: "qwen-audio" }))).toHaveLength(1);
    expect(calls).toEqual([{ api: "qwen-audio", status: 200, durationMs: expect.any(Number), requestId: "req-s" }]);
    expect(logLines().some((line) => line.msg === "onCallFinished threw")).toBe(true);
  });

  it("falls back to the endpoint path when the caller gives no label", async () => {
    const server = await serve(json(200, okAnswer));
    const calls: CallFinished[] = [];
    await harness(server, {}, undefined, (call) => calls.push(call)).client.postJson(PATH, {}, { timeoutMs: 5000 });
    expect(calls[0]?.api).toBe(PATH);
  });
});

// ── secrets ────────────────────────────────────────────────────────────────────────────────

describe("DashScope client and the API key", () => {
  it("never puts the API key in an error message or a log line, even when the service echoes it", async () => {
    const echo: Handler = (res, _req, received) => {
      res.writeHead(401, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: "InvalidApiKey", message: `Invalid API-key provided: ${received.headers.authorization}`, request_id: "r" }));
    };
    const echoText: Handler = (res, _req, received) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`upstream said: ${received.headers.authorization}`);
    };
    const echoSse: Handler = (res, _req, received) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.end(`event:error\n:HTTP_STATUS/400\ndata:${JSON.stringify({ code: "InvalidParameter", message: `bad key ${API_KEY}` })}\n\n`);
      void received;
    };

    const messages: string[] = [];
    const logs: string[] = [];
    for (const handler of [echo, echoText, echoSse, resetConnection]) {
      const server = await serve(handler);
      const { client, rawLog } = harness(server, { attempts: 1 });
      const call = handler === echoSse ? collect(client.postSse(PATH, {}, { timeoutMs: 5000 })) : client.postJson(PATH, {}, { timeoutMs: 5000 });
      const error = await rejection(call);
      messages.push(error.message, String(error.stack), JSON.stringify(error));
      logs.push(rawLog());
    }

    expect(messages.join("\n")).toContain("[redacted]");
    for (const text of [...messages, ...logs]) expect(text).not.toContain(API_KEY);
    expect(logs.join("")).toContain("dashscope call failed");
  });
});
