import { PermissionFlagsBits } from "discord.js";
import type { PermissionsInput } from "./types.js";

const ALL_PERMISSIONS = Object.values(PermissionFlagsBits).reduce((all, bit) => all | bit, 0n);

/** What Discord grants @everyone in a new server: enough to chat, upload and use apps, nothing administrative. */
const EVERYONE =
  PermissionFlagsBits.CreateInstantInvite |
  PermissionFlagsBits.ChangeNickname |
  PermissionFlagsBits.ViewChannel |
  PermissionFlagsBits.SendMessages |
  PermissionFlagsBits.SendMessagesInThreads |
  PermissionFlagsBits.CreatePublicThreads |
  PermissionFlagsBits.CreatePrivateThreads |
  PermissionFlagsBits.EmbedLinks |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.AddReactions |
  PermissionFlagsBits.UseExternalEmojis |
  PermissionFlagsBits.UseExternalStickers |
  PermissionFlagsBits.ReadMessageHistory |
  PermissionFlagsBits.UseApplicationCommands |
  PermissionFlagsBits.Connect |
  PermissionFlagsBits.Speak |
  PermissionFlagsBits.Stream |
  PermissionFlagsBits.UseVAD |
  PermissionFlagsBits.UseEmbeddedActivities |
  PermissionFlagsBits.SendVoiceMessages |
  PermissionFlagsBits.SendPolls |
  PermissionFlagsBits.UseExternalApps |
  PermissionFlagsBits.RequestToSpeak |
  PermissionFlagsBits.UseSoundboard |
  PermissionFlagsBits.UseExternalSounds;

/**
 * Permission sets for simulated members, as the decimal strings Discord puts in
 * `member.permissions`. An administrator's resolved permissions are every bit, as Discord reports.
 */
export const FakePermissions = {
  /** A plain member (Discord's default @everyone permissions). */
  member: EVERYONE.toString(),
  /** A moderator who can manage the server but is not an administrator. */
  manageGuild: (EVERYONE | PermissionFlagsBits.ManageGuild).toString(),
  /** An administrator: every permission bit. */
  administrator: ALL_PERMISSIONS.toString(),
  /** What the bot gets by default in a channel (`app_permissions`). */
  bot: (EVERYONE | PermissionFlagsBits.ManageMessages).toString(),
} as const;

export function permissionsToString(value: PermissionsInput): string {
  const bits = typeof value === "bigint" ? value : BigInt(value);
  // Discord reports an administrator's resolved permissions as every bit set.
  return (bits & PermissionFlagsBits.Administrator) !== 0n ? ALL_PERMISSIONS.toString() : bits.toString();
}
