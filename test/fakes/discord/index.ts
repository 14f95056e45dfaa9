/**
 * A fake Discord (gateway WebSocket + REST on 127.0.0.1) that the real discord.js client logs into.
 * Tests drive the bot by simulating users and read what the bot did from the fake's record:
 *
 * ```ts
 * const fake = await startFakeDiscord();
 * const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: fake.restUrl } });
 * await client.login(fake.token);
 * await fake.waitForReady();
 * // …the bot registers its commands…
 * const handle = await fake.sendSlashCommand({ name: "song", options: [{ type: 3, name: "prompt", value: "cats" }] });
 * const reply = await handle.waitForOriginal((message) => message.attachments.length > 0);
 * await fake.sendComponent({ customId: "song:again", message: reply });
 * await client.destroy();
 * await fake.close();
 * ```
 */
export { startFakeDiscord } from "./server.js";
export { FakePermissions } from "./permissions.js";
export { FakeDiscordUsageError, type DiscordErrorBody, type FormErrorTree, type FormErrorItem } from "./errors.js";
export { MESSAGE_LIMITS } from "./message-limits.js";
export { MODAL_LIMITS } from "./modal-limits.js";
export { COMMAND_LIMITS, CHAT_INPUT_NAME_PATTERN } from "./command-limits.js";
export type {
  ComponentInput,
  FakeAttachment,
  FakeAttachmentInput,
  FakeDiscord,
  FakeGatewaySession,
  FakeGuild,
  FakeGuildInput,
  FakeMessageView,
  FakeTargetMessageInput,
  InitialResponse,
  InitialResponseData,
  InteractionContextInput,
  InteractionHandle,
  MessageCommandInput,
  MessagePredicate,
  ModalSubmitInput,
  PermissionsInput,
  RecordedFile,
  RecordedRequest,
  SlashCommandInput,
  SlashCommandOptionInput,
  StartFakeDiscordOptions,
} from "./types.js";
