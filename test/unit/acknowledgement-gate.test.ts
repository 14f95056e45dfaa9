import { describe, expect, it } from "vitest";
import { createAcknowledgementGate } from "../../src/discord/job-requests.js";

const later = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
};

describe("the acknowledgement gate", () => {
  it("lets database work through at once when no acknowledgement is in flight", async () => {
    const gate = createAcknowledgementGate({ maxWaitMs: 60_000 });
    await expect(gate.idle()).resolves.toBeUndefined();
  });

  it("holds database work until every acknowledgement in flight is answered", async () => {
    const gate = createAcknowledgementGate({ maxWaitMs: 60_000 });
    const first = later();
    const second = later();
    const sending = [gate.send(first.promise), gate.send(second.promise)];
    let released = false;
    const waiting = gate.idle().then(() => (released = true));
    first.resolve();
    await sending[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(false);
    second.resolve();
    await waiting;
    expect(released).toBe(true);
  });

  it("never holds work longer than its limit, so a stream of interactions can't starve it", async () => {
    const gate = createAcknowledgementGate({ maxWaitMs: 10 });
    void gate.send(new Promise(() => {}));
    await expect(gate.idle()).resolves.toBeUndefined();
  });

  it("counts a failed acknowledgement as answered", async () => {
    const gate = createAcknowledgementGate({ maxWaitMs: 60_000 });
    await expect(gate.send(Promise.reject(new Error("token gone")))).rejects.toThrow("token gone");
    await expect(gate.idle()).resolves.toBeUndefined();
  });
});
