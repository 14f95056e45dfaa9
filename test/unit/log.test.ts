import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { chooseLogFormat, createLogger, scrubSecrets } from "../../src/log.js";

function memoryLogger(secrets: string[]) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { logger: createLogger({ level: "trace", secrets, destination }), lines };
}

describe("logs never hold secrets", () => {
  const token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.discord-bot-token-value";
  const apiKey = "sk-0123456789abcdef";

  it("redacts credentials by field name", () => {
    const { logger, lines } = memoryLogger([]);
    logger.info({ token: "abc", headers: { authorization: "Bearer xyz" }, config: { dashscopeApiKey: "k" } }, "call");
    expect(lines.join("")).not.toMatch(/"abc"|Bearer xyz|"k"/);
    expect(lines.join("")).toContain("[redacted]");
  });

  it("scrubs the literal token and API key wherever they appear, even inside error messages", () => {
    const { logger, lines } = memoryLogger([token, apiKey]);
    logger.error({ err: new Error(`request failed with key ${apiKey}`), url: `https://x/?t=${token}` }, `login with ${token}`);
    const output = lines.join("");
    expect(output).not.toContain(token);
    expect(output).not.toContain(apiKey);
    expect(output).toContain("[redacted]");
  });

  it("scrubs interaction tokens out of webhook and callback paths", () => {
    const scrubbed = scrubSecrets("PATCH /api/v10/webhooks/123456789012345678/aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnRva2Vu/messages/@original", []);
    expect(scrubbed).toBe("PATCH /api/v10/webhooks/123456789012345678/[redacted]/messages/@original");
  });

  it("leaves the uploaded file out of a logged Discord error, keeping its code and status", () => {
    const { logger, lines } = memoryLogger([]);
    const error = Object.assign(new Error("Request entity too large"), { code: 40005, status: 413, requestBody: { files: [{ name: "song.mp3", data: Buffer.alloc(200_000, 7) }], json: {} } });
    logger.error({ err: error }, "posting the song failed");
    const line = lines.join("");
    expect(line.length).toBeLessThan(5_000);
    expect(JSON.parse(line).err).toMatchObject({ code: 40005, status: 413, message: "Request entity too large" });
  });
});

describe("readable logs in a terminal", () => {
  const token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.discord-bot-token-value";
  const apiKey = "sk-0123456789abcdef";

  function prettyLogger(secrets: string[]) {
    const chunks: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, callback) {
        chunks.push(String(chunk));
        callback();
      },
    });
    return { logger: createLogger({ level: "info", secrets, format: "pretty", destination, colorize: false }), chunks };
  }

  it("are pretty when LOG_FORMAT says so or standard output is a terminal, and JSON otherwise", () => {
    expect(chooseLogFormat("pretty", false)).toBe("pretty");
    expect(chooseLogFormat("json", true)).toBe("json");
    expect(chooseLogFormat(undefined, true)).toBe("pretty");
    expect(chooseLogFormat(undefined, false)).toBe("json");
  });

  it("reads as text, level and message first, with the fields below", () => {
    const { logger, chunks } = prettyLogger([]);
    logger.info({ requestId: "req-42" }, "song delivered");
    const output = chunks.join("");
    expect(output).toMatch(/INFO.*: song delivered\n/);
    expect(output).toContain('requestId: "req-42"');
    expect(() => JSON.parse(output)).toThrow();
  });

  it("still scrubs the token, the API key and interaction tokens, by field and by value", () => {
    const { logger, chunks } = prettyLogger([token, apiKey]);
    logger.error(
      { err: new Error(`request failed with key ${apiKey}`), token: "field-secret", url: "/api/v10/webhooks/123456789012345678/aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnRva2Vu/messages/@original" },
      `login with ${token}`,
    );
    const output = chunks.join("");
    expect(output).not.toContain(token);
    expect(output).not.toContain(apiKey);
    expect(output).not.toContain("field-secret");
    expect(output).not.toContain("aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OnRva2Vu");
    expect(output).toContain("login with [redacted]");
  });
});
