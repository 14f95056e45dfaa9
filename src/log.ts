import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";

export type { Logger } from "pino";

const REDACTED = "[redacted]";

/**
 * Paths that carry credentials in the objects we log. Redaction by path alone is not enough
 * (an error message may quote a URL holding an interaction token), so every written line is
 * also scrubbed of the literal secret values.
 */
const redactPaths = [
  "token",
  "*.token",
  "apiKey",
  "*.apiKey",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "config.discordToken",
  "config.dashscopeApiKey",
];

/** Discord interaction and webhook tokens appear in REST paths; they are bearer secrets too. */
const webhookTokenPattern = /(\/(?:webhooks|interactions)\/\d+\/)[A-Za-z0-9_.-]{20,}/g;

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let result = text.replace(webhookTokenPattern, `$1${REDACTED}`);
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.split(secret).join(REDACTED);
  }
  return result;
}

/**
 * pino's error serializer, minus what must not reach a log line: discord.js errors carry the
 * request body (`requestBody.files[].data` is the whole uploaded audio file), which would turn one
 * failed upload into a multi-megabyte line, written synchronously.
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  delete serialized.requestBody;
  const cause = serialized.cause;
  if (cause && typeof cause === "object") delete (cause as Record<string, unknown>).requestBody;
  return serialized;
}

export function createLogger(options: {
  level: LevelWithSilent;
  secrets: readonly string[];
  destination?: DestinationStream;
}): Logger {
  const { level, secrets } = options;
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  return pino(
    {
      level,
      base: { app: "dashtune" },
      redact: { paths: redactPaths, censor: REDACTED },
      serializers: { err: serializeError, error: serializeError },
      hooks: {
        streamWrite: (line) => scrubSecrets(line, secrets),
      },
    },
    destination,
  );
}
