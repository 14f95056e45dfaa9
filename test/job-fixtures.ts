import type { NewJob } from "../src/jobs/job-store.js";

/** A song request as a job row is written from it, for tests of the job machinery. */
export function newSongJob(overrides: Partial<NewJob> = {}): NewJob {
  return {
    kind: "song",
    guildId: "100000000000000001",
    channelId: "100000000000000002",
    userId: "200000000000000001",
    userName: "tester",
    locale: "en-US",
    guildLocale: "en-US",
    applicationId: "300000000000000001",
    interactionId: "400000000000000001",
    interactionToken: "secret-token",
    tokenExpiresAt: new Date(Date.now() + 15 * 60_000),
    ephemeral: false,
    replyMessageId: "500000000000000001",
    attachmentLimitBytes: 10 * 1024 * 1024,
    input: { prompt: "a song", gender: "female", format: "mp3", watermark: false },
    reservationId: null,
    ...overrides,
  };
}
