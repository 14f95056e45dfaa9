import { DiscordAPIError, OAuth2Scopes, PermissionFlagsBits, PermissionsBitField, REST, Routes, type APIApplication } from "discord.js";
import type { DashScopeClient } from "./dashscope/client.js";
import { DashScopeError } from "./dashscope/errors.js";
import { UPLOAD_POLICY_PATH } from "./dashscope/upload.js";
import { uploadPolicyAnswerSchema } from "./dashscope/upload-policy.js";
import { discordRestOptions } from "./discord/rest-options.js";

/**
 * Checks an operator wants on the first run, before a member's `/song` finds the problem: is the
 * DashScope key accepted, is the Discord token accepted, can both services be reached, and how is
 * the bot invited. The bot runs them at start (and keeps running whatever they say);
 * `npm run check` runs them and exits.
 *
 * No result or error text ever holds the token or the key: they name the setting instead.
 */

export type ServiceName = "Discord" | "DashScope";

export type CheckResult = {
  service: ServiceName;
  ok: boolean;
  /** `refused`: the credential was refused; `unreachable`: no answer at the URL; `failed`: anything else. */
  problem?: "refused" | "unreachable" | "failed";
  /** One line for an operator. */
  message: string;
};

/**
 * The channel permissions the bot uses outside interaction replies (which need none): posting in
 * the channel when a slow song outlived its interaction token (channel-fallback.ts) — possibly in a
 * thread — with an embed and the song attached. It never reads history, reacts or manages anything.
 */
export const BOT_PERMISSIONS = new PermissionsBitField([
  PermissionFlagsBits.ViewChannel,
  PermissionFlagsBits.SendMessages,
  PermissionFlagsBits.SendMessagesInThreads,
  PermissionFlagsBits.EmbedLinks,
  PermissionFlagsBits.AttachFiles,
]).bitfield;

/** The link that adds the bot to a server, with its slash commands and the permissions above. */
export function inviteUrl(clientId: string): string {
  const query = new URLSearchParams({
    client_id: clientId,
    scope: [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands].join(" "),
    permissions: BOT_PERMISSIONS.toString(),
  });
  return `https://discord.com/oauth2/authorize?${query.toString()}`;
}

/** Socket-level failures that mean "nobody answered at that address". */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

/** The socket error code somewhere in `error`'s cause chain (fetch wraps it in "fetch failed"), if any. */
export function unreachableCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current !== null && typeof current === "object" && depth < 6; depth++) {
    if (current instanceof AggregateError && current.errors.length > 0 && !("code" in current)) current = current.errors[0];
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A service could not be reached: says which one and at which URL, instead of a bare `ECONNREFUSED`. */
export class ServiceUnreachableError extends Error {
  override readonly name = "ServiceUnreachableError";
  constructor(
    readonly service: ServiceName,
    readonly url: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(`${service} cannot be reached at ${url} (${code}); check ${settingOf(service)} and the network`, options);
  }
}

function settingOf(service: ServiceName): string {
  return service === "Discord" ? "DISCORD_API_URL" : "DASHSCOPE_HTTP_BASE_URL";
}

/** `error` as a ServiceUnreachableError when it is a connection failure, else `error` itself. */
export function explainUnreachable(error: unknown, service: ServiceName, url: string): unknown {
  const code = unreachableCode(error);
  return code === undefined ? error : new ServiceUnreachableError(service, url, code, { cause: error });
}

/**
 * Asks DashScope's temporary storage for an upload policy: free (nothing is uploaded or
 * generated), and it needs a valid key, so it tells a wrong key apart from a wrong address.
 */
export async function checkDashScopeKey(
  client: DashScopeClient,
  options: { baseUrl: string; model: string; timeoutMs?: number },
): Promise<CheckResult> {
  const service = "DashScope";
  try {
    const answer = await client.getJson(UPLOAD_POLICY_PATH, {
      query: { action: "getPolicy", model: options.model },
      schema: uploadPolicyAnswerSchema,
      timeoutMs: options.timeoutMs ?? 15_000,
    });
    return { service, ok: true, message: `DashScope accepted DASHSCOPE_API_KEY at ${options.baseUrl} (request_id ${answer.requestId ?? "none"})` };
  } catch (error) {
    const code = unreachableCode(error);
    if (code !== undefined) {
      return { service, ok: false, problem: "unreachable", message: new ServiceUnreachableError(service, options.baseUrl, code).message };
    }
    if (error instanceof DashScopeError && (error.status === 401 || error.status === 403 || error.code === "InvalidApiKey")) {
      return {
        service,
        ok: false,
        problem: "refused",
        message:
          `DashScope refused DASHSCOPE_API_KEY (${error.status ?? "?"} ${error.code}): songs and audio analysis will fail until it is fixed. ` +
          "Check the key at https://dashscope.console.aliyun.com/apiKey (a Beijing-region key for the default DASHSCOPE_HTTP_BASE_URL)",
      };
    }
    const what = error instanceof DashScopeError ? `${error.status ?? ""} ${error.code}: ${error.message}`.trim() : describe(error);
    return { service, ok: false, problem: "failed", message: `DashScope key check at ${options.baseUrl} failed (${what})` };
  }
}

/**
 * Asks Discord who the application is: proves the token and the address, and gives the client id
 * for the invite link without connecting to the gateway.
 */
export async function checkDiscordToken(options: {
  apiUrl: string;
  token: string;
  timeoutMs?: number;
}): Promise<CheckResult & { application?: { id: string; name: string } }> {
  const service = "Discord";
  // No retries: a check answers at once, and an operator reruns it.
  const rest = new REST({ ...discordRestOptions(options.apiUrl), retries: 0, timeout: options.timeoutMs ?? 15_000 }).setToken(options.token);
  try {
    const application = (await rest.get(Routes.currentApplication())) as APIApplication;
    return {
      service,
      ok: true,
      message: `Discord accepted DISCORD_TOKEN at ${options.apiUrl}: application ${application.name} (${application.id})`,
      application: { id: application.id, name: application.name },
    };
  } catch (error) {
    const code = unreachableCode(error);
    if (code !== undefined) {
      return { service, ok: false, problem: "unreachable", message: new ServiceUnreachableError(service, options.apiUrl, code).message };
    }
    if (error instanceof DiscordAPIError && error.status === 401) {
      return {
        service,
        ok: false,
        problem: "refused",
        message: "Discord refused DISCORD_TOKEN (401): reset the bot token at https://discord.com/developers/applications → your app → Bot",
      };
    }
    return { service, ok: false, problem: "failed", message: `Discord check at ${options.apiUrl} failed (${describe(error)})` };
  } finally {
    rest.clearHandlerSweeper();
    rest.clearHashSweeper();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] ?? error.name : String(error);
}
