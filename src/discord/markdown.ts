import { escapeMarkdown } from "discord.js";

/**
 * Shows user-typed text exactly as written inside the bot's own messages: discord.js's defaults
 * leave headings, lists, masked links (`[free nitro](https://…)`) and quotes active.
 */
export function escapeUserMarkdown(text: string): string {
  const escaped = escapeMarkdown(text, { heading: true, bulletedList: true, numberedList: true, maskedLink: true });
  return escaped.replace(/^(\s*)(>)/gm, "$1\\$2");
}
