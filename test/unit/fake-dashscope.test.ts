import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import ffprobeInstaller from "@ffprobe-installer/ffprobe";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  classifyScript,
  countUnits,
  findLimitProblem,
  FUN_MUSIC_MESSAGES,
  startFakeDashScope,
  WATERMARK_SECONDS,
  type FakeDashScope,
  type FakeDashScopeOptions,
} from "../fakes/dashscope/index.js";

// ---------------------------------------------------------------- helpers

const started: FakeDashScope[] = [];

async function startFake(options: FakeDashScopeOptions = {}): Promise<FakeDashScope> {
  const fake = await startFakeDashScope({ songSeconds: 2, generationMs: 20, ...options });
  started.push(fake);
  return fake;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

type CallOptions = {
  sse?: boolean;
  key?: string | null;
  headers?: Record<string, string>;
  body?: string;
  method?: "POST" | "GET";
  path?: string;
  model?: string;
};

function musicUrl(fake: FakeDashScope, path = "/services/audio/music/generation"): string {
  return `${fake.baseUrl}${path}`;
}

function callInit(fake: FakeDashScope, input: unknown, options: CallOptions) {
  const key = options.key === undefined ? fake.apiKey : options.key;
  return {
    method: options.method ?? "POST",
    headers: {
      "content-type": "application/json",
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...(options.sse ? { "x-dashscope-sse": "enable" } : {}),
      ...options.headers,
    },
    body: options.method === "GET" ? undefined : (options.body ?? JSON.stringify({ model: options.model ?? "fun-music-v1", input })),
  } as const;
}

/** One call to the music endpoint, read to the end. */
async function callMusic(fake: FakeDashScope, input: unknown, options: CallOptions = {}) {
  const res = await request(musicUrl(fake, options.path), callInit(fake, input, options));
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

function json(text: string): any {
  return JSON.parse(text);
}

type SseFrame = { id: string | undefined; event: string | undefined; comments: string[]; data: string; raw: string };

/** A small SSE reader written for these tests, independent of the bot's parser. */
function parseSse(text: string): SseFrame[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((raw) => {
      const frame: SseFrame = { id: undefined, event: undefined, comments: [], data: "", raw };
      for (const line of raw.split("\n")) {
        if (line.startsWith(":")) {
          frame.comments.push(line.slice(1));
          continue;
        }
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1);
        if (field === "id") frame.id = value;
        if (field === "event") frame.event = value;
        if (field === "data") frame.data = frame.data === "" ? value : `${frame.data}\n${value}`;
      }
      return frame;
    });
}

/** Reads a streaming answer until it ends or breaks, noting when each complete event arrived. */
async function readStream(fake: FakeDashScope, input: unknown, options: CallOptions = {}) {
  const startedAt = Date.now();
  const res = await request(musicUrl(fake), callInit(fake, input, { sse: true, ...options }));
  let text = "";
  const arrivals: number[] = [];
  let failure: unknown;
  try {
    for await (const chunk of res.body) {
      text += Buffer.from(chunk as Uint8Array).toString("utf8");
      while (arrivals.length < text.split("\n\n").length - 1) arrivals.push(Date.now() - startedAt);
    }
  } catch (error) {
    failure = error;
  }
  return { status: res.statusCode, headers: res.headers, text, frames: parseSse(text), arrivals, failure };
}

async function download(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, bytes };
}

const run = promisify(execFile);

async function probe(bytes: Buffer, extension: string) {
  const file = join(tmpdir(), `fake-dashscope-test-${randomBytes(6).toString("hex")}.${extension}`);
  await writeFile(file, bytes);
  try {
    const { stdout } = await run(ffprobeInstaller.path, [
      ...["-v", "error", "-show_entries", "format=duration:stream=codec_name,sample_rate,channels", "-of", "json", file],
    ]);
    const info = JSON.parse(stdout) as { format: { duration: string }; streams: Array<{ codec_name: string; sample_rate: string; channels: number }> };
    return { duration: Number(info.format.duration), stream: info.streams[0] };
  } finally {
    await rm(file, { force: true });
  }
}

const HAN_POOL = "春夏秋冬日月星辰风雨雷电山川河海花草树木晨昏江湖歌声";
function chineseLyrics(hanCount: number): string {
  let text = "";
  for (let i = 0; i < hanCount; i += 1) {
    text += HAN_POOL[i % HAN_POOL.length];
    if (i % 7 === 6) text += i % 14 === 13 ? "。\n" : "，";
  }
  return text;
}

const WORD_POOL = ["sun", "moon", "river", "road", "light", "home", "dream", "fire", "rain", "heart", "don't", "night"];
function englishWords(count: number): string {
  const words = Array.from({ length: count }, (_, i) => WORD_POOL[i % WORD_POOL.length]);
  return words.map((word, i) => (i % 8 === 7 ? `${word}\n` : `${word} `)).join("").trim();
}

function decodeChunks(frames: SseFrame[]): Buffer[] {
  return frames
    .filter((frame) => frame.event === "result")
    .map((frame) => json(frame.data).output.audio.data as string)
    .filter((data) => data !== "")
    .map((data) => Buffer.from(data, "base64"));
}

/** Streaming prompts need 5–1,000 English words. */
const STREAM_PROMPT = "High-energy electronic dance music for workouts";

const DASHSCOPE_REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-9[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------- plain calls

describe("fake DashScope Fun-Music, plain calls", () => {
  it("answers a prompt with the seed's non-streaming body and a playable mp3 at the URL", async () => {
    const fake = await startFake({ songSeconds: 3 });
    const res = await callMusic(fake, { prompt: "Fresh summer folk song, acoustic guitar", gender: "female" });

    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    const body = json(res.text);
    expect(Object.keys(body)).toEqual(["output", "usage", "request_id"]);
    expect(Object.keys(body.output)).toEqual(["audio", "extra_info", "finish_reason"]);
    expect(Object.keys(body.output.audio)).toEqual(["data", "expires_at", "id", "url"]);
    expect(body.output.audio.data).toBe("");
    expect(body.output.audio.id).toBe(`audio_${body.request_id}`);
    expect(body.output.finish_reason).toBe("stop");
    expect(body.output.extra_info.channels).toBe(2);
    expect(body.usage).toEqual({ duration: 3 });
    expect(body.output.audio.url).toMatch(
      new RegExp(`^${fake.origin}/results/pre/fun-music/\\d{8}/[0-9a-f]{8}/${body.request_id}\\.mp3\\?Expires=\\d+&OSSAccessKeyId=\\w+&Signature=`),
    );

    const file = await download(body.output.audio.url);
    expect(file.status).toBe(200);
    expect(file.headers["content-type"]).toBe("audio/mpeg");
    expect(Number(file.headers["content-length"])).toBe(file.bytes.length);
    const info = await probe(file.bytes, "mp3");
    expect(info.stream).toMatchObject({ codec_name: "mp3", sample_rate: "48000", channels: 2 });
    expect(info.duration).toBeGreaterThan(2.9);
    expect(info.duration).toBeLessThan(3.2);
  });

  it("makes 8-second songs by default, as usage.duration says", async () => {
    const fake = await startFakeDashScope({ generationMs: 0 });
    started.push(fake);
    const body = json((await callMusic(fake, { prompt: "lofi beats" })).text);
    expect(body.usage.duration).toBe(8);
  });

  it("serves wav as 48 kHz stereo 16-bit PCM of exactly songSeconds", async () => {
    const fake = await startFake({ songSeconds: 2 });
    const body = json((await callMusic(fake, { prompt: "piano", format: "wav" })).text);
    expect(body.output.audio.url).toContain(`${body.request_id}.wav?`);
    const file = await download(body.output.audio.url);
    expect(file.headers["content-type"]).toBe("audio/wav");
    expect(file.bytes.length).toBe(44 + 2 * 48_000 * 2 * 2);
    const info = await probe(file.bytes, "wav");
    expect(info.stream).toMatchObject({ codec_name: "pcm_s16le", sample_rate: "48000", channels: 2 });
    expect(info.duration).toBeCloseTo(2, 3);
  });

  it("appends the Morse watermark tail and counts it in usage.duration", async () => {
    const fake = await startFake({ songSeconds: 2 });
    const body = json((await callMusic(fake, { prompt: "piano", format: "wav", enable_aigc_watermark: true })).text);
    expect(body.usage.duration).toBe(2 + WATERMARK_SECONDS);
    const file = await download(body.output.audio.url);
    const info = await probe(file.bytes, "wav");
    expect(info.duration).toBeCloseTo(2 + WATERMARK_SECONDS, 3);
    // The tail is not silence: the beeps of ·— ·· are in it.
    const tail = file.bytes.subarray(44 + 2 * 48_000 * 4);
    let loudest = 0;
    for (let i = 0; i < tail.length; i += 2) loudest = Math.max(loudest, Math.abs(tail.readInt16LE(i)));
    expect(loudest).toBeGreaterThan(10_000);
  });

  it("takes the time generationMs says before answering", async () => {
    const fake = await startFake({ generationMs: 300 });
    const startedAt = Date.now();
    await callMusic(fake, { prompt: "jazz" });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
  });

  it("sends a fresh DashScope-shaped request id in the body and in x-request-id", async () => {
    const fake = await startFake();
    const first = await callMusic(fake, { prompt: "rock" });
    const second = await callMusic(fake, { prompt: "rock" });
    const ids = [json(first.text).request_id, json(second.text).request_id];
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[0]).toMatch(DASHSCOPE_REQUEST_ID);
    expect(first.headers["x-request-id"]).toBe(ids[0]);
    expect(second.headers["x-request-id"]).toBe(ids[1]);
    expect(first.headers["x-dashscope-call-gateway"]).toBe("true");
  });

  it("alternates sample_rate between the string and the number the seed pages show", async () => {
    const fake = await startFake();
    const rates = [];
    for (let i = 0; i < 3; i += 1) rates.push(json((await callMusic(fake, { prompt: "folk" })).text).output.extra_info.sample_rate);
    expect(rates).toEqual(["48000", 48000, "48000"]);

    const pinned = await startFake({ sampleRate: "number" });
    expect(json((await callMusic(pinned, { prompt: "folk" })).text).output.extra_info.sample_rate).toBe(48000);
  });

  it("uses the lyrics and ignores the prompt when both are given", async () => {
    const fake = await startFake();
    const lyrics = "[verse]\nWalking down the river road\n\n[chorus]\nSing it loud tonight";
    const body = json((await callMusic(fake, { lyrics, prompt: "a prompt about penguins" })).text);
    expect(body.output.extra_info.lyrics).toBe(lyrics);
    expect(body.output.extra_info.lyrics).not.toContain("penguins");
  });

  it("tags untagged lyrics the way the model does", async () => {
    const fake = await startFake();
    const body = json((await callMusic(fake, { lyrics: "first line here\nsecond line here\nthird line\nfourth line" })).text);
    expect(body.output.extra_info.lyrics).toBe("[verse]\nfirst line here\nsecond line here\n\n[chorus]\nthird line\nfourth line");
  });

  it("writes deterministic verse and chorus lyrics for a prompt, in the prompt's language", async () => {
    const fake = await startFake();
    const english = json((await callMusic(fake, { prompt: "summer road trip" })).text).output.extra_info.lyrics as string;
    const again = json((await callMusic(fake, { prompt: "summer road trip" })).text).output.extra_info.lyrics as string;
    const chinese = json((await callMusic(fake, { prompt: "夏日清新民谣" })).text).output.extra_info.lyrics as string;
    expect(english).toBe(again);
    expect(english).toMatch(/^\[verse\]\n[^\n]+(\n[^\n]+)*\n\n\[chorus\]\n/);
    expect(classifyScript(english)).toBe("english");
    expect(classifyScript(chinese)).toBe("chinese");
  });

  it("ignores fields the model does not read", async () => {
    const fake = await startFake();
    const body = JSON.stringify({ model: "fun-music-preview", input: { prompt: "ambient", is_instrumental: true, mood: "calm" }, parameters: { seed: 1 } });
    const res = await callMusic(fake, undefined, { body });
    expect(res.status).toBe(200);
  });

  it("reports expires_at 24 hours ahead and uses it as the URL's Expires", async () => {
    const fake = await startFake();
    const body = json((await callMusic(fake, { prompt: "calm" })).text);
    const now = Math.floor(Date.now() / 1000);
    expect(body.output.audio.expires_at).toBeGreaterThanOrEqual(now + 86_400 - 5);
    expect(body.output.audio.expires_at).toBeLessThanOrEqual(now + 86_400 + 5);
    expect(new URL(body.output.audio.url).searchParams.get("Expires")).toBe(String(body.output.audio.expires_at));
  });

  it("makes songs of the new length after setSongSeconds", async () => {
    const fake = await startFake({ songSeconds: 2 });
    fake.setSongSeconds(3);
    expect(json((await callMusic(fake, { prompt: "pop" })).text).usage.duration).toBe(3);
  });

  it("records what each request asked and what it got", async () => {
    const fake = await startFake();
    await callMusic(fake, { prompt: "blues" });
    await callMusic(fake, { prompt: "blues" }, { key: "sk-wrong", sse: true });
    const [ok, refused] = fake.requests;
    expect(ok).toMatchObject({ method: "POST", path: "/api/v1/services/audio/music/generation", sse: false, status: 200, responseSse: false, completed: true });
    expect(ok?.body).toEqual({ model: "fun-music-v1", input: { prompt: "blues" } });
    expect(ok?.requestId).toMatch(DASHSCOPE_REQUEST_ID);
    expect(refused).toMatchObject({ sse: true, status: 401, responseSse: true, errorCode: "InvalidApiKey", events: 1 });
    expect(refused?.headers.authorization).toBe("Bearer sk-wrong");
  });
});

// ---------------------------------------------------------------- streaming

describe("fake DashScope Fun-Music, SSE calls", () => {
  it("frames every event as id, event:result, :HTTP_STATUS/200 and one data line", async () => {
    const fake = await startFake();
    const stream = await readStream(fake, { prompt: STREAM_PROMPT, gender: "male" });

    expect(stream.status).toBe(200);
    expect(stream.headers["content-type"]).toBe("text/event-stream;charset=UTF-8");
    expect(stream.text.endsWith("\n\n")).toBe(true);
    expect(stream.frames.length).toBeGreaterThanOrEqual(4);
    stream.frames.forEach((frame, index) => {
      expect(frame.raw).toMatch(/^id:\d+\nevent:result\n:HTTP_STATUS\/200\ndata:\{.*\}$/);
      expect(frame.id).toBe(String(index + 1));
    });

    const payloads = stream.frames.map((frame) => json(frame.data));
    const requestId = payloads[0].request_id as string;
    for (const middle of payloads.slice(0, -1)) {
      expect(middle).toEqual({
        output: { audio: { data: expect.any(String), expires_at: expect.any(Number), id: `audio_${requestId}` }, finish_reason: "null" },
        request_id: requestId,
      });
      expect(middle.output.audio.data).not.toBe("");
    }
    const last = payloads.at(-1);
    expect(Object.keys(last.output.audio)).toEqual(["expires_at", "id", "data", "url"]);
    expect(last.output.audio.data).toBe("");
    expect(last.output.finish_reason).toBe("stop");
    expect(Object.keys(last.output.extra_info)).toEqual(["channels", "sample_rate", "lyrics"]);
    expect(last.usage).toEqual({ duration: 2 });
    expect(stream.headers["x-request-id"]).toBe(requestId);
  });

  it("streams chunks that decode, one by one, to exactly the bytes at the URL", async () => {
    const fake = await startFake({ songSeconds: 3 });
    const stream = await readStream(fake, { prompt: "lofi hip hop beats to relax" });
    const chunks = decodeChunks(stream.frames);
    const file = await download(json(stream.frames.at(-1)!.data).output.audio.url);

    expect(Buffer.concat(chunks).equals(file.bytes)).toBe(true);
    expect(chunks[0]!.length).toBeLessThan(64); // the first chunk splits the file header
    expect(chunks.some((chunk) => chunk.length % 3 !== 0)).toBe(true);
    const encoded = stream.frames.slice(0, -1).map((frame) => json(frame.data).output.audio.data as string);
    expect(encoded.some((data) => data.endsWith("="))).toBe(true); // naive string concatenation would break
  });

  it("spreads the events over generationMs", async () => {
    const fake = await startFake({ generationMs: 500 });
    const stream = await readStream(fake, { prompt: STREAM_PROMPT });
    expect(stream.arrivals[0]).toBeLessThan(300);
    expect(stream.arrivals.at(-1)).toBeGreaterThanOrEqual(480);
  });

  it("streams wav too, matching the file at the URL", async () => {
    const fake = await startFake({ songSeconds: 1 });
    const stream = await readStream(fake, { prompt: STREAM_PROMPT, format: "wav", enable_aigc_watermark: true });
    const last = json(stream.frames.at(-1)!.data);
    expect(last.usage.duration).toBe(1 + WATERMARK_SECONDS);
    const file = await download(last.output.audio.url);
    expect(Buffer.concat(decodeChunks(stream.frames)).equals(file.bytes)).toBe(true);
    expect(file.bytes.subarray(0, 4).toString("ascii")).toBe("RIFF");
  });

  it("can stream a WAV whose header carries the 0x7FFFFFFF size placeholder", async () => {
    const fake = await startFake({ songSeconds: 1, streamedWavHeader: "placeholder" });
    const stream = await readStream(fake, { prompt: STREAM_PROMPT, format: "wav" });
    const streamed = Buffer.concat(decodeChunks(stream.frames));
    const file = await download(json(stream.frames.at(-1)!.data).output.audio.url);
    expect(streamed.readUInt32LE(40)).toBe(0x7fffffff);
    expect(file.bytes.readUInt32LE(40)).toBe(48_000 * 4);
    expect(streamed.subarray(44).equals(file.bytes.subarray(44))).toBe(true);
  });

  it("accepts Accept: text/event-stream as a request for SSE", async () => {
    const fake = await startFake();
    const res = await callMusic(fake, { prompt: STREAM_PROMPT }, { headers: { accept: "text/event-stream" } });
    expect(res.headers["content-type"]).toBe("text/event-stream;charset=UTF-8");
    expect(parseSse(res.text).at(-1)?.event).toBe("result");
  });
});

// ---------------------------------------------------------------- limits

describe("fake DashScope text limits", () => {
  it("rejects 4 Chinese characters of lyrics and accepts 5 in a plain call", async () => {
    const fake = await startFake();
    const four = await callMusic(fake, { lyrics: "春夏秋冬" });
    expect(four.status).toBe(400);
    expect(json(four.text)).toMatchObject({ code: "InvalidParameter", message: expect.stringContaining("input.lyrics") });
    expect((await callMusic(fake, { lyrics: "春夏秋冬，日" })).status).toBe(200);
  });

  it("rejects 199 English words of lyrics and accepts 200 in a streaming call", async () => {
    const fake = await startFake();
    const short = await readStream(fake, { lyrics: englishWords(199) });
    expect(short.status).toBe(200); // a parameter error from the model arrives inside the stream
    expect(short.frames).toHaveLength(1);
    expect(short.frames[0]!.raw).toMatch(/^id:1\nevent:error\n:HTTP_STATUS\/400\ndata:/);
    expect(json(short.frames[0]!.data)).toMatchObject({ code: "InvalidParameter", message: expect.stringContaining("[200, 250] English words") });

    const enough = await readStream(fake, { lyrics: englishWords(200) });
    expect(enough.status).toBe(200);
    expect(json(enough.frames.at(-1)!.data).output.finish_reason).toBe("stop");
  });

  it("rejects a prompt longer than 2,000 characters in a plain call", async () => {
    const fake = await startFake();
    const res = await callMusic(fake, { prompt: "a".repeat(2001) });
    expect(json(res.text).message).toContain("input.prompt");
    expect((await callMusic(fake, { prompt: "a".repeat(2000) })).status).toBe(200);
  });

  // The counting rules themselves, at every edge of every window the seed states.
  it.each([
    ["lyrics", "non-streaming", "4 Chinese characters", chineseLyrics(4), false],
    ["lyrics", "non-streaming", "5 Chinese characters", chineseLyrics(5), true],
    ["lyrics", "non-streaming", "350 Chinese characters", chineseLyrics(350), true],
    ["lyrics", "non-streaming", "351 Chinese characters", chineseLyrics(351), false],
    ["lyrics", "non-streaming", "4 English characters", "abcd", false],
    ["lyrics", "non-streaming", "5 English characters", "ab cd", true],
    ["lyrics", "non-streaming", "2,000 English characters", "x".repeat(2000), true],
    ["lyrics", "non-streaming", "2,001 English characters", "x".repeat(2001), false],
    ["lyrics", "streaming", "299 Chinese characters", chineseLyrics(299), false],
    ["lyrics", "streaming", "300 Chinese characters", chineseLyrics(300), true],
    ["lyrics", "streaming", "350 Chinese characters", chineseLyrics(350), true],
    ["lyrics", "streaming", "351 Chinese characters", chineseLyrics(351), false],
    ["lyrics", "streaming", "199 English words", englishWords(199), false],
    ["lyrics", "streaming", "200 English words", englishWords(200), true],
    ["lyrics", "streaming", "250 English words", englishWords(250), true],
    ["lyrics", "streaming", "251 English words", englishWords(251), false],
    ["prompt", "non-streaming", "0 characters", "", false],
    ["prompt", "non-streaming", "1 character", "a", true],
    ["prompt", "non-streaming", "2,000 characters", "音".repeat(2000), true],
    ["prompt", "non-streaming", "2,001 characters", "音".repeat(2001), false],
    ["prompt", "streaming", "4 Chinese characters", "夏日民谣", false],
    ["prompt", "streaming", "5 Chinese characters", "夏日清新谣", true],
    ["prompt", "streaming", "4 English words", "one two three four", false],
    ["prompt", "streaming", "5 English words", "one two three four five", true],
    ["prompt", "streaming", "1,000 English words", englishWords(1000), true],
    ["prompt", "streaming", "1,001 English words", englishWords(1001), false],
    ["prompt", "streaming", "1,000 Chinese characters", chineseLyrics(1000), true],
    ["prompt", "streaming", "1,001 Chinese characters", chineseLyrics(1001), false],
  ] as const)("judges %s in a %s call with %s as within limits: %s", (field, mode, _label, text, ok) => {
    expect(findLimitProblem(field, text, mode) === undefined).toBe(ok);
  });

  it("counts Han characters only for Chinese, and every code point for English characters", () => {
    expect(countUnits("[verse]\n春天，来了！", "chinese-characters")).toBe(4);
    expect(countUnits("[verse]\nhi 👋", "english-characters")).toBe(12);
    expect(countUnits("[verse]\ndon't stop - now", "english-words")).toBe(5);
    expect(classifyScript("baby 你好")).toBe("chinese");
    expect(classifyScript("こんにちは")).toBe("english");
  });
});

// ---------------------------------------------------------------- refusals

describe("fake DashScope refusals", () => {
  it("refuses a wrong API key with 401 InvalidApiKey", async () => {
    const fake = await startFake();
    const res = await callMusic(fake, { prompt: "pop" }, { key: "sk-wrong" });
    expect(res.status).toBe(401);
    expect(json(res.text)).toEqual({ request_id: expect.stringMatching(DASHSCOPE_REQUEST_ID), code: "InvalidApiKey", message: "Invalid API-key provided." });
    expect(res.headers["x-request-id"]).toBe(json(res.text).request_id);
  });

  it("refuses a missing API key with 401 InvalidApiKey 'No API-key provided.'", async () => {
    const fake = await startFake();
    const res = await callMusic(fake, { prompt: "pop" }, { key: null });
    expect(res.status).toBe(401);
    expect(json(res.text)).toMatchObject({ code: "InvalidApiKey", message: "No API-key provided." });
  });

  it("refuses a streaming call at the gateway with the error's HTTP status and one SSE error event", async () => {
    const fake = await startFake();
    const stream = await readStream(fake, { prompt: STREAM_PROMPT }, { key: "sk-wrong" });
    expect(stream.status).toBe(401);
    expect(stream.headers["content-type"]).toBe("text/event-stream;charset=UTF-8");
    expect(stream.text).toMatch(/^id:1\nevent:error\n:HTTP_STATUS\/401\ndata:\{"request_id":"[^"]+","code":"InvalidApiKey","message":"Invalid API-key provided\."\}\n\n$/);
  });

  it.each([
    ["an unknown model", { model: "fun-music-v2", input: { prompt: "pop" } }, "InvalidParameter", "Model not exist."],
    ["no model", { input: { prompt: "pop" } }, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.'],
    ["no input", { model: "fun-music-v1" }, "BadRequest.EmptyInput", "Required input parameter missing from request."],
    ["input that is not an object", { model: "fun-music-v1", input: "pop" }, "InvalidParameter", "Input should be a valid dictionary: input"],
    ["neither lyrics nor prompt", { model: "fun-music-v1", input: { gender: "male" } }, "InvalidParameter", FUN_MUSIC_MESSAGES.lyricsOrPromptRequired],
    ["a gender that is not male or female", { model: "fun-music-v1", input: { prompt: "pop", gender: "robot" } }, "InvalidParameter", "Input should be 'male' or 'female': input.gender"],
    ["a format that is not mp3 or wav", { model: "fun-music-v1", input: { prompt: "pop", format: "ogg" } }, "InvalidParameter", "Input should be 'mp3' or 'wav': input.format"],
    ["a watermark flag that is a string", { model: "fun-music-v1", input: { prompt: "pop", enable_aigc_watermark: "true" } }, "InvalidParameter", "Input should be a valid boolean: input.enable_aigc_watermark"],
    ["lyrics that are not a string", { model: "fun-music-v1", input: { lyrics: ["la"] } }, "InvalidParameter", "Input should be a valid string: input.lyrics"],
  ])("refuses %s with 400", async (_name, body, code, message) => {
    const fake = await startFake();
    const res = await callMusic(fake, undefined, { body: JSON.stringify(body) });
    expect(res.status).toBe(400);
    expect(json(res.text)).toMatchObject({ code, message });
  });

  it("refuses a streaming call's bad model before the stream and its bad gender inside a 200 stream", async () => {
    const fake = await startFake();
    const routing = await readStream(fake, { prompt: STREAM_PROMPT }, { model: "fun-music-v2" });
    expect(routing.status).toBe(400);
    expect(routing.frames[0]).toMatchObject({ event: "error", comments: ["HTTP_STATUS/400"] });
    const parameter = await readStream(fake, { prompt: STREAM_PROMPT, gender: "robot" });
    expect(parameter.status).toBe(200);
    expect(parameter.frames).toHaveLength(1);
    expect(parameter.frames[0]).toMatchObject({ id: "1", event: "error", comments: ["HTTP_STATUS/400"] });
    expect(json(parameter.frames[0]!.data)).toMatchObject({ code: "InvalidParameter", message: "Input should be 'male' or 'female': input.gender" });
  });

  it("refuses a body over 8 MiB with 413 BadRequest.TooLarge", async () => {
    const fake = await startFake();
    const res = await callMusic(fake, undefined, { body: JSON.stringify({ model: "fun-music-v1", input: { prompt: "x".repeat(9 * 1024 * 1024) } }) });
    expect(res.status).toBe(413);
    expect(json(res.text).code).toBe("BadRequest.TooLarge");
  });

  it("refuses a body that is not JSON, and a Content-Type that is not application/json", async () => {
    const fake = await startFake();
    const broken = await callMusic(fake, undefined, { body: '{"model": "fun-music-v1",' });
    expect(broken.status).toBe(400);
    expect(json(broken.text)).toMatchObject({ code: "InvalidParameter", message: "Required body invalid, check the request body format." });
    const plain = await callMusic(fake, { prompt: "pop" }, { headers: { "content-type": "text/plain" } });
    expect(plain.status).toBe(400);
    expect(json(plain.text).code).toBe("InvalidParameter");
    const withCharset = await callMusic(fake, { prompt: "pop" }, { headers: { "content-type": "application/json; charset=utf-8" } });
    expect(withCharset.status).toBe(200);
  });

  it("refuses GET on the endpoint and answers 404 NotFound on unknown paths", async () => {
    const fake = await startFake();
    const get = await callMusic(fake, undefined, { method: "GET" });
    expect(get.status).toBe(400);
    expect(json(get.text).message).toBe("Request method 'GET' is not supported.");
    const missing = await callMusic(fake, { prompt: "pop" }, { path: "/services/audio/music/generate" });
    expect(missing.status).toBe(404);
    expect(json(missing.text)).toMatchObject({ code: "NotFound", message: "Request path not found." });
  });
});

// ---------------------------------------------------------------- result URLs

describe("fake DashScope result URLs", () => {
  async function songUrl(fake: FakeDashScope): Promise<string> {
    return json((await callMusic(fake, { prompt: "house music" })).text).output.audio.url as string;
  }

  it("answers 403 with OSS's 'Request has expired.' XML after expireResults", async () => {
    const fake = await startFake();
    const url = await songUrl(fake);
    fake.expireResults();
    const res = await download(url);
    expect(res.status).toBe(403);
    expect(res.headers["content-type"]).toBe("application/xml");
    expect(res.headers["x-oss-ec"]).toBe("0002-00000069");
    const xml = res.bytes.toString("utf8");
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error>\n/);
    expect(xml).toContain("<Code>AccessDenied</Code>");
    expect(xml).toContain("<Message>Request has expired.</Message>");
    expect(xml).toMatch(/<Expires>\d{4}-\d\d-\d\dT[\d:.]+Z<\/Expires>/);
    // URLs issued afterwards are fine.
    expect((await download(await songUrl(fake))).status).toBe(200);
  });

  it("lets URLs expire on their own after resultTtlSeconds", async () => {
    const fake = await startFake({ resultTtlSeconds: 0 });
    const url = await songUrl(fake);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await download(url)).status).toBe(403);
  });

  it("refuses a URL whose signature was changed, or stripped, as OSS does", async () => {
    const fake = await startFake();
    const url = new URL(await songUrl(fake));
    const tampered = new URL(url);
    tampered.searchParams.set("Expires", String(Number(url.searchParams.get("Expires")) + 60));
    const bad = await download(tampered.toString());
    expect(bad.status).toBe(403);
    expect(bad.bytes.toString()).toContain("<Code>SignatureDoesNotMatch</Code>");
    const bare = await download(`${url.origin}${url.pathname}`);
    expect(bare.status).toBe(403);
    expect(bare.bytes.toString()).toContain("<Code>AccessDenied</Code>");
  });

  it("serves byte ranges", async () => {
    const fake = await startFake();
    const url = await songUrl(fake);
    const whole = await download(url);
    const part = await download(url, { range: "bytes=10-19" });
    expect(part.status).toBe(206);
    expect(part.headers["content-range"]).toBe(`bytes 10-19/${whole.bytes.length}`);
    expect(part.bytes.equals(whole.bytes.subarray(10, 20))).toBe(true);
  });
});

// ---------------------------------------------------------------- faults

describe("fake DashScope scripted faults", () => {
  it("answers the next call with a scripted error, Retry-After included, then recovers", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "error", status: 429, code: "Throttling.RateQuota", retryAfterSeconds: 3 });
    const throttled = await callMusic(fake, { prompt: "pop" });
    expect(throttled.status).toBe(429);
    expect(throttled.headers["retry-after"]).toBe("3");
    expect(json(throttled.text)).toEqual({
      request_id: throttled.headers["x-request-id"],
      code: "Throttling.RateQuota",
      message: "Requests rate limit exceeded, please try again later.",
    });
    expect((await callMusic(fake, { prompt: "pop" })).status).toBe(200);
    expect(fake.requests[0]?.fault).toBe("error");
  });

  it("sends a scripted error to an SSE call as one error event under that HTTP status", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "error", status: 503, code: "ModelUnavailable" });
    const stream = await readStream(fake, { prompt: STREAM_PROMPT });
    expect(stream.status).toBe(503);
    expect(stream.frames).toHaveLength(1);
    expect(stream.frames[0]).toMatchObject({ id: "1", event: "error", comments: ["HTTP_STATUS/503"] });
    expect(json(stream.frames[0]!.data)).toMatchObject({ code: "ModelUnavailable", message: "Model is unavailable, try again later." });
  });

  it("sends a scripted in-stream error (throttling) to an SSE call under HTTP 200, unless told otherwise", async () => {
    const fake = await startFake();
    fake.enqueue(
      { kind: "error", status: 429, code: "Throttling.AllocationQuota" },
      { kind: "error", status: 429, code: "Throttling.AllocationQuota", httpStatus: 429 },
    );
    const inStream = await readStream(fake, { prompt: STREAM_PROMPT });
    expect(inStream.status).toBe(200);
    expect(inStream.text).toMatch(/^id:1\nevent:error\n:HTTP_STATUS\/429\ndata:\{"request_id":"[^"]+","code":"Throttling.AllocationQuota","message":"Allocated quota exceeded, please increase your quota limit."\}\n\n$/);
    const forced = await readStream(fake, { prompt: STREAM_PROMPT });
    expect(forced.status).toBe(429);
    expect(forced.frames[0]?.comments).toEqual(["HTTP_STATUS/429"]);
  });

  it("delays the answer by the scripted time", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "delay", ms: 300 });
    const startedAt = Date.now();
    expect((await callMusic(fake, { prompt: "pop" })).status).toBe(200);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(300);
  });

  it("stalls a call until the client gives up, and still closes promptly", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "stall" }, { kind: "stall" });
    await expect(request(musicUrl(fake), { ...callInit(fake, { prompt: "pop" }, {}), headersTimeout: 300 })).rejects.toThrow();
    const hanging = request(musicUrl(fake), callInit(fake, { prompt: "pop" }, {}));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = Date.now();
    await fake.close();
    await expect(hanging).rejects.toThrow();
    expect(Date.now() - closing).toBeLessThan(1000);
    expect(fake.requests.map((r) => r.status)).toEqual([undefined, undefined]);
  });

  it("resets the connection without answering", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "reset" });
    await expect(callMusic(fake, { prompt: "pop" })).rejects.toThrow();
    expect((await callMusic(fake, { prompt: "pop" })).status).toBe(200);
  });

  it("resets a stream after the scripted number of events", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "reset-mid-stream", afterEvents: 2 });
    const stream = await readStream(fake, { prompt: STREAM_PROMPT });
    expect(stream.status).toBe(200);
    expect(stream.failure).toBeDefined();
    expect(stream.frames).toHaveLength(2);
    expect(stream.frames.every((frame) => frame.event === "result")).toBe(true);
  });

  it("resets a plain answer half way through its body", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "reset-mid-stream", afterEvents: 0 });
    await expect(callMusic(fake, { prompt: "pop" })).rejects.toThrow();
  });

  it("sends an error event mid-stream after the scripted number of results, under HTTP 200", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "sse-error-mid-stream", afterEvents: 1, code: "InternalError.Algo", status: 500 });
    const stream = await readStream(fake, { prompt: STREAM_PROMPT });
    expect(stream.status).toBe(200);
    expect(stream.failure).toBeUndefined();
    expect(stream.frames.map((f) => [f.id, f.event, f.comments[0]])).toEqual([
      ["1", "result", "HTTP_STATUS/200"],
      ["2", "error", "HTTP_STATUS/500"],
    ]);
    const error = json(stream.frames[1]!.data);
    expect(error).toEqual({
      request_id: json(stream.frames[0]!.data).request_id,
      code: "InternalError.Algo",
      message: "An internal error has occured during execution, please try again later or contact service support.",
    });
  });

  it.each([
    ["truncated-json", (text: string) => expect(() => JSON.parse(text)).toThrow()],
    ["missing-output", (text: string) => expect(json(text).output).toBeUndefined()],
    ["missing-url", (text: string) => expect(json(text).output.audio.url).toBeUndefined()],
    ["html", (text: string) => expect(text).toContain("<html>")],
  ] as const)("answers a malformed 200 (%s)", async (variant, check) => {
    const fake = await startFake();
    fake.enqueue({ kind: "malformed", variant });
    const res = await callMusic(fake, { prompt: "pop" });
    expect(res.status).toBe(200);
    check(res.text);
  });

  it("breaks the final SSE event of a malformed stream", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "malformed" });
    const stream = await readStream(fake, { prompt: STREAM_PROMPT });
    expect(() => JSON.parse(stream.frames.at(-1)!.data)).toThrow();
    expect(() => JSON.parse(stream.frames[0]!.data)).not.toThrow();
  });

  it("keeps answer faults queued for a valid call, and SSE-only faults for an SSE call", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "malformed" });
    expect((await callMusic(fake, { prompt: "pop", gender: "robot" })).status).toBe(400);
    expect(fake.pendingFaults).toHaveLength(1);
    const malformed = await callMusic(fake, { prompt: "pop" });
    expect(() => JSON.parse(malformed.text)).toThrow();

    fake.enqueue({ kind: "sse-error-mid-stream", afterEvents: 0, code: "ResponseTimeout", status: 500 });
    expect((await callMusic(fake, { prompt: "pop" })).status).toBe(200);
    expect(fake.pendingFaults).toHaveLength(1);
    const stream = await readStream(fake, { prompt: STREAM_PROMPT });
    expect(stream.frames.map((f) => f.event)).toEqual(["error"]);
    expect(json(stream.frames[0]!.data).message).toBe("Response stream timeout");
  });

  it("answers a plain call's scripted error under HTTP 200 when told (httpStatus: 200), body unchanged", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "error", status: 400, code: "InvalidParameter", httpStatus: 200 });
    const res = await callMusic(fake, { prompt: "pop" });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(json(res.text)).toEqual({ request_id: res.headers["x-request-id"], code: "InvalidParameter", message: expect.any(String) });
    expect(fake.billed().songs).toBe(0);
  });

  it("stalls a stream after the scripted number of events, keeping the connection open until the client leaves", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "stall-mid-stream", afterEvents: 2 });
    const res = await request(musicUrl(fake), callInit(fake, { prompt: STREAM_PROMPT }, { sse: true }));
    expect(res.statusCode).toBe(200);
    let text = "";
    const reading = (async () => {
      for await (const chunk of res.body) text += Buffer.from(chunk as Uint8Array).toString("utf8");
    })();
    // Well past generationMs (20 ms): a finished stream would have ended by now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(parseSse(text).map((f) => f.event)).toEqual(["result", "result"]);
    expect(fake.requests[0]).toMatchObject({ fault: "stall-mid-stream", completed: false, events: 2 });
    res.body.destroy();
    await reading.catch(() => undefined);
    expect(fake.billed().songs).toBe(1);
    expect(fake.pendingFaults).toEqual([]);
  });

  it("never gives a stall-mid-stream fault to a plain call", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "stall-mid-stream", afterEvents: 0 });
    expect((await callMusic(fake, { prompt: "pop" })).status).toBe(200);
    expect(fake.pendingFaults).toHaveLength(1);
  });

  it("writes expires_at as a date string in every event (expires-at-date), leaving URL and usage intact", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "malformed", variant: "expires-at-date" }, { kind: "malformed", variant: "expires-at-date" });
    const plain = json((await callMusic(fake, { prompt: "pop" })).text);
    expect(plain.output.audio.expires_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(plain.output.audio.url).toContain("/results/");
    expect(plain.usage.duration).toBe(2);
    const stream = await readStream(fake, { prompt: STREAM_PROMPT });
    expect(stream.frames.map((f) => typeof json(f.data).output.audio.expires_at)).toEqual(stream.frames.map(() => "string"));
  });

  it("counts billed songs: finished, cut off or stalled, but not refused", async () => {
    const fake = await startFake();
    await callMusic(fake, { prompt: "pop" });
    fake.enqueue({ kind: "reset-mid-stream", afterEvents: 0 });
    await expect(callMusic(fake, { prompt: "pop" })).rejects.toThrow();
    await callMusic(fake, { prompt: "pop", gender: "robot" });
    fake.enqueue({ kind: "error", status: 500, code: "InternalError.Algo" });
    await callMusic(fake, { prompt: "pop" });
    expect(fake.billed()).toEqual({ songs: 2, analyses: 0 });
  });

  it("aims a fault at result downloads with path, and leaves downloads alone otherwise", async () => {
    const fake = await startFake();
    const url = json((await callMusic(fake, { prompt: "pop" })).text).output.audio.url as string;

    fake.enqueue({ kind: "error", status: 500, code: "InternalError" });
    expect((await download(url)).status).toBe(200);
    expect(fake.pendingFaults).toHaveLength(1);
    expect((await callMusic(fake, { prompt: "pop" })).status).toBe(500);

    fake.enqueue({ kind: "error", status: 503, code: "ServiceUnavailable", path: "/results" });
    const failed = await download(url);
    expect(failed.status).toBe(503);
    expect(failed.bytes.toString()).toContain("<Code>ServiceUnavailable</Code>");
    expect((await download(url)).status).toBe(200);

    fake.enqueue({ kind: "reset-mid-stream", afterEvents: 0, path: "/results" });
    await expect(download(url)).rejects.toThrow();
    fake.enqueue({ kind: "malformed", path: "/results" });
    expect((await download(url)).bytes.toString()).toContain("<html>");
  });

  it("refuses a fault it could not apply", async () => {
    const fake = await startFake();
    expect(() => fake.enqueue({ kind: "error", status: 200, code: "X" })).toThrow(TypeError);
    expect(() => fake.enqueue({ kind: "reset-mid-stream", afterEvents: -1 })).toThrow(TypeError);
  });
});
