import { parseConfig } from "./config.js";
import { createDashScopeClient } from "./dashscope/client.js";
import { createLogger } from "./log.js";
import { checkDashScopeKey, checkDiscordToken, inviteUrl, type CheckResult } from "./startup-checks.js";

/**
 * `npm run check`: the first-run checks without starting the bot. Reads the settings as the bot
 * does (`.env`, then the environment), asks Discord who the application is and DashScope for a
 * free upload policy, prints one line per service and the invite link. Exit code 0 when both
 * accept their credential, 1 otherwise (settings invalid, refused, unreachable).
 * Never prints the token or the key.
 */
async function runChecks(): Promise<number> {
  const { config: loadEnvFile } = await import("dotenv");
  loadEnvFile({ quiet: true });
  const parsed = parseConfig(process.env);
  if (!parsed.ok) {
    process.stdout.write(`✗ settings: fix these (see .env.example):\n${parsed.problems.map((p) => `    - ${p}`).join("\n")}\n`);
    return 1;
  }
  const { config } = parsed;
  const dashscope = createDashScopeClient({
    baseUrl: config.dashscopeBaseUrl,
    apiKey: config.dashscopeApiKey,
    logger: createLogger({ level: "silent", secrets: [config.dashscopeApiKey] }),
    // One try: an operator at a terminal wants the answer now, and reruns the check.
    retry: { attempts: 1 },
  });
  const [discord, key] = await Promise.all([
    checkDiscordToken({ apiUrl: config.discordApiUrl, token: config.discordToken }),
    checkDashScopeKey(dashscope, { baseUrl: config.dashscopeBaseUrl, model: config.qwenAudioModel }),
  ]);
  const line = (result: CheckResult) => `${result.ok ? "✓" : "✗"} ${result.service}: ${result.message}\n`;
  process.stdout.write(line(discord) + line(key));
  if (discord.application) process.stdout.write(`\nInvite the bot to a server with:\n  ${inviteUrl(discord.application.id)}\n`);
  return discord.ok && key.ok ? 0 : 1;
}

runChecks().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`check: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
