import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import {
  ALGO_INVALID_PARAMETER,
  MEDIA_MESSAGES,
  QWEN_AUDIO_PATH,
  SECTION_HEADINGS,
  startFakeDashScope,
  tokenizeText,
  type FakeDashScope,
  type FakeDashScopeOptions,
} from "../fakes/dashscope/index.js";

// ---------------------------------------------------------------- helpers

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "audio");
const started: Array<{ close(): Promise<void> }> = [];

async function startFake(options: FakeDashScopeOptions = {}): Promise<FakeDashScope> {
  const fake = await startFakeDashScope({ songSeconds: 2, generationMs: 20, ...options });
  started.push(fake);
  return fake;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((server) => server.close()));
});

/**
 * A stand-in for wherever the bot's audio lives (Discord's CDN in production): serves the audio
 * fixtures by name, plus `/forbidden` (403), `/gone` (404), `/slow` (never answers) and `/big`
 * (11 MB). Counts the requests it gets.
 */
async function startFileServer(): Promise<{ url(name: string): string; hits: string[] }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "/").slice(1));
    hits.push(name);
    if (name === "forbidden") return void res.writeHead(403).end("no");
    if (name === "slow") return; // never answers
    if (name === "big") {
      const big = Buffer.alloc(11 * 1024 * 1024, 0x55);
      return void res.writeHead(200, { "content-type": "audio/mpeg", "content-length": big.length }).end(big);
    }
    readFile(join(FIXTURES, name)).then(
      (bytes) => res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length }).end(bytes),
      () => res.writeHead(404).end("not found"),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  started.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return { url: (name) => `${origin}/${encodeURIComponent(name)}`, hits };
}

type Content = Array<{ audio: string } | { text: string }>;
type Message = { role: "system" | "user" | "assistant"; content: Content };

function ask(audio: string | undefined, text: string, model = "qwen2-audio-instruct", parameters: Record<string, unknown> = {}) {
  const content: Content = audio === undefined ? [{ text }] : [{ audio }, { text }];
  return { model, input: { messages: [{ role: "user", content }] as Message[] }, parameters };
}

type CallOptions = { sse?: boolean; headers?: Record<string, string>; raw?: string };

async function callAudio(fake: FakeDashScope, body: unknown, options: CallOptions = {}) {
  const res = await request(`${fake.baseUrl}${QWEN_AUDIO_PATH}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${fake.apiKey}`,
      "content-type": "application/json",
      ...(options.sse ? { "x-dashscope-sse": "enable" } : {}),
      ...options.headers,
    },
    body: options.raw ?? JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

function json(text: string): any {
  return JSON.parse(text);
}

type SseFrame = { id: string | undefined; event: string | undefined; comments: string[]; data: string };

/** A small SSE reader written for these tests, independent of the bot's parser. */
function parseSse(text: string): SseFrame[] {
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((raw) => {
      const frame: SseFrame = { id: undefined, event: undefined, comments: [], data: "" };
      for (const line of raw.split("\n")) {
        if (line.startsWith(":")) frame.comments.push(line.slice(1));
        else if (line.startsWith("id:")) frame.id = line.slice(3);
        else if (line.startsWith("event:")) frame.event = line.slice(6);
        else if (line.startsWith("data:")) frame.data = line.slice(5);
      }
      return frame;
    });
}

async function streamAudio(fake: FakeDashScope, body: unknown, options: CallOptions = {}) {
  const res = await request(`${fake.baseUrl}${QWEN_AUDIO_PATH}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${fake.apiKey}`,
      "content-type": "application/json",
      "x-dashscope-sse": "enable",
      ...options.headers,
    },
    body: JSON.stringify(body),
  });
  let text = "";
  let failure: unknown;
  try {
    for await (const chunk of res.body) text += Buffer.from(chunk as Uint8Array).toString("utf8");
  } catch (error) {
    failure = error;
  }
  return { status: res.statusCode, headers: res.headers, text, frames: parseSse(text), failure };
}

/** The answer text of a plain call. */
function answerText(text: string): string {
  return json(text).output.choices[0].message.content[0].text;
}

function errorOf(text: string): { code: string; message: string } {
  const { code, message } = json(text) as { code: string; message: string };
  return { code, message };
}

const algo = (message: string) => `${ALGO_INVALID_PARAMETER}${message}`;

// The SDK's form upload (dashscope/utils/oss_utils.py OssUtils.upload), field for field.
type Policy = {
  policy: string;
  signature: string;
  upload_dir: string;
  upload_host: string;
  expire_in_seconds: number;
  max_file_size_mb: number;
  capacity_limit_mb: number;
  oss_access_key_id: string;
  x_oss_object_acl: string;
  x_oss_forbid_overwrite: string;
};

async function getPolicy(fake: FakeDashScope, model = "qwen2-audio-instruct", key: string = fake.apiKey) {
  const res = await request(`${fake.baseUrl}/uploads?action=getPolicy&model=${encodeURIComponent(model)}`, {
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

async function policyFor(fake: FakeDashScope, model = "qwen2-audio-instruct"): Promise<Policy> {
  const answer = await getPolicy(fake, model);
  expect(answer.status).toBe(200);
  return json(answer.text).data as Policy;
}

function sdkFields(policy: Policy, fileName: string, contentType: string): Array<[string, string]> {
  return [
    ["OSSAccessKeyId", policy.oss_access_key_id],
    ["Signature", policy.signature],
    ["policy", policy.policy],
    ["key", `${policy.upload_dir}/${fileName}`],
    ["x-oss-object-acl", policy.x_oss_object_acl],
    ["x-oss-forbid-overwrite", policy.x_oss_forbid_overwrite],
    ["success_action_status", "200"],
    ["x-oss-content-type", contentType],
  ];
}

async function upload(host: string, fields: Array<[string, string]>, file: { bytes: Buffer; name: string } | undefined, fileFirst = false) {
  const form = new FormData();
  const addFile = () => file && form.append("file", new Blob([file.bytes]), file.name);
  if (fileFirst) addFile();
  for (const [name, value] of fields) form.append(name, value);
  if (!fileFirst) addFile();
  const res = await fetch(host, { method: "POST", body: form });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function xmlField(xml: string, name: string): string | undefined {
  return new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)?.[1];
}

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-9[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------- plain calls

describe("fake DashScope Qwen-Audio, plain calls", () => {
  it("answers with the seed's non-streaming body: one choice, an assistant message with a list of {text}, usage and request_id", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const answer = await callAudio(fake, ask(files.url("voice-message.ogg"), "这段音频在说什么?"));
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("application/json");
    const body = json(answer.text);
    expect(Object.keys(body)).toEqual(["output", "usage", "request_id"]);
    expect(body.request_id).toMatch(REQUEST_ID);
    expect(answer.headers["x-request-id"]).toBe(body.request_id);
    expect(body.output.choices).toHaveLength(1);
    expect(Object.keys(body.output.choices[0])).toEqual(["finish_reason", "message"]);
    expect(body.output.choices[0].finish_reason).toBe("stop");
    expect(body.output.choices[0].message).toEqual({ role: "assistant", content: [{ text: expect.any(String) }] });
    expect(Object.keys(body.usage)).toEqual(["output_tokens", "input_tokens", "audio_tokens"]);
  });

  it("fetches the audio from a local HTTP server and reports its probed duration, channels and codec", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const voice = answerText((await callAudio(fake, ask(files.url("voice-message.ogg"), "What is this?"))).text);
    expect(voice).toContain("audio 1: 3.0 s, 1 channel, opus (ogg, 48000 Hz)");
    const music = answerText((await callAudio(fake, ask(files.url("music-clip.mp3"), "What is this?"))).text);
    expect(music).toContain("audio 1: 10.0 s, 2 channels, mp3 (mp3, 44100 Hz)");
    // A streamed WebM has no duration in its header: the fake decodes it to find 3 s.
    const webm = answerText((await callAudio(fake, ask(files.url("screen-clip.webm"), "What is this?"))).text);
    expect(webm).toContain("3.0 s, 1 channel, opus (matroska,webm");
    expect(files.hits).toEqual(["voice-message.ogg", "music-clip.mp3", "screen-clip.webm"]);
    // Different pieces get different fingerprints, so a test can tell which one was analysed.
    expect(voice.match(/fingerprint ([0-9a-f]{8})/)?.[1]).not.toBe(music.match(/fingerprint ([0-9a-f]{8})/)?.[1]);
  });

  it("answers section by section, in the order asked, when the question names the bot's headings", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const question = "Describe this audio. Answer with lines starting Summary:, Language:, Transcript:, Speaker:, Emotion:, Sounds:, Music:";
    const lines = answerText((await callAudio(fake, ask(files.url("music-clip.mp3"), question))).text).split("\n");
    expect(lines.map((line) => line.slice(0, line.indexOf(":")))).toEqual(["Summary", "Language", "Transcript", "Speaker", "Emotion", "Sounds", "Music"]);
    expect(lines[0]).toMatch(/^Summary: Turn 1\. audio 1: 10\.0 s, 2 channels, mp3/);
    expect(lines.at(-1)).toBe("Music: possibly music (stereo)");
    expect(SECTION_HEADINGS).toHaveLength(7);
  });

  it("answers a transcription request with a Transcript line and a translation request with a Translation line", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const transcript = answerText((await callAudio(fake, ask(files.url("memo.m4a"), "Please transcribe this."))).text);
    expect(transcript).toMatch(/^Transcript: \[audio 1, 0\.0-4\.0 s\]/);
    const translation = answerText((await callAudio(fake, ask(files.url("memo.m4a"), "Translate this into French."))).text);
    expect(translation).toMatch(/^Translation \(French\): /);
    expect(translation).toContain("4.0 s, 1 channel, aac");
  });

  it("counts 25 audio tokens a second inside input_tokens, and counts the answer's output tokens", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const usageOf = async (name: string) => json((await callAudio(fake, ask(files.url(name), "What is this?"))).text);
    const tone = await usageOf("tone.flac"); // 2.0 s
    const memo = await usageOf("memo.m4a"); // 4.0 s
    const music = await usageOf("music-clip.mp3"); // 10.03 s
    expect(tone.usage.audio_tokens).toBe(50);
    expect(memo.usage.audio_tokens).toBe(100);
    expect(music.usage.audio_tokens).toBe(251); // ceil(10.03 × 25)
    for (const answer of [tone, memo, music]) {
      expect(answer.usage.input_tokens).toBeGreaterThan(answer.usage.audio_tokens);
      expect(answer.usage.input_tokens - answer.usage.audio_tokens).toBeLessThan(30); // the question and the framing
      expect(answer.usage.output_tokens).toBe(tokenizeText(answer.output.choices[0].message.content[0].text).length);
    }
  });

  it("cuts the answer at max_tokens and says finish_reason length", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const whole = json((await callAudio(fake, ask(files.url("memo.m4a"), "What is this?"))).text);
    const cut = json((await callAudio(fake, ask(files.url("memo.m4a"), "What is this?", "qwen2-audio-instruct", { max_tokens: 5 }))).text);
    expect(cut.output.choices[0].finish_reason).toBe("length");
    expect(cut.usage.output_tokens).toBe(5);
    const wholeText: string = whole.output.choices[0].message.content[0].text;
    expect(cut.output.choices[0].message.content[0].text).toBe(tokenizeText(wholeText).slice(0, 5).join(""));
  });

  it("writes a long answer of at least 1,200 tokens when asked in great detail, within the default max_tokens", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const long = json((await callAudio(fake, ask(files.url("voice-message.ogg"), "Describe it in great detail."))).text);
    expect(long.output.choices[0].finish_reason).toBe("stop");
    expect(long.usage.output_tokens).toBeGreaterThanOrEqual(1200);
    expect(long.usage.output_tokens).toBeLessThanOrEqual(1500);
    expect(long.output.choices[0].message.content[0].text.length).toBeGreaterThan(4000);
  });

  it("mentions the turn number, so a follow-up shows the history was sent", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const first = ask(files.url("tone.flac"), "What is this?");
    const answer = json((await callAudio(fake, first)).text);
    expect(answer.output.choices[0].message.content[0].text).toMatch(/^Turn 1\. /);
    // The seed's multi-turn example: the assistant message goes back as the API gave it.
    first.input.messages.push(answer.output.choices[0].message, { role: "user", content: [{ text: "And what about it?" }] });
    const second = json((await callAudio(fake, first)).text);
    expect(second.output.choices[0].message.content[0].text).toMatch(/^Turn 2\. I heard audio 1: 2\.0 s, 1 channel, flac .* from turn 1\./);
    expect(second.usage.audio_tokens).toBe(50); // the history's audio is heard again
    expect(files.hits).toEqual(["tone.flac", "tone.flac"]);
  });

  it("analyses the fake's own Fun-Music result URL and Base64 data URLs", async () => {
    const [fake, files] = await Promise.all([startFake({ songSeconds: 4 }), startFileServer()]);
    const song = await request(`${fake.baseUrl}/services/audio/music/generation`, {
      method: "POST",
      headers: { authorization: `Bearer ${fake.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "fun-music-v1", input: { prompt: "calm piano" } }),
    });
    const songUrl: string = json(await song.body.text()).output.audio.url;
    expect(answerText((await callAudio(fake, ask(songUrl, "What is this?"))).text)).toContain("4.0 s, 2 channels, mp3");
    const bytes = await readFile(join(FIXTURES, "voice-note.3gp"));
    const inline = answerText((await callAudio(fake, ask(`data:;base64,${bytes.toString("base64")}`, "What is this?"))).text);
    expect(inline).toContain("3.0 s, 1 channel, amr_nb");
    expect(files.hits).toEqual([]);
  });

  it("takes a system message and several audio items, numbering them in order", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const body = {
      model: "qwen-audio-turbo-latest",
      input: {
        messages: [
          { role: "system", content: [{ text: "You are a helpful assistant." }] },
          { role: "user", content: [{ audio: files.url("tone.flac") }, { audio: files.url("memo.m4a") }, { text: "Compare them." }] },
        ],
      },
    };
    const answer = json((await callAudio(fake, body)).text);
    expect(answer.output.choices[0].message.content[0].text).toMatch(/audio 1: 2\.0 s, .*; audio 2: 4\.0 s, /);
    expect(answer.usage.audio_tokens).toBe(150);
  });
});

// ---------------------------------------------------------------- SSE

describe("fake DashScope Qwen-Audio, SSE calls", () => {
  it("streams cumulative text by default, finish_reason \"null\" until the final \"stop\", with usage in every frame", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const plain = json((await callAudio(fake, ask(files.url("memo.m4a"), "What is this?"))).text);
    const stream = await streamAudio(fake, ask(files.url("memo.m4a"), "What is this?"));
    expect(stream.status).toBe(200);
    expect(stream.headers["content-type"]).toBe("text/event-stream;charset=UTF-8");
    expect(stream.frames.length).toBeGreaterThan(3);
    const payloads = stream.frames.map((frame) => json(frame.data));
    stream.frames.forEach((frame, i) => {
      expect(frame).toMatchObject({ id: String(i + 1), event: "result", comments: ["HTTP_STATUS/200"] });
    });
    const texts = payloads.map((p) => p.output.choices[0].message.content[0].text as string);
    texts.slice(1).forEach((text, i) => expect(text.startsWith(texts[i]!)).toBe(true));
    expect(texts.at(-1)).toBe(plain.output.choices[0].message.content[0].text);
    expect(payloads.slice(0, -1).every((p) => p.output.choices[0].finish_reason === "null")).toBe(true);
    expect(payloads.at(-1).output.choices[0].finish_reason).toBe("stop");
    const outputTokens = payloads.map((p) => p.usage.output_tokens as number);
    expect(outputTokens).toEqual([...outputTokens].sort((a, b) => a - b));
    expect(outputTokens.at(-1)).toBe(plain.usage.output_tokens);
    expect(new Set(payloads.map((p) => `${p.usage.input_tokens}/${p.usage.audio_tokens}`))).toEqual(new Set([`${plain.usage.input_tokens}/100`]));
    expect(new Set(payloads.map((p) => p.request_id)).size).toBe(1);
  });

  it("streams only the new text with incremental_output true, adding up to the plain answer", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const plain = answerText((await callAudio(fake, ask(files.url("tone.flac"), "What is this?"))).text);
    const stream = await streamAudio(fake, ask(files.url("tone.flac"), "What is this?", "qwen2-audio-instruct", { incremental_output: true }));
    const deltas = stream.frames.map((frame) => json(frame.data).output.choices[0].message.content[0].text as string);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join("")).toBe(plain);
    expect(deltas.every((delta) => delta.length < plain.length)).toBe(true);
  });

  it("ends a stream cut at max_tokens with finish_reason \"length\"", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const stream = await streamAudio(fake, ask(files.url("tone.flac"), "What is this?", "qwen2-audio-instruct", { max_tokens: 7 }));
    const last = json(stream.frames.at(-1)!.data);
    expect(last.output.choices[0].finish_reason).toBe("length");
    expect(last.usage.output_tokens).toBe(7);
  });

  it("turns SSE on for a text/event-stream request Content-Type, as the seed allows", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const answer = await callAudio(fake, ask(files.url("tone.flac"), "What is this?"), { headers: { "content-type": "text/event-stream" } });
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("text/event-stream;charset=UTF-8");
    expect(parseSse(answer.text).length).toBeGreaterThan(1);
  });

  it("can print content as a bare string, as the seed's SSE example does", async () => {
    const [fake, files] = await Promise.all([startFake({ sseContent: "string" }), startFileServer()]);
    const stream = await streamAudio(fake, ask(files.url("tone.flac"), "What is this?"));
    const content = json(stream.frames.at(-1)!.data).output.choices[0].message.content;
    expect(typeof content).toBe("string");
    expect(content).toContain("2.0 s, 1 channel, flac");
    // Plain calls keep the documented list.
    expect(json((await callAudio(fake, ask(files.url("tone.flac"), "What is this?"))).text).output.choices[0].message.content).toEqual([
      { text: expect.any(String) },
    ]);
  });

  it("reports an audio problem inside an HTTP 200 stream, as one error event, and a bad model before the stream", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const broken = await streamAudio(fake, ask(files.url("corrupt.m4a"), "What is this?"));
    expect(broken.status).toBe(200);
    expect(broken.frames).toHaveLength(1);
    expect(broken.frames[0]).toMatchObject({ id: "1", event: "error", comments: ["HTTP_STATUS/400"] });
    expect(errorOf(broken.frames[0]!.data)).toEqual({ code: "InvalidParameter", message: algo(MEDIA_MESSAGES.brokenAudio) });
    const unknown = await streamAudio(fake, ask(files.url("tone.flac"), "What is this?", "qwen-audio-nonexistent"));
    expect(unknown.status).toBe(400);
    expect(errorOf(unknown.frames[0]!.data)).toEqual({ code: "InvalidParameter", message: "Model not exist." });
  });
});

// ---------------------------------------------------------------- audio limits and errors

describe("fake DashScope Qwen-Audio, audio limits and refusals", () => {
  it("hears only the first 30 s of a 75 s recording, as documented, and counts 750 audio tokens", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const answer = json((await callAudio(fake, ask(files.url("long-recording.ogg"), "What is this?"))).text);
    expect(answer.output.choices[0].message.content[0].text).toContain("audio 1: 30.0 s heard of 75.0 s, 1 channel, opus");
    expect(answer.usage.audio_tokens).toBe(750);
  });

  it("refuses a recording over 30 s with 'The audio is too long' when the fake is told to refuse", async () => {
    const [fake, files] = await Promise.all([startFake({ overlongAudio: "refuse" }), startFileServer()]);
    const refused = await callAudio(fake, ask(files.url("long-recording.ogg"), "What is this?"));
    expect(refused.status).toBe(400);
    expect(errorOf(refused.text)).toEqual({ code: "InvalidParameter", message: algo("The audio is too long") });
    expect((await callAudio(fake, ask(files.url("voice-message.ogg"), "What is this?"))).status).toBe(200);
  });

  it("refuses a corrupt m4a as an illegal audio format, and an image or a text file as unsupported media", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const corrupt = await callAudio(fake, ask(files.url("corrupt.m4a"), "What is this?"));
    expect(corrupt.status).toBe(400);
    expect(errorOf(corrupt.text)).toEqual({ code: "InvalidParameter", message: algo("The audio format is illegal and cannot be opened.") });
    for (const name of ["not-audio.png", "not-audio.txt"]) {
      const refused = await callAudio(fake, ask(files.url(name), "What is this?"));
      expect(refused.status).toBe(400);
      expect(errorOf(refused.text)).toEqual({
        code: "InvalidParameter.DataInspection",
        message: "The media format is not supported or incorrect for the data inspection.",
      });
    }
  });

  it("refuses file:// (which only the SDKs turn into uploads) and other schemes with the invalid-URL error", async () => {
    const fake = await startFake();
    for (const url of ["file:///home/audios/test.wav", "ftp://example.com/a.mp3", "welcome.mp3", "data:audio/mpeg,abc"]) {
      const refused = await callAudio(fake, ask(url, "What is this?"));
      expect(refused.status).toBe(400);
      expect(errorOf(refused.text)).toEqual({
        code: "InvalidParameter",
        message: "<400> InternalError.Algo.InvalidParameter: The provided URL does not appear to be valid. Ensure it is correctly formatted.",
      });
    }
  });

  it("answers the data-inspection errors for a missing file, a forbidden URL, an unreachable host and a slow server", async () => {
    const [fake, files] = await Promise.all([startFake({ mediaDownloadTimeoutMs: 300 }), startFileServer()]);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/a.mp3`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const cases: Array<[string, string]> = [
      [files.url("gone"), MEDIA_MESSAGES.notFound],
      [files.url("forbidden"), MEDIA_MESSAGES.noAuthorization],
      [deadUrl, MEDIA_MESSAGES.unableToDownload],
      [files.url("slow"), MEDIA_MESSAGES.timedOut],
    ];
    for (const [url, message] of cases) {
      const refused = await callAudio(fake, ask(url, "What is this?"));
      expect(refused.status).toBe(400);
      expect(errorOf(refused.text)).toEqual({ code: "InvalidParameter.DataInspection", message });
    }
    expect(MEDIA_MESSAGES.timedOut).toBe("Download the media resource timed out during the data inspection process.");
  });

  it("refuses an audio file over 10 MB with 'Multimodal file size is too large'", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const refused = await callAudio(fake, ask(files.url("big"), "What is this?"));
    expect(refused.status).toBe(400);
    expect(errorOf(refused.text)).toEqual({ code: "InvalidParameter", message: algo("Multimodal file size is too large") });
  });

  it("refuses an unknown model with 'Model not exist.' and serves every documented Qwen-Audio model", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    expect(errorOf((await callAudio(fake, ask(files.url("tone.flac"), "hi", "qwen-vl-plus"))).text)).toEqual({ code: "InvalidParameter", message: "Model not exist." });
    for (const model of ["qwen2-audio-instruct", "qwen-audio-chat", "qwen-audio-turbo", "qwen-audio-turbo-latest", "qwen-audio-turbo-2024-12-04", "qwen-audio-turbo-0807"]) {
      expect((await callAudio(fake, ask(files.url("tone.flac"), "hi", model))).status).toBe(200);
    }
  });

  it("refuses badly shaped messages with the service's messages", async () => {
    const fake = await startFake();
    const withMessages = (messages: unknown) => ({ model: "qwen2-audio-instruct", input: { messages } });
    const cases: Array<[unknown, string]> = [
      [{ model: "qwen2-audio-instruct", input: {} }, 'Either "prompt" or "messages" must exist and cannot both be none'],
      [withMessages([]), "[] is too short"],
      [withMessages([{ role: "user", content: [{ image: "https://example.com/cat.png" }] }]), "The item of content should be a message of a certain modal."],
      [withMessages([{ role: "user", content: [{ text: "a", audio: "b" }] }]), "The item of content should be a message of a certain modal."],
      [withMessages([{ role: "user", content: "just text" }]), "Input should be a valid list: input.messages.0.content"],
      [withMessages([{ role: "user" }]), "The content field is a required field."],
      [withMessages([{ role: "system", content: [{ text: "be nice" }] }]), "The input messages do not contain elements with the role of user."],
      [withMessages([{ role: "user", content: [{ text: "hi" }] }, { role: "assistant", content: [{ text: "hello" }] }]), 'Role must be in ["user","assistant","system"] and the role in last message must be in ["user"]'],
      [withMessages([{ role: "robot", content: [{ text: "hi" }] }]), 'Role must be in ["user","assistant","system"] and the role in last message must be in ["user"]'],
      [withMessages([{ role: "user", content: [{ audio: 42 }] }]), "Input should be a valid string: input.messages.0.content.0.audio"],
    ];
    for (const [body, message] of cases) {
      const refused = await callAudio(fake, body);
      expect(refused.status, message).toBe(400);
      expect(errorOf(refused.text)).toEqual({ code: "InvalidParameter", message: algo(message) });
    }
    expect(errorOf((await callAudio(fake, { model: "qwen2-audio-instruct" })).text).code).toBe("BadRequest.EmptyInput");
    expect(errorOf((await callAudio(fake, { input: {} })).text).code).toBe("BadRequest.EmptyModel");
  });

  it("checks top_p, top_k, max_tokens against the model's output limit, seed and incremental_output", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const withParameters = (parameters: Record<string, unknown>, model = "qwen2-audio-instruct") => ask(files.url("tone.flac"), "hi", model, parameters);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ top_p: 0 }, "Range of top_p should be (0.0, 1.0]"],
      [{ top_p: 1.5 }, "Range of top_p should be (0.0, 1.0]"],
      [{ top_p: "0.8" }, "Input should be a valid number, unable to parse string as a number: parameters.top_p"],
      [{ top_k: -1 }, "Parameter top_k be greater than or equal to 0"],
      [{ max_tokens: 1501 }, "Range of max_tokens should be [1, 1500]"],
      [{ max_tokens: 0 }, "Range of max_tokens should be [1, 1500]"],
      [{ seed: -1 }, "Range of seed should be [0, 9223372036854775807]"],
      [{ incremental_output: "true" }, "Input should be a valid boolean: parameters.incremental_output"],
    ];
    for (const [parameters, message] of cases) {
      const refused = await callAudio(fake, withParameters(parameters));
      expect(errorOf(refused.text), JSON.stringify(parameters)).toEqual({ code: "InvalidParameter", message: algo(message) });
    }
    expect(files.hits).toEqual([]); // parameters are checked before any download
    expect((await callAudio(fake, withParameters({ max_tokens: 2048 }, "qwen-audio-turbo-latest"))).status).toBe(200);
    expect((await callAudio(fake, withParameters({ top_p: 1, top_k: 500, seed: 65535, max_tokens: 1500 }))).status).toBe(200);
  });

  it("refuses input over 6,000 tokens with 'Range of input length should be [1, 6000]'", async () => {
    const fake = await startFake();
    const refused = await callAudio(fake, ask(undefined, "word ".repeat(5000)));
    expect(refused.status).toBe(400);
    expect(errorOf(refused.text)).toEqual({ code: "InvalidParameter", message: algo("Range of input length should be [1, 6000]") });
  });

  it("applies every scripted fault kind to the endpoint", async () => {
    const [fake, files] = await Promise.all([startFake(), startFileServer()]);
    const body = ask(files.url("tone.flac"), "What is this?");
    fake.enqueue({ kind: "error", status: 429, code: "Throttling.RateQuota", retryAfterSeconds: 1 });
    const throttled = await callAudio(fake, body);
    expect(throttled.status).toBe(429);
    expect(throttled.headers["retry-after"]).toBe("1");

    fake.enqueue({ kind: "reset" });
    await expect(callAudio(fake, body)).rejects.toThrow();

    fake.enqueue({ kind: "reset-mid-stream", afterEvents: 2 });
    const cut = await streamAudio(fake, body);
    expect(cut.failure).toBeDefined();
    expect(cut.frames).toHaveLength(2);

    fake.enqueue({ kind: "sse-error-mid-stream", afterEvents: 1, status: 500, code: "InternalError.Algo" });
    const broken = await streamAudio(fake, body);
    expect(broken.frames.map((f) => f.event)).toEqual(["result", "error"]);

    fake.enqueue({ kind: "malformed", variant: "missing-content" });
    expect(json((await callAudio(fake, body)).text).output.choices[0].message).toEqual({ role: "assistant" });

    fake.enqueue({ kind: "malformed", variant: "html" });
    expect((await callAudio(fake, body)).headers["content-type"]).toBe("text/html");

    fake.enqueue({ kind: "delay", ms: 200 });
    const startedAt = Date.now();
    expect((await callAudio(fake, body)).status).toBe(200);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200);
    expect(fake.pendingFaults).toEqual([]);
  });
});

// ---------------------------------------------------------------- temporary storage

describe("fake DashScope temporary storage", () => {
  it("issues an upload policy shaped like the doc's getPolicy answer, pointing at the fake", async () => {
    const fake = await startFake();
    const answer = await getPolicy(fake);
    expect(answer.status).toBe(200);
    const body = json(answer.text);
    expect(Object.keys(body)).toEqual(["request_id", "data"]);
    expect(body.request_id).toMatch(REQUEST_ID);
    expect(body.data).toEqual({
      policy: expect.stringMatching(/^eyJleHBpcmF0aW9u/),
      signature: expect.stringMatching(/^[A-Za-z0-9+/]{27}=$/),
      upload_dir: expect.stringMatching(/^dashscope-instant\/[0-9a-f]{32}\/\d{4}-\d{2}-\d{2}\/[0-9a-f-]{36}$/),
      upload_host: `${fake.origin}/oss-upload`,
      expire_in_seconds: 300,
      max_file_size_mb: 100,
      capacity_limit_mb: 999999999,
      oss_access_key_id: expect.stringMatching(/^LTAI/),
      x_oss_object_acl: "private",
      x_oss_forbid_overwrite: "true",
    });
    const document = JSON.parse(Buffer.from(body.data.policy, "base64").toString("utf8"));
    expect(Date.parse(document.expiration) - Date.now()).toBeGreaterThan(290_000);
    expect(document.conditions).toContainEqual(["starts-with", "$key", body.data.upload_dir]);
    expect(body.data.policy).toMatch(/1ZSJ9XX0=$/); // ends like the doc's sample: …{"x-oss-forbid-overwrite":"true"}]}
    expect(fake.requests.at(-1)).toMatchObject({ method: "GET", path: "/api/v1/uploads", query: "action=getPolicy&model=qwen2-audio-instruct", status: 200 });
  });

  it("takes the SDK's form upload with an empty 200, then serves oss://key to a call that sends X-DashScope-OssResourceResolve", async () => {
    const fake = await startFake();
    const policy = await policyFor(fake);
    const bytes = await readFile(join(FIXTURES, "voice-message.ogg"));
    const uploaded = await upload(policy.upload_host, sdkFields(policy, "voice-message.ogg", "audio/ogg"), { bytes, name: "voice-message.ogg" });
    expect(uploaded.status).toBe(200);
    expect(uploaded.text).toBe("");
    expect(uploaded.headers.get("x-oss-request-id")).toMatch(/^[0-9A-F]{24}$/);
    const key = `${policy.upload_dir}/voice-message.ogg`;
    expect(fake.uploads()).toEqual([{ key, url: `oss://${key}`, bytes, contentType: "audio/ogg", model: "qwen2-audio-instruct", at: expect.any(Number) }]);
    expect(fake.requests.at(-1)).toMatchObject({
      method: "POST",
      path: "/oss-upload",
      status: 200,
      form: { fields: { key, success_action_status: "200" }, file: { filename: "voice-message.ogg", size: bytes.length } },
    });

    const answer = await callAudio(fake, ask(`oss://${key}`, "What is this?"), { headers: { "X-DashScope-OssResourceResolve": "enable" } });
    expect(answer.status).toBe(200);
    expect(answerText(answer.text)).toContain("audio 1: 3.0 s, 1 channel, opus");
  });

  it("refuses oss:// without X-DashScope-OssResourceResolve with the invalid-URL error, as the doc warns", async () => {
    const fake = await startFake();
    const policy = await policyFor(fake);
    const bytes = await readFile(join(FIXTURES, "tone.flac"));
    expect((await upload(policy.upload_host, sdkFields(policy, "tone.flac", "audio/flac"), { bytes, name: "tone.flac" })).status).toBe(200);
    const refused = await callAudio(fake, ask(`oss://${policy.upload_dir}/tone.flac`, "What is this?"));
    expect(refused.status).toBe(400);
    expect(errorOf(refused.text)).toEqual({ code: "InvalidParameter", message: algo(MEDIA_MESSAGES.invalidUrl) });
  });

  it("refuses an oss:// object for a model it was not uploaded for, an unknown key, and objects past their life", async () => {
    const fake = await startFake();
    const policy = await policyFor(fake, "qwen-audio-turbo-latest");
    const bytes = await readFile(join(FIXTURES, "tone.flac"));
    expect((await upload(policy.upload_host, sdkFields(policy, "tone.flac", "audio/flac"), { bytes, name: "tone.flac" })).status).toBe(200);
    const resolve = { headers: { "x-dashscope-ossresourceresolve": "enable" } };
    const url = `oss://${policy.upload_dir}/tone.flac`;
    expect((await callAudio(fake, ask(url, "hi", "qwen-audio-turbo-latest"), resolve)).status).toBe(200);
    expect(errorOf((await callAudio(fake, ask(url, "hi", "qwen2-audio-instruct"), resolve)).text)).toEqual({
      code: "InvalidParameter.DataInspection",
      message: MEDIA_MESSAGES.noAuthorization,
    });
    expect(errorOf((await callAudio(fake, ask(`${url}.missing`, "hi", "qwen-audio-turbo-latest"), resolve)).text).message).toBe(MEDIA_MESSAGES.notFound);
    fake.expireUploads();
    expect(errorOf((await callAudio(fake, ask(url, "hi", "qwen-audio-turbo-latest"), resolve)).text).message).toBe(MEDIA_MESSAGES.notFound);
  });

  it("refuses a tampered signature with OSS's 403 SignatureDoesNotMatch", async () => {
    const fake = await startFake();
    const policy = await policyFor(fake);
    const fields = sdkFields(policy, "tone.flac", "audio/flac").map(([name, value]): [string, string] => [
      name,
      name === "Signature" ? `${value.slice(0, 5)}${value[5] === "A" ? "B" : "A"}${value.slice(6)}` : value,
    ]);
    const refused = await upload(policy.upload_host, fields, { bytes: Buffer.from("x"), name: "tone.flac" });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toBe("application/xml");
    expect(refused.headers.get("server")).toBe("AliyunOSS");
    expect(xmlField(refused.text, "Code")).toBe("SignatureDoesNotMatch");
    expect(xmlField(refused.text, "HostId")).toBe("dashscope-file-mgr.oss-cn-beijing.aliyuncs.com");
    expect(fake.uploads()).toEqual([]);
  });

  it("refuses an expired policy with 403 'Invalid according to Policy: Policy expired.'", async () => {
    const fake = await startFake();
    const policy = await policyFor(fake);
    fake.expireUploadPolicies();
    const refused = await upload(policy.upload_host, sdkFields(policy, "tone.flac", "audio/flac"), { bytes: Buffer.from("x"), name: "tone.flac" });
    expect(refused.status).toBe(403);
    expect(xmlField(refused.text, "Code")).toBe("AccessDenied");
    expect(xmlField(refused.text, "Message")).toBe("Invalid according to Policy: Policy expired.");
    // A fresh policy works again.
    const fresh = await policyFor(fake);
    expect((await upload(fresh.upload_host, sdkFields(fresh, "tone.flac", "audio/flac"), { bytes: Buffer.from("x"), name: "tone.flac" })).status).toBe(200);
  });

  it("refuses a missing field with 400 InvalidArgument naming it, and reads no field after file", async () => {
    const fake = await startFake();
    const policy = await policyFor(fake);
    const file = { bytes: Buffer.from("x"), name: "tone.flac" };
    const withoutKeyId = sdkFields(policy, "tone.flac", "audio/flac").filter(([name]) => name !== "OSSAccessKeyId");
    const refused = await upload(policy.upload_host, withoutKeyId, file);
    expect(refused.status).toBe(400);
    expect(xmlField(refused.text, "Code")).toBe("InvalidArgument");
    expect(xmlField(refused.text, "Message")).toBe("The bucket POST must contain the specified 'OSSAccessKeyId'. If it is specified, please check the order of the fields");
    expect(xmlField(refused.text, "ArgumentName")).toBe("OSSAccessKeyId");
    expect(xmlField(refused.text, "EC")).toBe("0002-00000706");
    expect(refused.headers.get("x-oss-ec")).toBe("0002-00000706");
    // `file` first: OSS reads nothing after it, so every field is "missing".
    const fileFirst = await upload(policy.upload_host, sdkFields(policy, "tone.flac", "audio/flac"), file, true);
    expect(fileFirst.status).toBe(400);
    expect(xmlField(fileFirst.text, "ArgumentName")).toBe("OSSAccessKeyId");
    const noFile = await upload(policy.upload_host, sdkFields(policy, "tone.flac", "audio/flac"), undefined);
    expect(xmlField(noFile.text, "ArgumentName")).toBe("file");
    const notMultipart = await fetch(policy.upload_host, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(notMultipart.status).toBe(400);
    expect(xmlField(await notMultipart.text(), "Code")).toBe("RequestIsNotMultiPartContent");
  });

  it("refuses a key outside upload_dir and a missing x-oss-forbid-overwrite as failed policy conditions", async () => {
    const fake = await startFake();
    const policy = await policyFor(fake);
    const file = { bytes: Buffer.from("x"), name: "tone.flac" };
    const elsewhere = sdkFields(policy, "tone.flac", "audio/flac").map(([name, value]): [string, string] => [name, name === "key" ? "somewhere-else/tone.flac" : value]);
    const outside = await upload(policy.upload_host, elsewhere, file);
    expect(outside.status).toBe(403);
    expect(xmlField(outside.text, "Message")).toBe(`Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "${policy.upload_dir}"]`);
    const noForbid = sdkFields(policy, "tone.flac", "audio/flac").filter(([name]) => name !== "x-oss-forbid-overwrite");
    const refused = await upload(policy.upload_host, noForbid, file);
    expect(refused.status).toBe(403);
    expect(xmlField(refused.text, "Message")).toBe('Invalid according to Policy: Policy Condition failed: ["eq", "$x-oss-forbid-overwrite", "true"]');
  });

  it("refuses a file over max_file_size_mb with 400 EntityTooLarge", async () => {
    const fake = await startFake({ uploadMaxFileSizeMb: 1 });
    const policy = await policyFor(fake);
    expect(policy.max_file_size_mb).toBe(1);
    const justOver = await upload(policy.upload_host, sdkFields(policy, "a.wav", "audio/wav"), { bytes: Buffer.alloc(1024 * 1024 + 1), name: "a.wav" });
    expect(justOver.status).toBe(400);
    expect(xmlField(justOver.text, "Code")).toBe("EntityTooLarge");
    // Far over: the fake stops keeping the body, and still answers the same.
    const farOver = await upload(policy.upload_host, sdkFields(policy, "b.wav", "audio/wav"), { bytes: Buffer.alloc(3 * 1024 * 1024), name: "b.wav" });
    expect(xmlField(farOver.text, "Code")).toBe("EntityTooLarge");
    const atLimit = await upload(policy.upload_host, sdkFields(policy, "c.wav", "audio/wav"), { bytes: Buffer.alloc(1024 * 1024), name: "c.wav" });
    expect(atLimit.status).toBe(200);
  });

  it("refuses a second upload to the same key with 409 FileAlreadyExists, as x-oss-forbid-overwrite asks", async () => {
    const fake = await startFake();
    const policy = await policyFor(fake);
    const file = { bytes: Buffer.from("first"), name: "tone.flac" };
    expect((await upload(policy.upload_host, sdkFields(policy, "tone.flac", "audio/flac"), file)).status).toBe(200);
    const again = await upload(policy.upload_host, sdkFields(policy, "tone.flac", "audio/flac"), { bytes: Buffer.from("second"), name: "tone.flac" });
    expect(again.status).toBe(409);
    expect(xmlField(again.text, "Code")).toBe("FileAlreadyExists");
    expect(xmlField(again.text, "Message")).toBe("The object you specified already exists and can not be overwritten.");
    expect(fake.uploads().map((u) => u.bytes.toString())).toEqual(["first"]);
  });

  it("answers 204 when success_action_status is missing, as OSS does, which the SDK treats as a failure", async () => {
    const fake = await startFake();
    const policy = await policyFor(fake);
    const fields = sdkFields(policy, "tone.flac", "audio/flac").filter(([name]) => name !== "success_action_status");
    const answer = await upload(policy.upload_host, fields, { bytes: Buffer.from("x"), name: "tone.flac" });
    expect(answer.status).toBe(204);
    expect(fake.uploads()).toHaveLength(1);
  });

  it("refuses getPolicy with a wrong key, an unknown model, or another action", async () => {
    const fake = await startFake();
    const wrongKey = await getPolicy(fake, "qwen2-audio-instruct", "sk-wrong");
    expect(wrongKey.status).toBe(401);
    expect(errorOf(wrongKey.text)).toEqual({ code: "InvalidApiKey", message: "Invalid API-key provided." });
    const unknown = await getPolicy(fake, "no-such-model");
    expect(unknown.status).toBe(400);
    expect(errorOf(unknown.text)).toEqual({ code: "InvalidParameter", message: "Model not exist." });
    const res = await request(`${fake.baseUrl}/uploads?action=list&model=qwen2-audio-instruct`, { headers: { authorization: `Bearer ${fake.apiKey}` } });
    expect(res.statusCode).toBe(400);
    await res.body.dump();
  });

  it("aims faults at uploads only with path /oss-upload, and at getPolicy like any API call", async () => {
    const fake = await startFake();
    fake.enqueue({ kind: "error", status: 429, code: "Throttling.RateQuota" });
    expect((await getPolicy(fake)).status).toBe(429);
    const policy = await policyFor(fake);
    fake.enqueue({ kind: "error", status: 503, code: "ServiceUnavailable", path: "/oss-upload" });
    fake.enqueue({ kind: "error", status: 500, code: "InternalError" }); // untargeted: not for OSS
    const refused = await upload(policy.upload_host, sdkFields(policy, "tone.flac", "audio/flac"), { bytes: Buffer.from("x"), name: "tone.flac" });
    expect(refused.status).toBe(503);
    expect(xmlField(refused.text, "Code")).toBe("ServiceUnavailable");
    expect((await upload(policy.upload_host, sdkFields(policy, "tone.flac", "audio/flac"), { bytes: Buffer.from("x"), name: "tone.flac" })).status).toBe(200);
    expect(fake.pendingFaults).toHaveLength(1);
  });
});
