import { describe, expect, it } from "vitest";
import { createSseParser, parseSseStream, parseSseText, SseFrameTooLargeError, type SseFrame } from "../../src/dashscope/sse.js";

const encoder = new TextEncoder();

/** Feeds `bytes` to a fresh parser cut at the given offsets. */
function parseSplit(bytes: Uint8Array, cuts: number[]): SseFrame[] {
  const parser = createSseParser();
  const frames: SseFrame[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    frames.push(...parser.push(bytes.subarray(start, cut)));
    start = cut;
  }
  frames.push(...parser.end());
  return frames;
}

/** A small deterministic PRNG (mulberry32), so a failing split can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// DashScope's own framing (Go SDK test server; seed qwen-audio-api.zh.txt), mixed with every
// line ending, multi-byte UTF-8 (3-byte Han, 4-byte emoji) and a final event with no blank line.
const dashscopeStream =
  'id:1\nevent:result\n:HTTP_STATUS/200\ndata:{"output":{"text":"这段音频"},"request_id":"r1"}\n\n' +
  "id: 2\r\nevent: result\r\n: keep-alive comment\r\ndata: first line 🎵\r\ndata:second line\r\n\r\n" +
  "id:3\revent:error\r:HTTP_STATUS/400\rdata:{\"code\":\"InvalidParameter\",\"message\":\"歌词太短\"}\r\r" +
  "event:result\ndata:final without blank line";

const expected: SseFrame[] = [
  { id: "1", event: "result", httpStatus: 200, data: '{"output":{"text":"这段音频"},"request_id":"r1"}' },
  { id: "2", event: "result", httpStatus: undefined, data: "first line 🎵\nsecond line" },
  { id: "3", event: "error", httpStatus: 400, data: '{"code":"InvalidParameter","message":"歌词太短"}' },
  { id: undefined, event: "result", httpStatus: undefined, data: "final without blank line" },
];

describe("SSE parser", () => {
  it("reads DashScope frames with LF, CRLF and CR line ends, comments and a final unterminated event", () => {
    expect(parseSseText(dashscopeStream)).toEqual(expected);
  });

  it("gives the same frames for every single split point of the byte stream", () => {
    const bytes = encoder.encode(dashscopeStream);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(parseSplit(bytes, [cut]), `split at byte ${cut}`).toEqual(expected);
    }
  });

  it("gives the same frames for every pair of split points", () => {
    // Pairs catch what single splits can't: a 4-byte emoji cut twice, or `\r` alone in a chunk.
    const bytes = encoder.encode(dashscopeStream.slice(60, 200));
    const whole = parseSplit(bytes, []);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const frames = parseSplit(bytes, [i, j]);
        if (JSON.stringify(frames) !== JSON.stringify(whole)) {
          expect(frames, `splits at ${i} and ${j}`).toEqual(whole);
        }
      }
    }
  });

  it("gives the same frames when fed one byte at a time and in random chunks", () => {
    const bytes = encoder.encode(dashscopeStream);
    expect(parseSplit(bytes, Array.from({ length: bytes.length }, (_, i) => i))).toEqual(expected);
    const random = prng(20260330);
    for (let round = 0; round < 300; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * bytes.length)).sort(
        (a, b) => a - b,
      );
      expect(parseSplit(bytes, cuts), `cuts ${cuts.join(",")}`).toEqual(expected);
    }
  });

  it("treats a CR at the end of a chunk and an LF at the start of the next as one line break", () => {
    const parser = createSseParser();
    expect(parser.push("data:a\r")).toEqual([]);
    // If the LF were a second line break, this would dispatch an event now.
    expect(parser.push("\ndata:b\r")).toEqual([]);
    expect(parser.push("\n\r\n")).toEqual([{ id: undefined, event: "message", httpStatus: undefined, data: "a\nb" }]);
  });

  it("accepts fields with or without a space after the colon, and keeps further spaces", () => {
    expect(parseSseText("data:  two spaces\nevent:x\n\n")).toEqual([
      { id: undefined, event: "x", httpStatus: undefined, data: " two spaces" },
    ]);
  });

  it("reads a status glued onto the event name and a status field", () => {
    expect(parseSseText("event:result:HTTP_STATUS/200\ndata:{}\n\nstatus: 429\ndata:{}\n\n")).toEqual([
      { id: undefined, event: "result", httpStatus: 200, data: "{}" },
      { id: undefined, event: "message", httpStatus: 429, data: "{}" },
    ]);
  });

  it("does not dispatch events without data, and keeps an empty data line", () => {
    expect(parseSseText("id:7\nevent:ping\n\n:only a comment\n\ndata:\n\n")).toEqual([
      { id: undefined, event: "message", httpStatus: undefined, data: "" },
    ]);
  });

  it("drops a UTF-8 byte order mark at the start of the stream", () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode("data:x\n\n")]);
    expect(parseSplit(bytes, [1, 2])).toEqual([{ id: undefined, event: "message", httpStatus: undefined, data: "x" }]);
  });

  it("refuses an event larger than its cap instead of growing without end", () => {
    const parser = createSseParser({ maxEventChars: 10 });
    expect(() => parser.push("data:0123456789ABCDEF")).toThrow(SseFrameTooLargeError);
  });

  it("parses an async byte stream", async () => {
    async function* chunks() {
      const bytes = encoder.encode(dashscopeStream);
      for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
    }
    const frames: SseFrame[] = [];
    for await (const frame of parseSseStream(chunks())) frames.push(frame);
    expect(frames).toEqual(expected);
  });
});
