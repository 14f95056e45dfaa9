import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";
import pinoPretty from "pino-pretty";

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

export type LogFormat = "pretty" | "json";

/** LOG_FORMAT when set; otherwise readable in a terminal and JSON for a log collector. */
export function chooseLogFormat(setting: LogFormat | undefined, stdoutIsTTY: boolean): LogFormat {
  return setting ?? (stdoutIsTTY ? "pretty" : "json");
}

export function createLogger(options: {
  level: LevelWithSilent;
  secrets: readonly string[];
  /** Default `json`. */
  format?: LogFormat | undefined;
  /** Where lines go; standard output if absent. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Pretty output only: ANSI colours (default: when standard output is a terminal). */
  colorize?: boolean | undefined;
}): Logger {
  const { level, secrets } = options;
  // pino-pretty runs in this thread as the destination stream, not as a worker transport: the
  // scrubbing hook below then sees (and cleans) every JSON line before it is made pretty.
  const destination: DestinationStream =
    options.format === "pretty"
      ? pinoPretty({
          destination: options.destination ?? 1,
          colorize: options.colorize ?? Boolean(process.stdout.isTTY),
          translateTime: "SYS:HH:MM:ss.l",
          ignore: "pid,hostname,app",
          // A terminal: writing at once costs little, and lines are not lost when the process exits.
          sync: true,
        })
      : ((options.destination as DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: false }));
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
