import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { AudioPiece, AudioTools, SplitOptions } from "../../src/audio/tools.js";
import type { AskPiecesDeps } from "../../src/analysis/ask-pieces.js";
import { gapsBetween, prepareAndAsk } from "../../src/analysis/prepare-and-ask.js";
import type { PrepareDeps, PrepareLimits } from "../../src/analysis/prepare.js";
import type { AskQwenAudioOptions } from "../../src/dashscope/audio-types.js";
import { createLogger } from "../../src/log.js";

/*
 * The pipelined analysis of a long recording with stand-ins for ffmpeg, the upload and the model,
 * so that the order of events can be checked: parts are asked while later parts are still being
 * made, never more at once than allowed. No test here looks at a clock.
 */

const source = { name: "long.ogg", url: "https://cdn.discordapp.com/long.ogg", contentType: "audio/ogg", sizeBytes: 1000, durationSeconds: 150, isVoiceMessage: false };
const limits: PrepareLimits = { maxDownloadBytes: 10_000, maxPieces: 10, uploadConcurrency: 2, sendDiscordLinks: false };

type Events = string[];

/** A split that writes `count` 30 s pieces one after another, then fails if told to. */
function splittingTools(events: Events, count: number, failAfter?: number): Pick<AudioTools, "probe" | "split"> {
  return {
    probe: async () => ({ format: "ogg", codec: "opus", durationSeconds: count * 30, sampleRate: 48_000, channels: 1, bitRate: 32_000, sizeBytes: 1000, hasVideo: false }),
    split: async (_input: Buffer, _seconds: number, _target: unknown, options?: SplitOptions) => {
      const pieces: AudioPiece[] = [];
      for (let index = 0; index < count; index++) {
        await sleep(5);
        if (index === failAfter) {
          events.push("split failed");
          throw new Error("ffmpeg died");
        }
        const piece = { startSeconds: index * 30, endSeconds: (index + 1) * 30, audio: Buffer.from(`piece ${index}`) };
        pieces.push(piece);
        events.push(`piece ${index} written`);
        options?.onPiece?.(piece, index);
      }
      events.push("split done");
      return pieces;
    },
  };
}

function deps(events: Events, tools: Pick<AudioTools, "probe" | "split">, concurrency: number) {
  let inFlight = 0;
  const peak = { asks: 0 };
  const prepare: PrepareDeps = {
    download: async () => Buffer.from("audio"),
    audioTools: tools,
    upload: async (file) => {
      await sleep(2);
      return { url: `oss://dir/${file.fileName}`, expiresAt: undefined };
    },
    log: createLogger({ level: "silent", secrets: [] }),
  };
  const ask: AskPiecesDeps = {
    ask: async (options: AskQwenAudioOptions) => {
      const audio = JSON.stringify(options.messages).match(/part(\d+)/)?.[1];
      events.push(`ask part ${audio}`);
      peak.asks = Math.max(peak.asks, ++inFlight);
      await sleep(20);
      inFlight--;
      return { text: `Summary: part ${audio}`, finishReason: "stop", usage: { inputTokens: 10, outputTokens: 5, audioTokens: 100 }, requestId: `r${audio}` };
    },
    fitToBudget: (messages) => messages,
    model: "qwen2-audio-instruct",
    concurrency,
    timeoutMs: 10_000,
  };
  return { deps: { prepare, ask }, peak };
}

describe("preparing and asking a long recording", () => {
  it("asks the first part before the last one is written, and asks every part once", async () => {
    const events: Events = [];
    const { deps: d } = deps(events, splittingTools(events, 6), 11);
    const progress: Array<[number, number]> = [];

    const analysed = await prepareAndAsk(source, { kind: "overview" }, "English", d, limits, { onPieceDone: (done, total) => progress.push([done, total]) });

    expect(events.indexOf("ask part 1")).toBeGreaterThan(-1);
    expect(events.indexOf("ask part 1")).toBeLessThan(events.indexOf("split done"));
    expect(events.filter((event) => event.startsWith("ask")).sort()).toEqual([1, 2, 3, 4, 5, 6].map((n) => `ask part ${n}`));
    expect(analysed.pieces.map((piece) => piece.startSeconds)).toEqual([0, 30, 60, 90, 120, 150]);
    expect(analysed.pieces.every((piece) => piece.history.length === 3)).toBe(true);
    expect(analysed.result.answers.map((answer) => answer.startSeconds)).toEqual([0, 30, 60, 90, 120, 150]);
    expect(analysed.result.failed).toEqual([]);
    expect(progress.at(-1)).toEqual([6, 6]);
    expect(analysed.durationSeconds).toBe(180);
  });

  it("asks no more parts at once than its bound", async () => {
    const events: Events = [];
    const { deps: d, peak } = deps(events, splittingTools(events, 8), 2);

    const analysed = await prepareAndAsk(source, { kind: "overview" }, "English", d, limits);

    expect(analysed.result.answers).toHaveLength(8);
    expect(peak.asks).toBe(2);
  });

  it("keeps the answers of the parts it could ask when preparing a later part fails, and names the rest", async () => {
    const events: Events = [];
    const { deps: d } = deps(events, splittingTools(events, 5, 2), 11);

    const analysed = await prepareAndAsk(source, { kind: "overview" }, "English", d, limits);

    expect(analysed.result.answers.map((answer) => answer.startSeconds)).toEqual([0, 30]);
    expect(analysed.result.failed).toEqual([expect.objectContaining({ startSeconds: 60, endSeconds: 150, error: new Error("ffmpeg died") })]);
    expect(analysed.pieces).toHaveLength(2);
  });

  it("fails as preparation failed when no part reached the model", async () => {
    const events: Events = [];
    const { deps: d } = deps(events, splittingTools(events, 5, 0), 11);

    await expect(prepareAndAsk(source, { kind: "overview" }, "English", d, limits)).rejects.toThrow("ffmpeg died");
    expect(events.some((event) => event.startsWith("ask"))).toBe(false);
  });

  it("finds the stretches no part covers", () => {
    expect(gapsBetween([{ startSeconds: 30, endSeconds: 60 }, { startSeconds: 0, endSeconds: 29.95 }], 120)).toEqual([{ startSeconds: 60, endSeconds: 120 }]);
    expect(gapsBetween([{ startSeconds: 0, endSeconds: 30 }, { startSeconds: 60, endSeconds: 90 }], 90)).toEqual([{ startSeconds: 30, endSeconds: 60 }]);
  });
});
