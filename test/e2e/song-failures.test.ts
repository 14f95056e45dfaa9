import { ApplicationCommandOptionType, MessageFlags } from "discord.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Fault } from "../fakes/dashscope/index.js";
import type { FakeMessageView, InteractionHandle } from "../fakes/discord/index.js";
import { ledgerRows } from "../../src/usage/index.js";
import { parsedLogs, startSandbox, type Sandbox } from "./harness.js";

const MUSIC_PATH = "/api/v1/services/audio/music/generation";
const hasSong = (message: FakeMessageView) => message.embeds.length > 0;

function promptOptions(prompt: string, extra: Record<string, string> = {}) {
  return Object.entries({ prompt, ...extra }).map(([name, value]) => ({ type: ApplicationCommandOptionType.String, name, value }));
}

/** 220 English words: inside the streaming limits, so the call goes over SSE. */
const streamingLyrics = ["[verse]", ...Array.from({ length: 22 }, () => "one two three four five six seven eight nine ten")].join("\\n");

async function privateFailure(handle: InteractionHandle): Promise<string> {
  const message = await handle.waitForFollowup((m) => m.ephemeral, 20_000);
  expect(message.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  // The public "thinking…" reply is removed, so nothing is left hanging in the channel.
  expect(handle.originalDeleted).toBe(true);
  return message.content;
}

describe("/song when things go wrong", () => {
  let sandbox: Sandbox;
  const musicCalls = () => sandbox.dashscope.requests.filter((r) => r.path === MUSIC_PATH);

  beforeAll(async () => {
    // Short, so the stalled call below is given up soon; long enough that a loaded machine (load 13
    // on two cores was seen) finishes every other call within it.
    sandbox = await startSandbox({ dashscope: { generationMs: 100, songSeconds: 8 }, env: { MUSIC_TIMEOUT_SECONDS: "8" } });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  async function songWith(faults: Fault[], options = promptOptions("calm piano")) {
    sandbox.dashscope.enqueue(...faults);
    const before = musicCalls().length;
    const handle = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options });
    return { handle, callsMade: () => musicCalls().length - before };
  }

  it.each([
    ["a refused API key", { kind: "error", status: 401, code: "InvalidApiKey" }, /API key was refused.*admin/],
    ["an account without access", { kind: "error", status: 403, code: "Model.AccessDenied" }, /no access to this model.*request access/],
    ["an overdue account", { kind: "error", status: 400, code: "Arrearage" }, /out of credit.*top it up/],
    ["a content-check refusal", { kind: "error", status: 400, code: "DataInspectionFailed" }, /content check refused/],
    ["an invalid parameter", { kind: "error", status: 400, code: "InvalidParameter" }, /refused the request as invalid.*reference/],
    ["a malformed answer", { kind: "malformed" }, /could not read/],
  ] as Array<[string, Fault, RegExp]>)("explains %s privately, without retrying", async (_label, fault, expected) => {
    const { handle, callsMade } = await songWith([fault]);
    expect(await privateFailure(handle)).toMatch(expected);
    expect(callsMade()).toBe(1);
  });

  it("retries throttling after the Retry-After the service asked for, then delivers", async () => {
    const { handle, callsMade } = await songWith([{ kind: "error", status: 429, code: "Throttling.RateQuota", retryAfterSeconds: 1 }]);
    const reply = await handle.waitForOriginal(hasSong, 20_000);
    expect(reply.attachments).toHaveLength(1);
    expect(callsMade()).toBe(2);
    const [first, second] = musicCalls().slice(-2);
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  // A refused connection (never sent) is retried: see test/unit/dashscope-client.test.ts, which
  // can refuse a real connection; the fake only sees requests that arrived.
  it("does not re-send a song whose connection reset after it was sent, and says it may have been charged", async () => {
    const { handle, callsMade } = await songWith([{ kind: "reset" }]);
    expect(await privateFailure(handle)).toMatch(/broke after your request was sent.*may have been charged.*not sent again/);
    expect(callsMade()).toBe(1);
  });

  it("gives up after repeated internal errors and says so", async () => {
    const internal: Fault = { kind: "error", status: 500, code: "InternalError" };
    const { handle, callsMade } = await songWith([internal, internal, internal]);
    expect(await privateFailure(handle)).toMatch(/internal problem/);
    expect(callsMade()).toBe(3);
  });

  it("does not retry a stream that failed after it started, since that would bill a second song", async () => {
    const { handle, callsMade } = await songWith(
      [{ kind: "sse-error-mid-stream", afterEvents: 2, code: "InternalError.Algo", status: 500 }],
      [{ type: ApplicationCommandOptionType.String, name: "lyrics", value: streamingLyrics }],
    );
    expect(await privateFailure(handle)).toMatch(/internal problem/);
    expect(callsMade()).toBe(1);
  });

  it("tells the user when DashScope takes longer than the configured limit, and that it may have been charged", async () => {
    const { handle, callsMade } = await songWith([{ kind: "stall" }]);
    expect(await privateFailure(handle)).toMatch(/took longer than the bot waits.*may have been charged/);
    expect(callsMade()).toBe(1);
  });

  it("still delivers, and records, a paid song whose file can't be downloaded", async () => {
    const { handle } = await songWith([{ kind: "reset", path: "/results" }]);
    const reply = await handle.waitForOriginal(hasSong, 20_000);
    const billed = musicCalls().at(-1)?.requestId;
    // The delivery is recorded just after the reply is posted.
    await vi.waitFor(async () => {
      const ledger = await ledgerRows(sandbox.bot.usageStore, { guildId: sandbox.guildId }, "all");
      expect(ledger.find((row) => row.requestId === billed)).toMatchObject({ outcome: "ok", musicSeconds: 8, bytesDelivered: 0 });
    });
    expect(reply.attachments).toHaveLength(0);
    expect(reply.content).toMatch(/could not fetch the file.*\]\(http:\/\/127\.0\.0\.1:\d+\/results\/.*expires <t:\d+:R>/s);
  });

  it("re-encodes a wav over the server's upload limit into an mp3 that fits, and links the original", async () => {
    const limit = 1_000_000;
    const handle = await sandbox.discord.sendSlashCommand({
      name: "song",
      user: sandbox.discord.createUser(),
      attachmentSizeLimit: limit,
      options: promptOptions("big band swing", { format: "wav" }),
    });
    const reply = await handle.waitForOriginal(hasSong, 30_000);
    expect(reply.attachments).toHaveLength(1);
    expect(reply.attachments[0]?.filename).toBe("big-band-swing.mp3");
    expect(reply.attachments[0]?.size).toBeLessThanOrEqual(limit);
    expect(reply.content).toMatch(/larger than this server's 0\.95 MB upload limit.*re-encoded at \d+ kbps.*\[here\]\(http/s);
    expect(handle.requests().some((r) => r.status === 413)).toBe(false);
  });

  it("posts only the link, with its expiry, when even the smallest encoding can't fit", async () => {
    const handle = await sandbox.discord.sendSlashCommand({
      name: "song",
      user: sandbox.discord.createUser(),
      attachmentSizeLimit: 10_000,
      options: promptOptions("tiny limit"),
    });
    const reply = await handle.waitForOriginal(hasSong, 30_000);
    expect(reply.attachments).toHaveLength(0);
    expect(reply.content).toMatch(/could not be made small enough.*\[here\]\(http:\/\/127\.0\.0\.1:\d+\/results\/.*<t:\d+:R>/s);
    expect(handle.requests().some((r) => r.status === 413)).toBe(false);
  });

  it("logs each failure with its DashScope code and a reference, and never the secrets", () => {
    // Refusals before the job (the input checks) fail the interaction; failed calls fail the job.
    const failures = parsedLogs(sandbox).filter((line) => line.msg === "interaction failed" || line.msg === "job failed" || line.msg === "job interrupted");
    expect(failures.length).toBeGreaterThanOrEqual(9);
    for (const line of failures) {
      expect(line).toMatchObject({ reference: expect.any(String), interactionId: expect.any(String) });
    }
    expect(failures.map((line) => (line.dashscope as { code?: string } | undefined)?.code)).toEqual(
      expect.arrayContaining(["InvalidApiKey", "Arrearage", "OutcomeUnknown", "InternalError.Algo"]),
    );
    const everything = sandbox.logLines.join("");
    expect(everything).not.toContain(sandbox.discord.token);
    expect(everything).not.toContain(sandbox.dashscope.apiKey);
  });
});
