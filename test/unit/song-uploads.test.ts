import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { REST } from "discord.js";
import { afterEach, describe, expect, it } from "vitest";
import { createSemaphore } from "../../src/audio/run.js";
import { multipartBody, UPLOAD_PIECE_BYTES, type JobReply } from "../../src/discord/job-reply.js";
import { discordRestOptions } from "../../src/discord/rest-options.js";
import { withBoundedUploads } from "../../src/discord/song/flow.js";

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

/** A reply whose posts wait until the test lets them finish. */
function heldReply() {
  const calls: string[] = [];
  const releases: Array<() => void> = [];
  const hold = (name: string) => () => {
    calls.push(name);
    return new Promise<void>((resolve) => releases.push(resolve));
  };
  const reply = {
    t: () => "",
    tPublic: () => "",
    tokenValid: () => true,
    edit: hold("edit"),
    editWithFile: hold("editWithFile"),
    followUp: hold("followUp"),
    remove: hold("remove"),
    toChannel: hold("toChannel"),
    toRequester: hold("toRequester"),
  } as unknown as JobReply;
  return { reply, calls, releaseFirst: () => releases.shift()?.() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));
const file = { name: "song.mp3", data: Buffer.from("mp3") };
const message = { content: "", embeds: [], components: [] };

describe("withBoundedUploads", () => {
  it("posts a file only while a slot is free; the next one waits for it", async () => {
    const uploads = createSemaphore(1);
    const a = heldReply();
    const b = heldReply();
    const first = withBoundedUploads(a.reply, uploads).editWithFile(message, file);
    const second = withBoundedUploads(b.reply, uploads).editWithFile(message, file);
    await settle();
    expect(a.calls).toEqual(["editWithFile"]);
    expect(b.calls).toEqual([]);
    expect(uploads.waiting).toBe(1);

    a.releaseFirst();
    await first;
    await settle();
    expect(b.calls).toEqual(["editWithFile"]);
    b.releaseFirst();
    await second;
    expect(uploads.active).toBe(0);
  });

  it("bounds channel posts that carry a file, and nothing else", async () => {
    const uploads = createSemaphore(1);
    const busy = heldReply();
    const pending = withBoundedUploads(busy.reply, uploads).editWithFile(message, file);
    const other = heldReply();
    const bounded = withBoundedUploads(other.reply, uploads);
    void bounded.toChannel({ content: "link only" });
    void bounded.edit({ content: "progress" });
    void bounded.toChannel({ files: [{ attachment: file.data, name: file.name }] });
    await settle();
    expect(other.calls).toEqual(["toChannel", "edit"]);

    busy.releaseFirst();
    await pending;
    await settle();
    expect(other.calls).toEqual(["toChannel", "edit", "toChannel"]);
  });
});
