import { Writable } from "node:stream";
import type { Interaction } from "discord.js";
import { describe, expect, it } from "vitest";
import { createInteractionRouter, type HandlerContext, type SlashCommand } from "../../src/discord/router.js";
import { createLogger } from "../../src/log.js";

const quiet = createLogger({ level: "silent", secrets: [], destination: new Writable({ write: (_chunk, _encoding, callback) => callback() }) });

/** Routes one /probe command as Discord would send it, and returns the context its handler got. */
async function contextFor(locale: string, guildLocale: string | null): Promise<HandlerContext> {
  let seen: HandlerContext | undefined;
  const probe = {
    definition: { name: "probe", description: "d" },
    async execute(_interaction, context) {
      seen = context;
    },
  } as SlashCommand;
  const route = createInteractionRouter({ slashCommands: [probe], messageCommands: [], buttons: {}, selects: {}, modals: {} }, quiet);
  const interaction = {
    id: "1",
    type: 2,
    user: { id: "2" },
    guildId: guildLocale === null ? null : "3",
    locale,
    guildLocale,
    commandName: "probe",
    isCommand: () => true,
    isChatInputCommand: () => true,
  } as unknown as Interaction;
  await route(interaction);
  if (!seen) throw new Error("the handler was not called");
  return seen;
}

describe("which language a handler writes in", () => {
  it("writes private replies in the member's language and public ones in the server's", async () => {
    const context = await contextFor("en-US", "ja");
    expect(context.t("analysis.button.next")).toBe("Next");
    expect(context.tServer("analysis.button.next")).toBe("次へ");
    expect(context.locales).toEqual({ member: "en", server: "ja" });
  });

  it("writes public messages in English when the server's language has no catalog, and reads zh-TW as Chinese", async () => {
    const context = await contextFor("zh-TW", "de");
    expect(context.t("analysis.button.next")).toBe("下一页");
    expect(context.tServer("analysis.button.next")).toBe("Next");
  });

  it("writes public messages in the member's language in a DM, where there is no server", async () => {
    const context = await contextFor("zh-CN", null);
    expect(context.tServer("song.untitled")).toBe("未命名歌曲");
    expect(context.locales).toEqual({ member: "zh-CN", server: "zh-CN" });
  });
});
