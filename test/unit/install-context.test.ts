import { describe, expect, it } from "vitest";
import { ledgerGuildIdOf } from "../../src/discord/install-context.js";

describe("ledgerGuildIdOf", () => {
  it("keeps the guild when the app is installed to it", () => {
    expect(ledgerGuildIdOf({ guildId: "1", authorizingIntegrationOwners: { guildId: "1" } })).toBe("1");
  });
  it("counts a user install in a server without the app, the bot's DM and other DMs outside any guild", () => {
    expect(ledgerGuildIdOf({ guildId: "1", authorizingIntegrationOwners: { guildId: null } })).toBeNull();
    // In the bot's DM a guild install is authorized by "0".
    expect(ledgerGuildIdOf({ guildId: null, authorizingIntegrationOwners: { guildId: "0" } })).toBeNull();
    expect(ledgerGuildIdOf({ guildId: null, authorizingIntegrationOwners: { guildId: null } })).toBeNull();
  });
});
