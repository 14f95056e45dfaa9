import { ApplicationCommandOptionType, ApplicationCommandType, ApplicationIntegrationType, InteractionContextType } from "discord.js";
import { describe, expect, it } from "vitest";
import { allCommandDefinitions } from "../../src/discord/command-definitions.js";
import { COMMAND_LIMITS, validateCommandList } from "../fakes/discord/command-limits.js";
import { DiscordHttpError } from "../fakes/discord/errors.js";

type Node = {
  name: string;
  type?: number;
  description?: string;
  description_localizations?: Record<string, string | null>;
  name_localizations?: Record<string, string | null>;
  options?: Node[];
  choices?: { name: string; name_localizations?: Record<string, string | null>; value: unknown }[];
  contexts?: number[];
  integration_types?: number[];
};

const LOCALES = ["zh-CN", "zh-TW", "ja"] as const;
const definitions = allCommandDefinitions() as unknown as Node[];

/** Every command, subcommand and option, with its path for messages. */
function walk(nodes: Node[], path: string[] = []): { path: string; node: Node }[] {
  return nodes.flatMap((node) => [{ path: [...path, node.name].join(" "), node }, ...walk(node.options ?? [], [...path, node.name])]);
}

describe("the commands as registered", () => {
  it("pass the fake Discord's registration checks, which hold every localization to Discord's rules", () => {
    let error: unknown;
    try {
      validateCommandList(JSON.parse(JSON.stringify(definitions)));
    } catch (caught) {
      error = caught;
    }
    // The body names each field Discord would refuse, so a failure here says which one.
    expect(error === undefined ? "accepted" : error instanceof DiscordHttpError ? error.body : String(error)).toBe("accepted");
  });

  it("describe every command, subcommand and option in Chinese and Japanese", () => {
    const chatInput = definitions.filter((command) => (command.type ?? ApplicationCommandType.ChatInput) === ApplicationCommandType.ChatInput);
    const missing = walk(chatInput).filter(({ node }) => LOCALES.some((locale) => !node.description_localizations?.[locale]));
    expect(missing.map(({ path }) => path)).toEqual([]);
  });

  it("name every choice in Chinese and Japanese, and the Apps-menu entry too", () => {
    const choices = walk(definitions).flatMap(({ path, node }) => (node.choices ?? []).map((choice) => ({ path: `${path} ${choice.name}`, choice })));
    expect(choices.length).toBeGreaterThan(10);
    expect(choices.filter(({ choice }) => LOCALES.some((locale) => !choice.name_localizations?.[locale])).map(({ path }) => path)).toEqual([]);
    const analyze = definitions.find((command) => command.type === ApplicationCommandType.Message);
    expect(analyze?.name_localizations).toEqual({ "zh-CN": "分析音频", "zh-TW": "分析音频", ja: "音声を分析" });
  });

  it("keep slash command and option names English, as people type them", () => {
    const named = walk(definitions.filter((command) => command.type !== ApplicationCommandType.Message)).filter(({ node }) => node.name_localizations);
    expect(named.map(({ path }) => path)).toEqual([]);
  });

  it("stay within Discord's sizes in every locale: the longest localized text of each field counts", () => {
    for (const { path, node } of walk(definitions)) {
      for (const text of Object.values(node.description_localizations ?? {})) expect([...(text ?? "")].length, path).toBeLessThanOrEqual(COMMAND_LIMITS.description);
      for (const choice of node.choices ?? []) {
        for (const text of Object.values(choice.name_localizations ?? {})) expect([...(text ?? "")].length, path).toBeLessThanOrEqual(COMMAND_LIMITS.choiceName);
      }
    }
  });

  it("let members who install the app use /song and Analyze audio anywhere, and keep the admin commands in servers", () => {
    const byName = new Map(definitions.map((command) => [command.name, command]));
    const everywhere = { integration_types: [ApplicationIntegrationType.GuildInstall, ApplicationIntegrationType.UserInstall], contexts: [InteractionContextType.Guild, InteractionContextType.BotDM, InteractionContextType.PrivateChannel] };
    expect(byName.get("song")).toMatchObject(everywhere);
    expect(byName.get("Analyze audio")).toMatchObject(everywhere);
    for (const name of ["settings", "limits", "usage"]) {
      expect(byName.get(name), name).toMatchObject({ integration_types: [ApplicationIntegrationType.GuildInstall], contexts: [InteractionContextType.Guild] });
    }
  });

  it("offer the subcommands the handlers read", () => {
    const usage = definitions.find((command) => command.name === "usage");
    expect(usage?.options?.filter((option) => option.type === ApplicationCommandOptionType.Subcommand).map((option) => option.name)).toEqual(["server", "me", "all-servers"]);
  });
});
