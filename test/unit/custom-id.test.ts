import { describe, expect, it } from "vitest";
import { encodeCustomId, parseCustomId, type CustomId } from "../../src/discord/custom-id.js";

describe("custom ids", () => {
  const samples: CustomId[] = [
    { kind: "song-action", action: "regen", songId: "AbC123xyz_-9" },
    { kind: "song-action", action: "edit", songId: "AbC123xyz_-9" },
    { kind: "song-new-modal", gender: "male", format: "wav", watermark: true },
    { kind: "song-edit-modal", songId: "q1w2e3r4t5y6" },
    { kind: "analysis-action", action: "translate", conversationId: "q1w2e3r4t5y6" },
    { kind: "analysis-page", conversationId: "q1w2e3r4t5y6", answer: 2, page: 11 },
    { kind: "analysis-share", conversationId: "q1w2e3r4t5y6", answer: 0 },
    { kind: "analysis-pick", conversationId: "q1w2e3r4t5y6" },
    { kind: "analysis-ask-modal", conversationId: "q1w2e3r4t5y6" },
  ];

  it.each(samples)("round-trips $kind", (sample) => {
    const encoded = encodeCustomId(sample);
    expect(encoded.length).toBeLessThanOrEqual(100);
    expect(parseCustomId(encoded)).toEqual(sample);
  });

  it.each(["", "song", "song:explode:AbC123xyz", "song:regen:../../x", "songnew:robot:mp3:1", "songnew:male:flac:0", "toString:x", "__proto__:a", "anpg:q1w2e3r4t5y6:1:-1", "anpg:q1w2e3r4t5y6:1:9999", "an:delete:q1w2e3r4t5y6"])(
    "refuses the crafted id %j",
    (raw) => {
      expect(parseCustomId(raw)).toBeUndefined();
    },
  );
});
