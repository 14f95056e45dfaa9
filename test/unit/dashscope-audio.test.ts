import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { askQwenAudio, clampMaxTokens, createTextAccumulator, QWEN_AUDIO_PATH } from "../../src/dashscope/audio.js";
import type { QwenAudioMessage } from "../../src/dashscope/audio-types.js";
import { createDashScopeClient, type DashScopeClient } from "../../src/dashscope/client.js";
import { DashScopeError } from "../../src/dashscope/errors.js";

const API_KEY = "sk-test-audio-0123456789abcdef0123456789";
const MODEL = "qwen2-audio-instruct";
const REQUEST_ID = "1117fb64-5dd9-9df0-a5ca-d7ee0e97032d";

// ── a tiny DashScope stand-in ──────────────────────────────────────────────────────────────

type Received = { url: string; headers: IncomingHttpHeaders; body: string };
type Handler = (res: ServerResponse, received: Received) => void | Promise<void>;
type TestServer = { baseUrl: string; received: Received[]; close(): Promise<void> };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Answers the n-th request with the n-th handler (the last one repeats). */
async function serve(...handlers: Handler[]): Promise<TestServer> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      received.push({ url: req.url ?? "", headers: req.headers, body });
      void (handlers[Math.min(received.length, handlers.length) - 1] as Handler)(res, received.at(-1) as Received);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  cleanups.push(close);
  return { baseUrl: `http://127.0.0.1:${port}/api/v1`, received, close };
}

function clientFor(server: TestServer): DashScopeClient {
  const dispatcher = new Agent({ keepAliveTimeout: 1000 });
  cleanups.push(() => dispatcher.close());
  return createDashScopeClient({
    baseUrl: server.baseUrl,
    apiKey: API_KEY,
    logger: pino({ level: "silent" }),
    dispatcher,
    retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10 },
    sleep: async () => {},
  });
}

type FrameOptions = { finish?: string | null; usage?: Record<string, unknown> | null; id?: number };

/** One `result` frame as the service writes it. `content` goes in as given (string or list). */
function frame(content: unknown, options: FrameOptions = {}): string {
  const payload: Record<string, unknown> = {
    output: { choices: [{ finish_reason: options.finish === undefined ? "null" : options.finish, message: { role: "assistant", content } }] },
    request_id: REQUEST_ID,
  };
  if (options.usage !== null) payload.usage = options.usage ?? { output_tokens: 3, input_tokens: 85, audio_tokens: 76 };
  return `id:${options.id ?? 1}\nevent:result\n:HTTP_STATUS/200\ndata:${JSON.stringify(payload)}\n\n`;
}

/** Writes `text` in the given byte-sized pieces, letting each reach the socket on its own. */
function sseInPieces(text: string, sizes: number[], options: { thenDestroy?: boolean } = {}): Handler {
  return async (res) => {
    res.writeHead(200, { "content-type": "text/event-stream;charset=UTF-8", "x-request-id": "header-id" });
    res.flushHeaders();
    const bytes = Buffer.from(text, "utf8");
    let offset = 0;
    let i = 0;
    while (offset < bytes.length) {
      const size = sizes[i++ % sizes.length] as number;
      res.write(bytes.subarray(offset, offset + size));
      offset += size;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    if (options.thenDestroy) setTimeout(() => res.socket?.destroy(), 20);
    else res.end();
  };
}

function sse(frames: string[], options: { thenDestroy?: boolean } = {}): Handler {
  return sseInPieces(frames.join(""), [1 << 20], options);
}

function json(status: number, body: unknown): Handler {
  return (res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
}

const audioMessage = (audio: string): QwenAudioMessage => ({ role: "user", content: [{ audio }, { text: "这段音频在说什么?" }] });
const httpsAudio = audioMessage("https://dashscope.oss-cn-beijing.aliyuncs.com/audios/welcome.mp3");
const ossAudio = audioMessage("oss://dashscope-instant/abc/2026-01-01/def/0123-part1.mp3");

async function rejection(promise: Promise<unknown>): Promise<DashScopeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DashScopeError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

// ── tests ─────────────────────────────────────────────────────────────────────────────────

describe("askQwenAudio, the request", () => {
  it("posts the model, the messages and incremental output with max_tokens 1500 over SSE", async () => {
    const server = await serve(sse([frame("好", { finish: "stop" })]));
    const messages: QwenAudioMessage[] = [{ role: "system", content: [{ text: "You are a helpful assistant." }] }, httpsAudio];

    await askQwenAudio(clientFor(server), { model: MODEL, messages, timeoutMs: 5000 });

    const [request] = server.received;
    expect(request?.url).toBe(`/api/v1${QWEN_AUDIO_PATH}`);
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request?.headers["x-dashscope-sse"]).toBe("enable");
    expect(JSON.parse(request?.body ?? "")).toEqual({
      model: MODEL,
      input: { messages },
      parameters: { incremental_output: true, max_tokens: 1500 },
    });
  });

  it("clamps max_tokens to the model's 1500", async () => {
    expect(clampMaxTokens(undefined)).toBe(1500);
    expect(clampMaxTokens(5000)).toBe(1500);
    expect(clampMaxTokens(300.7)).toBe(300);
    expect(clampMaxTokens(0)).toBe(1);
    const server = await serve(sse([frame("好", { finish: "stop" })]));
    await askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], maxTokens: 4000, timeoutMs: 5000 });
    expect(JSON.parse(server.received[0]?.body ?? "").parameters.max_tokens).toBe(1500);
  });

  it("asks the service to resolve oss:// URLs exactly when an audio item is one", async () => {
    const server = await serve(sse([frame("好", { finish: "stop" })]));
    const client = clientFor(server);
    await askQwenAudio(client, { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 });
    await askQwenAudio(client, {
      model: MODEL,
      messages: [ossAudio, { role: "assistant", content: [{ text: "欢迎" }] }, { role: "user", content: [{ text: "oss://not-audio" }] }],
      timeoutMs: 5000,
    });
    await askQwenAudio(client, { model: MODEL, messages: [{ role: "user", content: [{ text: "oss://only text" }] }], timeoutMs: 5000 });

    expect(server.received.map((r) => r.headers["x-dashscope-ossresourceresolve"])).toEqual([undefined, "enable", undefined]);
  });
});

describe("askQwenAudio, the answer", () => {
  const increments = ["这段", "音频", "在说中文:", "\"欢迎使用", "阿里云\"", "。"];
  const whole = increments.join("");

  it("joins increments however the bytes are split, and reports the text so far", async () => {
    const body = increments.map((text, i) => frame(text, { id: i + 1, finish: i === increments.length - 1 ? "stop" : "null" })).join("");
    // Splits of 1, 2, 3, 5 and 7 bytes cut through lines, JSON and three-byte Han characters.
    const server = await serve(sseInPieces(body, [1, 2, 3, 5, 7]));
    const seen: string[] = [];

    const answer = await askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], onText: (text) => seen.push(text), timeoutMs: 10_000 });

    expect(answer.text).toBe(whole);
    expect(answer.finishReason).toBe("stop");
    expect(seen).toEqual(increments.map((_, i) => increments.slice(0, i + 1).join("")));
  });

  it("tolerates a server that sends the whole text so far in every frame, as the seed's example does", async () => {
    const cumulative = increments.map((_, i) => increments.slice(0, i + 1).join(""));
    const frames = [...cumulative.map((text, i) => frame(text, { id: i + 1 })), frame(whole, { id: 9, finish: "stop" })];
    const server = await serve(sse(frames));
    const seen: string[] = [];

    const answer = await askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], onText: (text) => seen.push(text), timeoutMs: 5000 });

    expect(answer.text).toBe(whole);
    expect(seen).toEqual(cumulative);
  });

  it("reads content given as a list of {text} items, and an empty final list", async () => {
    const frames = [
      frame([{ text: "The clip " }], { id: 1 }),
      frame([{ text: "is a piano " }, { text: "solo." }], { id: 2 }),
      frame([], { id: 3, finish: "stop", usage: { input_tokens: 544, output_tokens: 9, input_tokens_details: { audio_tokens: 500, text_tokens: 44 } } }),
    ];
    const server = await serve(sse(frames));

    const answer = await askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 });

    expect(answer.text).toBe("The clip is a piano solo.");
    expect(answer.usage).toEqual({ inputTokens: 544, outputTokens: 9, audioTokens: 500 });
  });

  it("returns the last frame's usage and the request id, taking usage as optional on earlier frames", async () => {
    const frames = [
      frame("Hello", { id: 1, usage: null }),
      frame(" there", { id: 2, usage: { output_tokens: "2", input_tokens: "85" } }),
      frame("", { id: 3, finish: "stop", usage: { output_tokens: 68, input_tokens: 85, audio_tokens: 76 } }),
    ];
    const server = await serve(sse(frames));

    const answer = await askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 });

    expect(answer).toEqual({
      text: "Hello there",
      finishReason: "stop",
      usage: { inputTokens: 85, outputTokens: 68, audioTokens: 76 },
      requestId: REQUEST_ID,
    });
  });

  it("reports a 'length' finish as a cut answer, not an error", async () => {
    const server = await serve(sse([frame("A long", { id: 1 }), frame(" answer", { id: 2, finish: "length" })]));
    const answer = await askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 });
    expect(answer).toMatchObject({ text: "A long answer", finishReason: "length" });
  });

  it("accepts finish_reason given as JSON null while generating", async () => {
    const server = await serve(sse([frame("一", { id: 1, finish: null }), frame("二", { id: 2, finish: "stop" })]));
    const answer = await askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 });
    expect(answer.text).toBe("一二");
  });

  it("accepts a plain JSON answer (a proxy that drops SSE) with its content list", async () => {
    const server = await serve(
      json(200, {
        output: { choices: [{ finish_reason: "stop", message: { role: "assistant", content: [{ text: "这段音频在说中文:\"欢迎使用阿里云\"。" }] } }] },
        usage: { output_tokens: 19, input_tokens: 1279, audio_tokens: 768 },
        request_id: "b042e72d-7994-97dd-b3d2-7ee7e0140525",
      }),
    );
    const answer = await askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 });
    expect(answer).toMatchObject({ text: whole, finishReason: "stop", usage: { audioTokens: 768 }, requestId: "b042e72d-7994-97dd-b3d2-7ee7e0140525" });
  });
});

describe("askQwenAudio, failures", () => {
  it("throws an error frame as a DashScopeError with its code and status", async () => {
    const errorFrame = `event:error\n:HTTP_STATUS/400\ndata:${JSON.stringify({ code: "InvalidParameter", message: "The audio is too long", request_id: "req-e" })}\n\n`;
    const server = await serve(sse([errorFrame]));
    const error = await rejection(askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: "InvalidParameter", status: 400, requestId: "req-e" });
    expect(server.received).toHaveLength(1);
  });

  it("throws an error frame that follows text, without retrying", async () => {
    const errorFrame = `event:error\n:HTTP_STATUS/500\ndata:${JSON.stringify({ code: "InternalError", message: "oops", request_id: "req-e" })}\n\n`;
    const server = await serve(sse([frame("半", { id: 1 }), errorFrame]));
    const error = await rejection(askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: "InternalError", status: 500 });
    expect(server.received).toHaveLength(1);
  });

  it("passes on a JSON error answer (e.g. an unreadable oss:// URL)", async () => {
    const server = await serve(
      json(400, {
        code: "InvalidParameter",
        message: "The provided URL does not appear to be valid. Ensure it is correctly formatted.",
        request_id: "req-url",
      }),
    );
    const error = await rejection(askQwenAudio(clientFor(server), { model: MODEL, messages: [ossAudio], timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: "InvalidParameter", status: 400, requestId: "req-url" });
  });

  it("retries a 503 that comes before any event", async () => {
    const server = await serve(json(503, { code: "ServiceUnavailable", message: "busy", request_id: "r" }), sse([frame("好", { finish: "stop" })]));
    const answer = await askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 });
    expect(answer.text).toBe("好");
    expect(server.received).toHaveLength(2);
  });

  it("fails with OutcomeUnknown when the stream breaks mid-way, and does not ask again (it may be billed)", async () => {
    const server = await serve(sse([frame("这段", { id: 1 }), frame("音频", { id: 2 })], { thenDestroy: true }), sse([frame("好", { finish: "stop" })]));
    const seen: string[] = [];
    const error = await rejection(
      askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], onText: (text) => seen.push(text), timeoutMs: 5000 }),
    );
    expect(error).toMatchObject({ code: "OutcomeUnknown", reason: "cut-off" });
    expect(seen).toEqual(["这段", "这段音频"]);
    expect(server.received).toHaveLength(1);
  });

  it("calls a stream that ends without a finish_reason MalformedResponse", async () => {
    const server = await serve(sse([frame("这段", { id: 1 }), frame("音频", { id: 2 })]));
    const error = await rejection(askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: "MalformedResponse", requestId: REQUEST_ID, endpoint: QWEN_AUDIO_PATH });
  });

  it("calls a frame of the wrong shape MalformedResponse, naming the field", async () => {
    const odd = `id:1\nevent:result\n:HTTP_STATUS/200\ndata:${JSON.stringify({ output: { choices: [{ finish_reason: "stop", message: { content: 42 } }] }, request_id: "r" })}\n\n`;
    const server = await serve(sse([odd]));
    const error = await rejection(askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: "MalformedResponse" });
    expect(error.message).toContain("output.choices.0.message.content");
  });

  it("calls a frame whose data is not JSON MalformedResponse", async () => {
    const server = await serve(sse(["id:1\nevent:result\n:HTTP_STATUS/200\ndata:{not json\n\n"]));
    expect(await rejection(askQwenAudio(clientFor(server), { model: MODEL, messages: [httpsAudio], timeoutMs: 5000 }))).toMatchObject({
      code: "MalformedResponse",
    });
  });

  it("refuses an empty conversation before sending anything", async () => {
    const server = await serve(sse([frame("好", { finish: "stop" })]));
    await expect(askQwenAudio(clientFor(server), { model: MODEL, messages: [], timeoutMs: 5000 })).rejects.toThrow(RangeError);
    expect(server.received).toHaveLength(0);
  });
});

describe("createTextAccumulator", () => {
  function join(chunks: string[]): string {
    const accumulator = createTextAccumulator();
    for (const chunk of chunks) accumulator.push(chunk);
    return accumulator.text;
  }

  it("appends increments, including ones that repeat a short text", () => {
    expect(join(["ha", "ha", "!"])).toBe("haha!");
    expect(join(["", "A", "", "B"])).toBe("AB");
  });

  it("replaces the text with a cumulative chunk, and ignores a resent whole text", () => {
    expect(join(["The", "The clip", "The clip is", "The clip is"])).toBe("The clip is");
  });

  it("ignores a final frame that resends a long answer even when the stream looked incremental", () => {
    const answer = "The clip is a solo piano piece in C major.";
    expect(join(["The clip is a solo ", "piano piece in C major.", answer])).toBe(answer);
  });
});
