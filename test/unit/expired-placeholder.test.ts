import type { Client } from "discord.js";
import { describe, expect, it } from "vitest";
import type { Job } from "../../src/jobs/job-store.js";
import { jobReplyFor } from "../../src/discord/job-reply.js";
import { createLogger } from "../../src/log.js";
import { newSongJob } from "../job-fixtures.js";

/**
 * Once a job's token is gone its public reply is deleted with the bot's own token, but only while
 * it is a placeholder: a reply that already holds the result (an edit that landed although its
 * answer was lost, or a process that died between posting the song and recording it) is kept.
 */

const silent = createLogger({ level: "silent", secrets: [] });

function job(overrides: Partial<Job> = {}): Job {
  const at = new Date();
  return {
    ...newSongJob({ tokenExpiresAt: new Date(at.getTime() - 1000) }),
    id: "job-1",
    state: "billed",
    attempts: 1,
    requestId: null,
    result: null,
    errorCode: null,
    leaseOwner: "owner",
    leaseExpiresAt: at,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

/** A client whose REST answers GET with `message` and records every call. */
function clientWith(message: { embeds: unknown[]; attachments: unknown[] }) {
  const calls: string[] = [];
  const rest = {
    get: (route: string) => {
      calls.push(`GET ${route}`);
      return Promise.resolve({ id: "500000000000000001", content: "", ...message });
    },
    delete: (route: string) => {
      calls.push(`DELETE ${route}`);
      return Promise.resolve(undefined);
    },
  };
  return { client: { rest } as unknown as Client<true>, calls };
}

describe("removeExpiredPlaceholder", () => {
  it("deletes a placeholder (no file, no embeds), once", async () => {
    const { client, calls } = clientWith({ embeds: [], attachments: [] });
    const reply = jobReplyFor(client, job());
    await reply.removeExpiredPlaceholder(silent);
    await reply.removeExpiredPlaceholder(silent);
    expect(calls).toEqual(["GET /channels/100000000000000002/messages/500000000000000001", "DELETE /channels/100000000000000002/messages/500000000000000001"]);
  });

  it("keeps a reply that already holds a result", async () => {
    const withFile = clientWith({ embeds: [], attachments: [{ id: "1", filename: "song.mp3" }] });
    await jobReplyFor(withFile.client, job()).removeExpiredPlaceholder(silent);
    const withEmbeds = clientWith({ embeds: [{ title: "Song" }], attachments: [] });
    await jobReplyFor(withEmbeds.client, job()).removeExpiredPlaceholder(silent);
    expect([...withFile.calls, ...withEmbeds.calls].filter((call) => call.startsWith("DELETE"))).toEqual([]);
  });

  it("never touches a private reply, nor one whose message id is unknown", async () => {
    const { client, calls } = clientWith({ embeds: [], attachments: [] });
    await jobReplyFor(client, job({ ephemeral: true })).removeExpiredPlaceholder(silent);
    await jobReplyFor(client, job({ replyMessageId: null })).removeExpiredPlaceholder(silent);
    expect(calls).toEqual([]);
  });
});
