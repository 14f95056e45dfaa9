/**
 * `npm run sandbox [-- "your prompt"]`: see the bot work without any account. Starts the fake
 * Discord and the fake DashScope from test/fakes, starts the real bot against them, and plays its
 * three jobs through, printing what a member would see:
 *   1. /song with the prompt (a default one if none is given); the song is saved in ./sandbox-out/;
 *   2. "Analyze audio" on a spoken voice message, then one follow-up question;
 *   3. /usage server, as a server admin; its chart is saved beside the song.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ApplicationCommandOptionType, ComponentType, MessageFlags, type APIButtonComponent } from "discord.js";
import { FakePermissions, type FakeMessageView } from "../test/fakes/discord/index.js";
import { parsedLogs, startSandbox } from "../test/e2e/harness.js";

const prompt = process.argv.slice(2).join(" ").trim() || "Fresh summer folk song, acoustic guitar and harmonica, upbeat";
const followUpQuestion = "What is the speaker's mood?";
const outDir = join(process.cwd(), "sandbox-out");
const voiceMessage = join(process.cwd(), "test/fixtures/audio/speech-en.ogg");

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const hasEmbed = (message: FakeMessageView) => message.embeds.length > 0;

function buttonLabels(message: FakeMessageView): string[] {
  return buttons(message).map((button) => ("label" in button ? (button.label ?? "?") : "?"));
}

function buttons(message: FakeMessageView): APIButtonComponent[] {
  return message.components
    .flatMap((row) => ("components" in row ? (row.components as APIButtonComponent[]) : []))
    .filter((component) => component.type === ComponentType.Button);
}

function customIdOf(message: FakeMessageView, label: string): string {
  const found = buttons(message).find((button) => "label" in button && button.label === label);
  if (!found || !("custom_id" in found)) throw new Error(`no "${label}" button; the message has ${buttonLabels(message).join(", ")}`);
  return found.custom_id;
}

/** An embed as the channel shows it, indented. */
function showEmbed(message: FakeMessageView): void {
  const embed = message.embeds[0];
  say(`  ┌ ${embed?.title ?? "(no title)"}`);
  for (const line of (embed?.description ?? "").replace(/\*\*/g, "").split("\n")) say(`  │ ${line}`);
  for (const field of embed?.fields ?? []) say(`  │ ${field.name}: ${field.value.replace(/\n/g, " · ")}`);
  if (embed?.footer?.text) say(`  └ ${embed.footer.text}`);
  const labels = buttonLabels(message);
  if (labels.length > 0) say(`  buttons: ${labels.join(" | ")}`);
}

async function main(): Promise<void> {
  say("Starting a fake Discord, a fake DashScope and the bot…");
  const sandbox = await startSandbox({
    dashscope: { songSeconds: 16, generationMs: 3000 },
    progressIntervalMs: 1000,
    env: { LOG_LEVEL: "info" },
  });
  try {
    say(`  fake Discord REST   ${sandbox.discord.restUrl}`);
    say(`  fake DashScope      ${sandbox.dashscope.baseUrl}`);
    say(`  commands registered ${sandbox.discord.registeredCommands(sandbox.guildId).map((c) => `/${c.name}`).join(", ")}`);
    await mkdir(outDir, { recursive: true });
    const user = sandbox.discord.createUser({ username: "sandbox-user" });

    // 1. /song
    say(`\n1. @${user.username} types: /song prompt:"${prompt}"`);
    const song = await sandbox.discord.sendSlashCommand({
      name: "song",
      user,
      options: [{ type: ApplicationCommandOptionType.String, name: "prompt", value: prompt }],
    });
    say(`  bot acknowledged in ${(await song.response()).elapsedMs} ms (Discord allows 3000)`);
    let lastShown = "";
    const songReply = await song.waitForOriginal((message) => {
      if (message.content && message.content !== lastShown && message.embeds.length === 0) {
        lastShown = message.content;
        say(`  progress: ${message.content}`);
      }
      return hasEmbed(message);
    }, 60_000);
    say("\nThe channel now shows:");
    showEmbed(songReply);
    for (const attachment of songReply.attachments) {
      const path = join(outDir, attachment.filename);
      await writeFile(path, attachment.bytes);
      say(`  saved ${attachment.filename} (${attachment.bytes.length} bytes) to ${path}`);
    }
    const musicCall = sandbox.dashscope.requests.find((r) => r.path.endsWith("/music/generation"));
    say(`  DashScope call: ${musicCall?.sse ? "streaming (SSE)" : "non-streaming"}, request_id ${musicCall?.requestId}`);

    // 2. Analyze audio on a voice message, then a follow-up question
    say(`\n2. A friend posts a voice message; @${user.username} picks Apps → Analyze audio on it`);
    const bytes = await readFile(voiceMessage);
    const analysis = await sandbox.discord.sendMessageCommand({
      name: "Analyze audio",
      user,
      targetMessage: {
        content: "",
        flags: MessageFlags.IsVoiceMessage,
        attachments: [{ filename: "voice-message.ogg", bytes, contentType: "audio/ogg", durationSecs: 4, waveform: "AAAA" }],
      },
    });
    const answer = await analysis.waitForOriginal(hasEmbed, 60_000);
    say(`  the answer (visible to ${answer.ephemeral ? "them only" : "the channel"}):`);
    showEmbed(answer);

    say(`\n  @${user.username} presses "Ask a question" and asks: "${followUpQuestion}"`);
    const ask = await sandbox.discord.sendComponent({ customId: customIdOf(answer, "Ask a question"), message: answer, user });
    await ask.response();
    const modal = ask.modal();
    if (!modal) throw new Error("the Ask a question button opened no modal");
    const submitted = await sandbox.discord.sendModalSubmit({ customId: modal.custom_id, user, fields: { question: followUpQuestion }, from: ask });
    showEmbed(await submitted.waitForOriginal(hasEmbed, 60_000));

    // 3. /usage server, as an admin
    const admin = sandbox.discord.createUser({ username: "sandbox-admin" });
    say(`\n3. @${admin.username} (Manage Server) types: /usage server`);
    const usage = await sandbox.discord.sendSlashCommand({
      name: "usage",
      user: admin,
      memberPermissions: FakePermissions.manageGuild,
      options: [{ type: ApplicationCommandOptionType.Subcommand, name: "server", options: [] }],
    });
    const report = await usage.waitForOriginal(hasEmbed, 60_000);
    showEmbed(report);
    for (const attachment of report.attachments.filter((a) => a.filename.endsWith(".png"))) {
      const path = join(outDir, attachment.filename);
      await writeFile(path, attachment.bytes);
      say(`  saved the chart ${attachment.filename} (${attachment.bytes.length} bytes) to ${path}`);
    }

    say(`\nBot log lines: ${parsedLogs(sandbox).length} (pino JSON; secrets redacted)`);
    say(`Try your own prompt: npm run sandbox -- "late night jazz, soft piano and rain"`);
  } finally {
    await sandbox.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`sandbox failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
