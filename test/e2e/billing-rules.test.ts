import { ApplicationCommandOptionType } from "discord.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Fault } from "../fakes/dashscope/index.js";
import type { FakeMessageView } from "../fakes/discord/index.js";
import { ledgerRows } from "../../src/usage/index.js";
import { parsedLogs, privateReply, startSandbox, type Sandbox } from "./harness.js";

/**
 * Issue 7, "Billing rules in the DashScope client" and "Input hygiene", through the real bot
 * against the fakes: nothing paid is thrown away, nothing possibly billed is sent twice, and
 * input with nothing visible is refused before any call.
 */

const MUSIC_PATH = "/api/v1/services/audio/music/generation";
const hasSong = (message: FakeMessageView) => message.embeds.length > 0;

/** 220 English words: inside the streaming limits, so the call goes over SSE. */
const streamingLyrics = ["[verse]", ...Array.from({ length: 22 }, () => "one two three four five six seven eight nine ten")].join("\n");

function songOptions(values: Record<string, string>) {
  return Object.entries(values).map(([name, value]) => ({ type: ApplicationCommandOptionType.String, name, value }));
}

describe("billing rules, end to end", () => {
  let sandbox: Sandbox;
  const musicCalls = () => sandbox.dashscope.requests.filter((r) => r.path === MUSIC_PATH);

  beforeAll(async () => {
    sandbox = await startSandbox({
      dashscope: { generationMs: 100, songSeconds: 8 },
      // Small, so a stalled stream is given up quickly once main.ts passes it to generateSong.
      env: { MUSIC_STREAM_IDLE_SECONDS: "2" },
    });
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  async function song(values: Record<string, string>, faults: Fault[] = []) {
    sandbox.dashscope.enqueue(...faults);
    const calls = musicCalls().length;
    const billed = sandbox.dashscope.billed().songs;
    const handle = await sandbox.discord.sendSlashCommand({ name: "song", user: sandbox.discord.createUser(), options: songOptions(values) });
    return { handle, callsMade: () => musicCalls().length - calls, songsBilled: () => sandbox.dashscope.billed().songs - billed };
  }

  it("explains a 200 whose body is an error exactly as it explains the same error over HTTP 400", async () => {
    const over400 = await song({ prompt: "calm piano" }, [{ kind: "error", status: 400, code: "DataInspectionFailed" }]);
    const textOver400 = await privateReply(over400.handle);
    const in200 = await song({ prompt: "calm piano" }, [{ kind: "error", status: 400, code: "DataInspectionFailed", httpStatus: 200 }]);
    const textIn200 = await privateReply(in200.handle);

    expect(musicCalls().at(-1)).toMatchObject({ status: 200, errorCode: "DataInspectionFailed" });
    expect(textIn200).toBe(textOver400);
    expect(textIn200).toMatch(/content check refused/);
    expect(textIn200).not.toMatch(/could not read/);
    expect(in200.callsMade()).toBe(1);
  });

  it("delivers and charges a paid song whose unneeded fields drifted, and logs the drift with its request id", async () => {
    const { handle, songsBilled } = await song({ prompt: "sunny folk" }, [{ kind: "malformed", variant: "expires-at-date" }]);
    const reply = await handle.waitForOriginal(hasSong, 20_000);
    const requestId = musicCalls().at(-1)?.requestId;

    expect(reply.attachments).toHaveLength(1);
    expect(songsBilled()).toBe(1);
    await vi.waitFor(async () => {
      const ledger = await ledgerRows(sandbox.bot.usageStore, { guildId: sandbox.guildId }, "all");
      expect(ledger.find((row) => row.requestId === requestId)).toMatchObject({ outcome: "ok", musicSeconds: 8 });
    });
    const drift = parsedLogs(sandbox).find((line) => String(line.msg).includes("drifted"));
    expect(drift).toMatchObject({ level: 40, requestId, drift: [expect.stringContaining("output.audio.expires_at")] });
  });

  it("refuses lyrics made only of zero-width characters privately, before any call", async () => {
    const { handle, callsMade, songsBilled } = await song({ lyrics: "\u200B\u200B\u200D\u2060\uFEFF\u200C\u200B" });
    expect(await privateReply(handle)).toMatch(/empty once invisible characters.*are removed.*Nothing was sent or charged/);
    expect(callsMade()).toBe(0);
    expect(songsBilled()).toBe(0);
  });

  it("sends the normalized text: BOM, bidi and control characters never reach DashScope", async () => {
    const { handle } = await song({ prompt: "\uFEFFlate\u202E night\u0007 jazz\u200B" });
    await handle.waitForOriginal(hasSong, 20_000);
    expect(musicCalls().at(-1)?.body).toMatchObject({ input: { prompt: "late night jazz" } });
  });

  it("does not re-send a song whose answer broke off mid-body, and tells the user plainly it may have been charged", async () => {
    const { handle, callsMade, songsBilled } = await song({ prompt: "broken radio" }, [{ kind: "reset-mid-stream", afterEvents: 0 }]);
    expect(await privateReply(handle)).toMatch(/can't tell whether it was made.*may have been charged.*not sent again/);
    expect(callsMade()).toBe(1);
    // The fake composed (and DashScope would bill) exactly one song.
    expect(songsBilled()).toBe(1);
    expect(handle.originalDeleted).toBe(true);
  });

  it("gives up a stream that went silent, with a clear message, and does not send it again", async () => {
    const { handle, callsMade, songsBilled } = await song({ lyrics: streamingLyrics }, [{ kind: "stall-mid-stream", afterEvents: 2 }]);
    expect(await privateReply(handle)).toMatch(/sent nothing for \d+ seconds.*stopped waiting.*may have been charged/);
    expect(callsMade()).toBe(1);
    expect(songsBilled()).toBe(1);
    expect(musicCalls().at(-1)).toMatchObject({ sse: true, fault: "stall-mid-stream", completed: false });
  }, 90_000);
});
