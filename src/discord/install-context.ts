/**
 * The server a request counts against (ledger, quotas, the job's row): the interaction's guild when
 * the app is installed to that guild, otherwise null, which the ledger keeps as "dm". That covers a
 * DM with the bot, other people's DMs, and a member's user install in a server without the bot.
 * Such a server never chose this bot, set no limits in it, and its admins pay nothing, so the
 * requester's own use counts under "dm" with the per-user limits that apply there.
 */
export function ledgerGuildIdOf(interaction: { guildId: string | null; authorizingIntegrationOwners: { guildId: string | null } }): string | null {
  if (interaction.guildId === null) return null;
  return interaction.authorizingIntegrationOwners.guildId === interaction.guildId ? interaction.guildId : null;
}
