import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDownloader, defaultDownloadHosts, isHostAllowed } from "../../src/net/download.js";

let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/small") return void res.end(Buffer.alloc(100, 1));
    if (req.url === "/declared-big") {
      res.writeHead(200, { "content-length": String(10_000) });
      return void res.end(Buffer.alloc(10_000));
    }
    if (req.url === "/chunked-big") {
      res.writeHead(200, { "transfer-encoding": "chunked" });
      for (let i = 0; i < 20; i++) res.write(Buffer.alloc(1000));
      return void res.end();
    }
    if (req.url === "/redirect-out") {
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data" });
      return void res.end();
    }
    if (req.url === "/redirect-in") {
      res.writeHead(302, { location: "/small" });
      return void res.end();
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("host allow-list", () => {
  it.each([
    ["http://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/pre/fun-music/x.mp3?sig=1", true],
    ["https://cdn.discordapp.com/attachments/1/2/voice-message.ogg", true],
    ["https://media.discordapp.net/attachments/1/2/a.mp3", true],
    ["https://aliyuncs.com.evil.example/x.mp3", false],
    ["https://evilaliyuncs.com/x.mp3", false],
    ["http://169.254.169.254/latest/meta-data", false],
    ["file:///etc/passwd", false],
    ["https://cdn.discordapp.com:8443/x", false],
  ])("%s allowed: %s", (url, allowed) => {
    expect(isHostAllowed(new URL(url), defaultDownloadHosts)).toBe(allowed);
  });

  it("allows a configured host only with its exact port", () => {
    expect(isHostAllowed(new URL("http://127.0.0.1:9000/x"), ["127.0.0.1:9000"])).toBe(true);
    expect(isHostAllowed(new URL("http://127.0.0.1:9001/x"), ["127.0.0.1:9000"])).toBe(false);
  });
});

describe("download", () => {
  const host = () => new URL(origin).host;

  it("fetches a file from an allowed host", async () => {
    const download = createDownloader({ allowedHosts: [host()], maxBytes: 1000 });
    expect(await download(`${origin}/small`)).toEqual(Buffer.alloc(100, 1));
  });

  it("refuses a host that is not on the list without connecting", async () => {
    const download = createDownloader({ allowedHosts: ["cdn.discordapp.com"], maxBytes: 1000 });
    await expect(download(`${origin}/small`)).rejects.toMatchObject({ reason: "host-not-allowed" });
  });

  it("refuses a file whose declared length is over the cap", async () => {
    const download = createDownloader({ allowedHosts: [host()], maxBytes: 5000 });
    await expect(download(`${origin}/declared-big`)).rejects.toMatchObject({ reason: "too-large" });
  });

  it("stops reading a chunked file once it passes the cap", async () => {
    const download = createDownloader({ allowedHosts: [host()], maxBytes: 5000 });
    await expect(download(`${origin}/chunked-big`)).rejects.toMatchObject({ reason: "too-large" });
  });

  it("checks every redirect hop against the allow-list", async () => {
    const download = createDownloader({ allowedHosts: [host()], maxBytes: 5000 });
    await expect(download(`${origin}/redirect-out`)).rejects.toMatchObject({ reason: "host-not-allowed" });
    expect(await download(`${origin}/redirect-in`)).toHaveLength(100);
  });

  it("reports an HTTP error status", async () => {
    const download = createDownloader({ allowedHosts: [host()], maxBytes: 5000 });
    await expect(download(`${origin}/missing`)).rejects.toMatchObject({ reason: "http-status", status: 404 });
  });
});
