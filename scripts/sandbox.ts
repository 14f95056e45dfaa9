/**
 * `npm run sandbox`: see the bot work without any account. Starts the fake Discord and the fake
 * DashScope from test/fakes, starts the real bot against them, plays one /song through, saves the
 * song under ./sandbox-out/ and prints what happened.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ApplicationCommandOptionType } from "discord.js";
import { parsedLogs, startSandbox } from "../test/e2e/harness.js";

const prompt = process.argv.slice(2).join(" ") || "Fresh summer folk song, acoustic guitar and harmonica, upbeat";
const outDir = join(process.cwd(), "sandbox-out");

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  say("Starting a fake Discord, a fake DashScope and the bot…");
  const sandbox = await startSandbox({ dashscope: { songSeconds: 12, generationMs: 3000 }, progressIntervalMs: 1000, env: { LOG_LEVEL: "info" } });
  try {
    say(`  fake Discord REST   ${sandbox.discord.restUrl}`);
    say(`  fake DashScope      ${sandbox.dashscope.baseUrl}`);
    say(`  commands registered ${sandbox.discord.registeredCommands(sandbox.guildId).map((c) => `/${c.name}`).join(", ")}`);

    const user = sandbox.discord.createUser({ username: "sandbox-user" });
    say(`\n@${user.username} types: /song prompt:"${prompt}"`);
    const handle = await sandbox.discord.sendSlashCommand({
      name: "song",
      user,
      options: [{ type: ApplicationCommandOptionType.String, name: "prompt", value: prompt }],
    });
    const response = await handle.response();
    say(`  bot acknowledged in ${response.elapsedMs} ms (Discord allows 3000)`);

    let lastShown = "";
    const reply = await handle.waitForOriginal((message) => {
      if (message.content && message.content !== lastShown && message.embeds.length === 0) {
        lastShown = message.content;
        say(`  progress: ${message.content}`);
      }
      return message.embeds.length > 0;
    }, 60_000);

    const embed = reply.embeds[0];
    say(`\nThe channel now shows:`);
    say(`  ${embed?.title ?? "(no title)"}`);
    for (const field of embed?.fields ?? []) say(`  ${field.name}: ${field.value}`);
    say(`  ${embed?.footer?.text ?? ""}`);
    say(`  buttons: ${reply.components.flatMap((row) => ("components" in row ? row.components.map((c) => ("label" in c ? c.label : "?")) : [])).join(" | ")}`);
    say(`\n${(embed?.description ?? "").replace(/\*\*/g, "").replace(/^/gm, "    ")}`);

    await mkdir(outDir, { recursive: true });
    for (const attachment of reply.attachments) {
      const path = join(outDir, attachment.filename);
      await writeFile(path, attachment.bytes);
      say(`\nSaved ${attachment.filename} (${attachment.bytes.length} bytes) to ${path}`);
    }
    const dashscopeCall = sandbox.dashscope.requests.find((r) => r.path.endsWith("/music/generation"));
    say(`DashScope call: ${dashscopeCall?.sse ? "streaming (SSE)" : "non-streaming"}, request_id ${dashscopeCall?.requestId}`);
    say(`Bot log lines: ${parsedLogs(sandbox).length} (pino JSON; secrets redacted)`);
  } finally {
    await sandbox.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`sandbox failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
