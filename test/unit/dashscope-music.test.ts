import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "../../src/log.js";
import { Agent } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { createBase64ChunkDecoder } from "../../src/dashscope/base64-chunks.js";
import { createDashScopeClient } from "../../src/dashscope/client.js";
import { DashScopeError } from "../../src/dashscope/errors.js";
import { FUN_MUSIC_PATH, generateSong, SongInputRejectedError, StreamedAudioTooLargeError, type FunMusicDeps } from "../../src/dashscope/music.js";
import type { SongInput, SongProgress } from "../../src/dashscope/music-types.js";
import { funMusicAnswerSchema } from "../../src/dashscope/music-response.js";

// ── fixtures from the seeds ────────────────────────────────────────────────────────────────

const OSS_URL =
  "http://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/pre/fun-music/20260330/xxxxxxxx/a8db24cc-d35f-961b-af81-a9e8d8b01f67.mp3?xxx";
const SEED_LYRICS = "[verse]\nMorning sunlight slips through the curtain,\nCoffee aroma fills up the room.";

/** 300 Han characters: inside the streaming window for lyrics. */
const streamingLyrics = "春风吹过山岗花开满地阳光照耀".repeat(30).slice(0, 300);
const streamingInput: SongInput = { lyrics: streamingLyrics, gender: "female", format: "wav", watermark: true };
const nonStreamingInput: SongInput = { prompt: "Fresh summer folk song", gender: "male", format: "mp3", watermark: false };

/** A 48 kHz stereo 16-bit WAV: 192,000 bytes per second of audio. */
function wavFile(seconds: number): Buffer {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(0xffffffff, 4);
  header.write("WAVEfmt ", 8, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(2, 22);
  header.writeUInt32LE(48_000, 24);
  header.writeUInt32LE(192_000, 28);
  header.writeUInt16LE(4, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(0xffffffff, 40);
  const pcm = Buffer.alloc(Math.round(seconds * 192_000));
  for (let i = 0; i < pcm.length; i++) pcm[i] = (i * 31) & 0xff;
  return Buffer.concat([header, pcm]);
}

function intermediate(data: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    output: { audio: { data, expires_at: 1774937185, id: "audio_a8db24cc" }, finish_reason: "null", ...extra },
    request_id: "a8db24cc-req",
  };
}

function finalEvent(options: { sampleRate?: string | number; url?: string | null } = {}): Record<string, unknown> {
  return {
    output: {
      audio: { expires_at: 1774937185, id: "audio_a8db24cc", data: "", ...(options.url === null ? {} : { url: options.url ?? OSS_URL }) },
      extra_info: { channels: 2, sample_rate: options.sampleRate ?? "48000", lyrics: SEED_LYRICS },
      finish_reason: "stop",
    },
    usage: { duration: 200 },
    request_id: "a8db24cc-req",
  };
}

function frame(id: number, payload: unknown): string {
  return `id:${id}\nevent:result\n:HTTP_STATUS/200\ndata:${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`;
}

/** The song as SSE frames: the file cut in three base64 pieces, then the final event. */
function songFrames(file: Buffer, final = finalEvent()): string[] {
  const third = Math.ceil(file.length / 3);
  const pieces = [0, 1, 2].map((i) => file.subarray(i * third, (i + 1) * third).toString("base64"));
  return [
    frame(1, intermediate(pieces[0] as string)),
    // The seed's `"null"` string, a real null, and a field the seed never showed.
    frame(2, { ...intermediate(pieces[1] as string), output: { ...(intermediate(pieces[1] as string).output as object), finish_reason: null }, trace: { x: 1 } }),
    frame(3, intermediate(pieces[2] as string)),
    frame(4, final),
  ];
}

// ── server and wiring ──────────────────────────────────────────────────────────────────────

type Received = { headers: IncomingHttpHeaders; body: Record<string, unknown> };
type Handler = (res: ServerResponse) => void;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function serve(...handlers: Handler[]): Promise<{ baseUrl: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
      (handlers[Math.min(received.length, handlers.length) - 1] as Handler)(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`, received };
}

function sse(frames: string[], options: { thenDestroy?: boolean } = {}): Handler {
  return (res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const f of frames) res.write(f);
    if (options.thenDestroy) setTimeout(() => res.socket?.destroy(), 20);
    else res.end();
  };
}

function json(status: number, body: unknown): Handler {
  return (res) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
}

function deps(baseUrl: string, downloaded = Buffer.from("downloaded file")): FunMusicDeps & { downloads: string[] } {
  const dispatcher = new Agent({ keepAliveTimeout: 1000 });
  cleanups.push(() => dispatcher.close());
  const downloads: string[] = [];
  return {
    client: createDashScopeClient({
      baseUrl,
      apiKey: "sk-music-test-key",
      logger: pino({ level: "silent" }),
      dispatcher,
      sleep: async () => {},
    }),
    model: "fun-music-v1",
    downloads,
    downloadAudio: async (url) => {
      downloads.push(url);
      return downloaded;
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<DashScopeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DashScopeError) return error;
    throw error;
  }
  throw new Error("expected generateSong to fail");
}

// ── streaming ──────────────────────────────────────────────────────────────────────────────

describe("generateSong, streaming", () => {
  it("assembles the streamed chunks, reports progress in bytes and seconds, and maps the final event", async () => {
    const file = wavFile(1.5);
    const server = await serve(sse(songFrames(file)));
    const d = deps(server.baseUrl);
    const progress: SongProgress[] = [];

    const song = await generateSong(d, streamingInput, { timeoutMs: 5000, onProgress: (p) => progress.push(p) });

    expect(song.audio.equals(file)).toBe(true);
    expect(d.downloads).toEqual([]);
    expect(song).toMatchObject({
      format: "wav",
      mode: "streaming",
      url: OSS_URL,
      expiresAt: 1774937185,
      audioId: "audio_a8db24cc",
      lyrics: SEED_LYRICS,
      channels: 2,
      sampleRate: 48000,
      billedSeconds: 200,
      requestId: "a8db24cc-req",
    });
    expect(progress.map((p) => p.audioBytes)).toEqual([96_015, 192_030, file.length]);
    expect(progress.at(-1)?.audioSeconds).toBeCloseTo(1.5, 6);
    expect(progress.every((p) => p.audioSeconds !== undefined)).toBe(true);
  });

  it("stops buffering a stream that outgrows the byte cap, yet keeps the paid song's URL", async () => {
    const file = wavFile(1.5);
    const server = await serve(sse(songFrames(file)));
    const d = { ...deps(server.baseUrl), maxAudioBytes: 100_000 };
    const song = await generateSong(d, streamingInput, { timeoutMs: 5000 });
    expect(song.audio).toHaveLength(0);
    expect(song.audioError).toBeInstanceOf(StreamedAudioTooLargeError);
    expect(song).toMatchObject({ url: OSS_URL, billedSeconds: 200, mode: "streaming" });
    expect(d.downloads).toEqual([]);
  });

  it("sends only the lyrics, with the SSE header, gender, format and watermark", async () => {
    const server = await serve(sse(songFrames(wavFile(0.1))));
    await generateSong(deps(server.baseUrl), { ...streamingInput, prompt: "ignored prompt" }, { timeoutMs: 5000 });
    expect(server.received[0]?.headers["x-dashscope-sse"]).toBe("enable");
    expect(server.received[0]?.body).toEqual({
      model: "fun-music-v1",
      input: { lyrics: streamingLyrics, gender: "female", format: "wav", enable_aigc_watermark: true },
    });
  });

  it("fails with OutcomeUnknown, not a truncated file, when the stream breaks mid-song, and does not ask again", async () => {
    const frames = songFrames(wavFile(0.5));
    const server = await serve(sse(frames.slice(0, 2), { thenDestroy: true }), sse(frames));
    const d = deps(server.baseUrl);
    const progress: SongProgress[] = [];

    const error = await failure(generateSong(d, streamingInput, { timeoutMs: 5000, onProgress: (p) => progress.push(p) }));

    expect(error).toMatchObject({ code: "OutcomeUnknown", reason: "cut-off", endpoint: FUN_MUSIC_PATH });
    expect(progress).toHaveLength(2);
    expect(server.received).toHaveLength(1);
    expect(d.downloads).toEqual([]);
  });

  it("fails with MalformedResponse when the stream ends cleanly without its stop event", async () => {
    const frames = songFrames(wavFile(0.5));
    const server = await serve(sse(frames.slice(0, 3)));
    const error = await failure(generateSong(deps(server.baseUrl), streamingInput, { timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: "MalformedResponse", requestId: "a8db24cc-req" });
    expect(error.message).toContain('"stop"');
  });

  it("downloads the final URL when a chunk went missing (a gap in the event ids)", async () => {
    const frames = songFrames(wavFile(0.5));
    const server = await serve(sse([frames[0], frames[2], frames[3]] as string[]));
    const d = deps(server.baseUrl, Buffer.from("the whole file"));
    const song = await generateSong(d, streamingInput, { timeoutMs: 5000 });
    expect(d.downloads).toEqual([OSS_URL]);
    expect(song.audio.toString()).toBe("the whole file");
  });

  it("downloads the final URL when an intermediate event is unreadable", async () => {
    const frames = songFrames(wavFile(0.5));
    frames[1] = frame(2, '{"output": {"audio": {"data": 42}}}'); // valid JSON, wrong type
    const server = await serve(sse(frames));
    const d = deps(server.baseUrl);
    await generateSong(d, streamingInput, { timeoutMs: 5000 });
    expect(d.downloads).toEqual([OSS_URL]);
  });

  it("fails with MalformedResponse when chunks are missing and the final event has no URL", async () => {
    const frames = songFrames(wavFile(0.5), finalEvent({ url: null }));
    const server = await serve(sse([frames[0], frames[3]] as string[]));
    expect(await failure(generateSong(deps(server.baseUrl), streamingInput, { timeoutMs: 5000 }))).toMatchObject({
      code: "MalformedResponse",
    });
  });

  it("passes an in-stream error on as a DashScopeError", async () => {
    const frames = songFrames(wavFile(0.5));
    const server = await serve(
      sse([
        frames[0] as string,
        'id:2\nevent:error\n:HTTP_STATUS/400\ndata:{"code":"DataInspectionFailed","message":"Output data may contain inappropriate content.","request_id":"a8db24cc-req"}\n\n',
      ]),
    );
    expect(await failure(generateSong(deps(server.baseUrl), streamingInput, { timeoutMs: 5000 }))).toMatchObject({
      code: "DataInspectionFailed",
      status: 400,
      requestId: "a8db24cc-req",
    });
  });

  it("reassembles base64 split in the middle of a 4-character group", async () => {
    const file = wavFile(0.2);
    const b64 = file.toString("base64");
    const cuts = [0, 1001, 2002, 9999, b64.length];
    const frames = cuts.slice(1).map((end, i) => frame(i + 1, intermediate(b64.slice(cuts[i], end))));
    const server = await serve(sse([...frames, frame(frames.length + 1, finalEvent())]));
    const d = deps(server.baseUrl);
    const song = await generateSong(d, streamingInput, { timeoutMs: 5000 });
    expect(song.audio.equals(file)).toBe(true);
    expect(d.downloads).toEqual([]);
  });
});

// ── non-streaming ──────────────────────────────────────────────────────────────────────────

describe("generateSong, non-streaming", () => {
  const seedAnswer = {
    output: {
      audio: { data: "", expires_at: 1774936147, id: "audio_46c51288", url: OSS_URL },
      extra_info: { channels: 2, lyrics: SEED_LYRICS, sample_rate: 48000 },
      finish_reason: "stop",
    },
    usage: { duration: 200 },
    request_id: "46c51288-req",
  };

  it("sends only the prompt without the SSE header, then downloads the URL", async () => {
    const server = await serve(json(200, seedAnswer));
    const d = deps(server.baseUrl, Buffer.from("mp3 bytes"));
    const progress: SongProgress[] = [];

    const song = await generateSong(d, { ...nonStreamingInput, lyrics: "  " }, { timeoutMs: 5000, onProgress: (p) => progress.push(p) });

    expect(server.received[0]?.headers["x-dashscope-sse"]).toBeUndefined();
    expect(server.received[0]?.body).toEqual({
      model: "fun-music-v1",
      input: { prompt: "Fresh summer folk song", gender: "male", format: "mp3", enable_aigc_watermark: false },
    });
    expect(d.downloads).toEqual([OSS_URL]);
    expect(song).toEqual({
      audio: Buffer.from("mp3 bytes"),
      format: "mp3",
      url: OSS_URL,
      expiresAt: 1774936147,
      audioId: "audio_46c51288",
      lyrics: SEED_LYRICS,
      channels: 2,
      sampleRate: 48000,
      billedSeconds: 200,
      requestId: "46c51288-req",
      mode: "non-streaming",
    });
    expect(progress).toEqual([]);
  });

  it("fails with MalformedResponse when the answer has no URL", async () => {
    const server = await serve(json(200, { ...seedAnswer, output: { ...seedAnswer.output, audio: { data: "" } } }));
    const d = deps(server.baseUrl);
    expect(await failure(generateSong(d, nonStreamingInput, { timeoutMs: 5000 }))).toMatchObject({ code: "MalformedResponse" });
    expect(d.downloads).toEqual([]);
  });

  it("keeps a paid song's URL when its file can't be downloaded, with empty audio and the reason", async () => {
    const server = await serve(json(200, seedAnswer));
    const refused = new Error("download broke off");
    const d = { ...deps(server.baseUrl), downloadAudio: async () => Promise.reject(refused) };
    const song = await generateSong(d, nonStreamingInput, { timeoutMs: 5000 });
    expect(song).toMatchObject({ url: OSS_URL, expiresAt: 1774936147, billedSeconds: 200, requestId: "46c51288-req", audioError: refused });
    expect(song.audio).toHaveLength(0);
  });

  it("reports the song as billed before its file is downloaded", async () => {
    const server = await serve(json(200, seedAnswer));
    const order: string[] = [];
    const d = { ...deps(server.baseUrl), downloadAudio: async () => (order.push("download"), Buffer.from("x")) };
    await generateSong(d, nonStreamingInput, { timeoutMs: 5000, onBilled: async (billing) => void order.push(`billed ${billing.requestId} ${billing.billedSeconds}`) });
    expect(order).toEqual(["billed 46c51288-req 200", "download"]);
  });

  it("does not retry a generation that timed out: its outcome is unknown", async () => {
    const server = await serve(() => {}, json(200, seedAnswer));
    const error = await failure(generateSong(deps(server.baseUrl), nonStreamingInput, { timeoutMs: 300 }));
    expect(error).toMatchObject({ code: "OutcomeUnknown", reason: "timed-out" });
    expect(server.received).toHaveLength(1);
  });
});

// ── validation ─────────────────────────────────────────────────────────────────────────────

// ── billing rules ──────────────────────────────────────────────────────────────────────────

/** A logger whose lines a test can read. */
function recordingLogger(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  let raw = "";
  const log = pino(
    { level: "debug" },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        raw += chunk.toString();
        callback();
      },
    }),
  );
  return { log, lines: () => raw.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Record<string, unknown>) };
}

describe("generateSong, billing rules", () => {
  const paid = {
    output: {
      audio: { data: "", expires_at: "2026-03-31T06:09:07Z", id: "audio_46c51288", url: OSS_URL },
      extra_info: { channels: 2, lyrics: SEED_LYRICS, sample_rate: "forty-eight thousand" },
      finish_reason: "stop",
    },
    usage: { duration: 200 },
    request_id: "46c51288-drift",
  };

  it("delivers and bills a paid answer whose unneeded fields drifted, and logs the drift with its request id", async () => {
    const server = await serve(json(200, paid));
    const d = deps(server.baseUrl, Buffer.from("mp3 bytes"));
    const { log, lines } = recordingLogger();
    const billed: unknown[] = [];

    const song = await generateSong(d, nonStreamingInput, { timeoutMs: 5000, log, onBilled: async (b) => void billed.push(b) });

    expect(song).toMatchObject({ url: OSS_URL, billedSeconds: 200, expiresAt: undefined, sampleRate: undefined, channels: 2, requestId: "46c51288-drift" });
    expect(song.audio.toString()).toBe("mp3 bytes");
    expect(billed).toEqual([expect.objectContaining({ requestId: "46c51288-drift", billedSeconds: 200, url: OSS_URL, expiresAt: undefined })]);
    const warning = lines().find((line) => line.level === 40);
    expect(warning).toMatchObject({ requestId: "46c51288-drift", drift: expect.arrayContaining([expect.stringContaining("output.audio.expires_at")]) });
  });

  it("still calls a 200 without usable audio MalformedResponse, drift or not", async () => {
    const noAudio = { ...paid, output: { ...paid.output, audio: { data: "", expires_at: "2026-03-31T06:09:07Z", url: "ftp://nope" } } };
    const server = await serve(json(200, noAudio));
    const error = await failure(generateSong(deps(server.baseUrl), nonStreamingInput, { timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: "MalformedResponse", requestId: "46c51288-drift" });
  });

  it("still calls a drifted answer without usage.duration MalformedResponse: there is nothing to charge", async () => {
    const server = await serve(json(200, { ...paid, usage: { duration: "two hundred" } }));
    expect(await failure(generateSong(deps(server.baseUrl), nonStreamingInput, { timeoutMs: 5000 }))).toMatchObject({ code: "MalformedResponse" });
  });

  it("keeps a streamed song whose events drifted: the chunks are not trusted, the final URL is", async () => {
    const drifted = (payload: Record<string, unknown>) => {
      const copy = structuredClone(payload) as { output: { audio: Record<string, unknown> } };
      copy.output.audio.expires_at = "2026-03-31T06:09:07Z";
      return copy;
    };
    const file = wavFile(0.5);
    const third = Math.ceil(file.length / 3);
    const frames = [0, 1, 2].map((i) => frame(i + 1, drifted(intermediate(file.subarray(i * third, (i + 1) * third).toString("base64")))));
    frames.push(frame(4, drifted(finalEvent())));
    const server = await serve(sse(frames));
    const d = deps(server.baseUrl, Buffer.from("the file at the URL"));
    const { log, lines } = recordingLogger();

    const song = await generateSong(d, streamingInput, { timeoutMs: 5000, log });

    expect(song.audio.toString()).toBe("the file at the URL");
    expect(song.billedSeconds).toBe(200);
    expect(d.downloads).toEqual([OSS_URL]);
    expect(lines().filter((line) => line.level === 40)).toEqual([expect.objectContaining({ requestId: "a8db24cc-req" })]);
  });

  it("gives up a streamed song silent for streamIdleTimeoutMs as OutcomeUnknown, and does not ask again", async () => {
    const frames = songFrames(wavFile(0.5));
    const server = await serve((res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(frames[0]);
    }, sse(frames));
    const d = { ...deps(server.baseUrl), streamIdleTimeoutMs: 200 };
    const error = await failure(generateSong(d, streamingInput, { timeoutMs: 60_000 }));
    expect(error).toMatchObject({ code: "OutcomeUnknown", reason: "stream-idle", idleMs: 200, requestId: "a8db24cc-req" });
    expect(server.received).toHaveLength(1);
  });

  it("sends the normalized text it counted: no zero-width, control or direction characters, NFC", async () => {
    const server = await serve(json(200, { ...paid, output: { ...paid.output, audio: { ...paid.output.audio, expires_at: 1774936147 } } }));
    const prompt = "\uFEFFFresh\u200B summer\u202E folk\u0007 song about a cafe\u0301";
    await generateSong(deps(server.baseUrl), { ...nonStreamingInput, prompt }, { timeoutMs: 5000 });
    expect(server.received[0]?.body).toMatchObject({ input: { prompt: "Fresh summer folk song about a caf\u00e9" } });
  });

  it("refuses zero-width-only lyrics before any call", async () => {
    const server = await serve(json(200, paid));
    const error = await generateSong(deps(server.baseUrl), { ...streamingInput, lyrics: "\u200B\u200D\u2060\uFEFF\n\u200C" }, { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SongInputRejectedError);
    expect((error as SongInputRejectedError).check.problem).toEqual({ field: "lyrics", reason: "invisible" });
    expect(server.received).toHaveLength(0);
  });
});

describe("Fun-Music answers and inputs", () => {
  it('accepts sample_rate as a number or a string ("48000"), as the two seed pages disagree', () => {
    for (const sampleRate of [48000, "48000"]) {
      const parsed = funMusicAnswerSchema.parse(finalEvent({ sampleRate }));
      expect(parsed.output.extra_info?.sample_rate).toBe(48000);
    }
    expect(funMusicAnswerSchema.safeParse(finalEvent({ sampleRate: "48 kHz" })).success).toBe(false);
  });

  it('reads finish_reason "null", null and absent as still generating', () => {
    for (const finish of ["null", null, undefined]) {
      const event = { output: { audio: { data: "AAAA" }, ...(finish === undefined ? {} : { finish_reason: finish }) } };
      expect(funMusicAnswerSchema.parse(event).output.finish_reason).toBeNull();
    }
  });

  it("throws SongInputRejectedError and sends nothing when the input breaks a limit", async () => {
    const server = await serve(json(200, {}));
    const error = await generateSong(deps(server.baseUrl), { ...nonStreamingInput, prompt: "x".repeat(2001) }, { timeoutMs: 5000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SongInputRejectedError);
    expect((error as SongInputRejectedError).check.problem).toMatchObject({ field: "prompt", actual: 2001 });
    expect(server.received).toHaveLength(0);
  });

  it("decodes base64 pieces and refuses characters outside the alphabet", () => {
    const decoder = createBase64ChunkDecoder();
    expect(decoder.push("aGVsbG8g")?.toString()).toBe("hello ");
    expect(decoder.push("d29y")?.toString()).toBe("wor");
    expect(decoder.push("bG")?.toString()).toBe("");
    expect(decoder.end()).toBe(false);
    expect(decoder.push("Q=")?.toString()).toBe("ld");
    expect(decoder.end()).toBe(true);
    expect(decoder.push("not base64!")).toBeUndefined();
  });
});
