import { describe, expect, it } from "vitest";
import { encodeCustomId, parseCustomId, type CustomId } from "../../src/discord/components/custom-id.js";

describe("custom ids", () => {
  const samples: CustomId[] = [
    { kind: "song-action", action: "regen", songId: "AbC123xyz_-9" },
    { kind: "song-action", action: "edit", songId: "AbC123xyz_-9" },
    { kind: "song-new-modal", gender: "male", format: "wav", watermark: true },
    { kind: "song-edit-modal", songId: "q1w2e3r4t5y6" },
  ];

  it.each(samples)("round-trips $kind", (sample) => {
    const encoded = encodeCustomId(sample);
    expect(encoded.length).toBeLessThanOrEqual(100);
    expect(parseCustomId(encoded)).toEqual(sample);
  });

  it.each(["", "song", "song:explode:AbC123xyz", "song:regen:../../x", "songnew:robot:mp3:1", "songnew:male:flac:0", "toString:x", "__proto__:a"])(
    "refuses the crafted id %j",
    (raw) => {
      expect(parseCustomId(raw)).toBeUndefined();
    },
  );
});
