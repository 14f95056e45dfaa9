import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { REST } from "discord.js";
import { afterEach, describe, expect, it } from "vitest";
import { createSemaphore } from "../../src/audio/run.js";
import { multipartBody, UPLOAD_PIECE_BYTES } from "../../src/discord/job-reply.js";
import { discordRestOptions } from "../../src/discord/rest-options.js";
import { postInTurn } from "../../src/discord/song/flow.js";

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const pieces: Buffer[] = [];
  for await (const piece of body) pieces.push(piece);
  return pieces;
}

/** A song-sized buffer whose bytes differ from place to place, so a misplaced piece shows. */
function songBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

describe("multipartBody", () => {
  it("sends the head, the file in pieces of at most UPLOAD_PIECE_BYTES, and the tail", async () => {
    const data = songBytes(3 * UPLOAD_PIECE_BYTES + 123);
    const pieces = await collect(multipartBody(Buffer.from("head"), data, Buffer.from("tail")));
    expect(pieces.map((piece) => piece.length)).toEqual([4, UPLOAD_PIECE_BYTES, UPLOAD_PIECE_BYTES, UPLOAD_PIECE_BYTES, 123, 4]);
    expect(Buffer.concat(pieces).equals(Buffer.concat([Buffer.from("head"), data, Buffer.from("tail")]))).toBe(true);
  });

  it("starts over each time it is iterated, so a retried request sends the whole file again", async () => {
    const body = multipartBody(Buffer.from("h"), songBytes(UPLOAD_PIECE_BYTES + 1), Buffer.from("t"));
    const first = Buffer.concat(await collect(body));
    const second = Buffer.concat(await collect(body));
    expect(second.equals(first)).toBe(true);
    expect(second).toHaveLength(UPLOAD_PIECE_BYTES + 3);
  });

  it("is sent whole again when @discordjs/rest retries a request that timed out", async () => {
    const received: number[] = [];
    const server: Server = createServer((request, response) => {
      let bytes = 0;
      request.on("data", (chunk: Buffer) => (bytes += chunk.length));
      request.on("end", () => {
        received.push(bytes);
        // The first attempt gets no answer: the client's timeout aborts it and it asks again.
        if (received.length > 1) response.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    const rest = new REST({ ...discordRestOptions(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api`), timeout: 500, retries: 1 });
    const head = Buffer.from("--b\r\n\r\n");
    const tail = Buffer.from("\r\n--b--\r\n");
    const data = songBytes(2 * UPLOAD_PIECE_BYTES + 7);
    const length = head.length + data.length + tail.length;

    await rest.patch("/webhooks/1/token/messages/@original", {
      auth: false,
      passThroughBody: true,
      body: multipartBody(head, data, tail),
      headers: { "Content-Type": "multipart/form-data; boundary=b", "Content-Length": String(length) },
    });

    expect(received).toEqual([length, length]);
  });
});

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("postInTurn", () => {
  it("posts a file only while a slot is free; the next one's progress ends only when its turn comes", async () => {
    const uploads = createSemaphore(1);
    const events: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const first = postInTurn(uploads, true, async () => void events.push("first: progress ended"), () => {
      events.push("first: posting");
      return new Promise<void>((resolve) => (releaseFirst = resolve));
    });
    const second = postInTurn(uploads, true, async () => void events.push("second: progress ended"), async () => void events.push("second: posting"));
    await settle();
    // The second still shows its progress (its board keeps editing it) while it waits.
    expect(events).toEqual(["first: progress ended", "first: posting"]);
    expect(uploads.waiting).toBe(1);

    releaseFirst();
    await Promise.all([first, second]);
    expect(events).toEqual(["first: progress ended", "first: posting", "second: progress ended", "second: posting"]);
    expect(uploads.active).toBe(0);
  });

  it("does not make a post without a file (the link only) wait", async () => {
    const uploads = createSemaphore(1);
    let releaseBusy: () => void = () => undefined;
    const busy = uploads.run(() => new Promise<void>((resolve) => (releaseBusy = resolve)));
    const events: string[] = [];
    await postInTurn(uploads, false, async () => void events.push("progress ended"), async () => void events.push("link posted"));
    expect(events).toEqual(["progress ended", "link posted"]);
    releaseBusy();
    await busy;
  });

  it("gives the slot back when a post fails", async () => {
    const uploads = createSemaphore(1);
    await expect(postInTurn(uploads, true, async () => undefined, () => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    expect(uploads.active).toBe(0);
  });
});
