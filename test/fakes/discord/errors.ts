/**
 * Discord's JSON error bodies. Codes and messages are copied from what Discord really returns
 * (developers/topics/opcodes-and-status-codes in discord/discord-api-docs, plus error bodies quoted
 * in public bug reports), because bots branch on `code` and tests assert on it.
 */

export interface FormErrorItem {
  readonly code: string;
  readonly message: string;
}

/** The nested `errors` tree of a 50035 body: keys are field names or array indexes, leaves hold `_errors`. */
export interface FormErrorTree {
  _errors?: FormErrorItem[];
  [key: string]: FormErrorTree | FormErrorItem[] | undefined;
}

export interface DiscordErrorBody {
  readonly message: string;
  readonly code: number;
  readonly errors?: FormErrorTree;
}

/** A REST failure a route handler throws; the router turns it into the HTTP response. */
export class DiscordHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: DiscordErrorBody,
  ) {
    super(`${status} ${body.message} (code ${body.code})`);
    this.name = "DiscordHttpError";
  }
}

/**
 * Thrown by the fake's simulation helpers when a test asks for something no real user could do
 * (click a button that is not on the message, submit a modal that was never shown). Failing loudly
 * here keeps tests from passing against situations Discord would never produce.
 */
export class FakeDiscordUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FakeDiscordUsageError";
  }
}

export type FormPath = ReadonlyArray<string | number>;

/** Collects every problem in a body at once, as Discord does, then renders the `errors` tree. */
export class FormErrors {
  private readonly tree: FormErrorTree = {};
  private count = 0;

  add(path: FormPath, code: string, message: string): void {
    let node = this.tree;
    for (const key of path) {
      const name = String(key);
      const existing = node[name];
      if (existing === undefined || Array.isArray(existing)) {
        const child: FormErrorTree = {};
        node[name] = child;
        node = child;
      } else {
        node = existing;
      }
    }
    (node._errors ??= []).push({ code, message });
    this.count += 1;
  }

  get hasErrors(): boolean {
    return this.count > 0;
  }

  toBody(): DiscordErrorBody {
    return { code: 50035, errors: this.tree, message: "Invalid Form Body" };
  }

  throwIfAny(): void {
    if (this.hasErrors) throw new DiscordHttpError(400, this.toBody());
  }
}

/** Error items with Discord's exact wording. */
export const formError = {
  required: (): FormErrorItem => ({ code: "BASE_TYPE_REQUIRED", message: "This field is required" }),
  maxLength: (max: number): FormErrorItem => ({
    code: "BASE_TYPE_MAX_LENGTH",
    message: `Must be ${max} or fewer in length.`,
  }),
  minLength: (min: number): FormErrorItem => ({
    code: "BASE_TYPE_MIN_LENGTH",
    message: `Must be ${min} or more in length.`,
  }),
  badLength: (min: number, max: number): FormErrorItem => ({
    code: "BASE_TYPE_BAD_LENGTH",
    message: `Must be between ${min} and ${max} in length.`,
  }),
  choices: (choices: ReadonlyArray<number | string>): FormErrorItem => ({
    code: "BASE_TYPE_CHOICES",
    message: `Value must be one of (${choices.join(", ")}).`,
  }),
  numberMax: (max: number): FormErrorItem => ({
    code: "NUMBER_TYPE_MAX",
    message: `int value should be less than or equal to ${max}.`,
  }),
  numberMin: (min: number): FormErrorItem => ({
    code: "NUMBER_TYPE_MIN",
    message: `int value should be greater than or equal to ${min}.`,
  }),
  numberType: (): FormErrorItem => ({ code: "NUMBER_TYPE_COERCE", message: "Value is not int." }),
  stringType: (): FormErrorItem => ({ code: "BASE_TYPE_STRING", message: "Could not interpret value as string." }),
  arrayType: (): FormErrorItem => ({ code: "BASE_TYPE_ARRAY", message: "Must be an array." }),
  objectType: (): FormErrorItem => ({ code: "MODEL_TYPE_CONVERT", message: "Only dictionaries may be used in a ModelType" }),
  booleanType: (): FormErrorItem => ({ code: "BASE_TYPE_BOOLEAN", message: "Must be either true or false." }),
  invalidUrl: (): FormErrorItem => ({ code: "URL_TYPE_INVALID_URL", message: "Not a well formed URL." }),
  invalidUrlScheme: (scheme: string, allowed: readonly string[]): FormErrorItem => ({
    code: "URL_TYPE_INVALID_SCHEME",
    message: `Scheme "${scheme}" is not supported. Scheme must be one of (${allowed.map((s) => `'${s}'`).join(", ")}).`,
  }),
  embedTooLarge: (): FormErrorItem => ({
    code: "MAX_EMBED_SIZE_EXCEEDED",
    message: "Embed size exceeds maximum size of 6000",
  }),
  customIdDuplicated: (): FormErrorItem => ({
    code: "COMPONENT_CUSTOM_ID_DUPLICATED",
    message: "Component custom id cannot be duplicated",
  }),
  layoutWidthExceeded: (): FormErrorItem => ({
    code: "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
    message: "The specified component exceeds the maximum width",
  }),
  requiresComponentsV2: (): FormErrorItem => ({
    code: "COMPONENT_LAYOUT_REQUIRES_COMPONENTS_V2",
    message: "This component type requires the IS_COMPONENTS_V2 flag",
  }),
  buttonCustomIdRequired: (): FormErrorItem => ({
    code: "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED",
    message: "A custom id is required",
  }),
  buttonUrlRequired: (): FormErrorItem => ({ code: "BUTTON_COMPONENT_URL_REQUIRED", message: "A url is required" }),
  buttonCustomIdUrlExclusive: (): FormErrorItem => ({
    code: "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE",
    message: "A custom id and url cannot both be specified",
  }),
  selectOptionValueDuplicated: (): FormErrorItem => ({
    code: "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
    message: "The specified option value is already used",
  }),
  allowedMentionsParseExclusive: (type: string): FormErrorItem => ({
    code: "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
    message: `parse:["${type}"] and ${type}: [ids...] are mutually exclusive.`,
  }),
  setDuplicate: (): FormErrorItem => ({
    code: "SET_TYPE_ALREADY_CONTAINS_VALUE",
    message: "The set already contains this value",
  }),
  attachmentNotFound: (): FormErrorItem => ({ code: "ATTACHMENT_NOT_FOUND", message: "Attachment data not found" }),
  commandInvalidName: (): FormErrorItem => ({
    code: "APPLICATION_COMMAND_INVALID_NAME",
    message: "Command name is invalid",
  }),
  stringRegex: (): FormErrorItem => ({
    code: "STRING_TYPE_REGEX",
    message: "String value did not match validation regex.",
  }),
  commandsDuplicateName: (): FormErrorItem => ({
    code: "APPLICATION_COMMANDS_DUPLICATE_NAME",
    message: "Application command names must be unique",
  }),
  commandOptionsDuplicateName: (): FormErrorItem => ({
    code: "APPLICATION_COMMAND_OPTIONS_DUPLICATE_NAME",
    message: "Application command option names must be unique",
  }),
  requiredOptionsOrder: (): FormErrorItem => ({
    code: "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
    message: "Required options must be placed before non-required options",
  }),
  commandTooLarge: (): FormErrorItem => ({
    code: "APPLICATION_COMMAND_TOO_LARGE",
    message: "Command exceeds maximum size (8000)",
  }),
  interactionResponseTypeInvalid: (allowed: readonly number[]): FormErrorItem => ({
    code: "BASE_TYPE_CHOICES",
    message: `Value must be one of (${allowed.join(", ")}).`,
  }),
} as const;

function httpError(status: number, code: number, message: string): DiscordHttpError {
  return new DiscordHttpError(status, { message, code });
}

/** Whole-request errors with the status and body Discord sends. */
export const discordError = {
  unauthorized: () => httpError(401, 0, "401: Unauthorized"),
  notFound: () => httpError(404, 0, "404: Not Found"),
  methodNotAllowed: () => httpError(405, 0, "405: Method Not Allowed"),
  unknownApplication: () => httpError(404, 10002, "Unknown Application"),
  unknownChannel: () => httpError(404, 10003, "Unknown Channel"),
  unknownGuild: () => httpError(404, 10004, "Unknown Guild"),
  unknownMember: () => httpError(404, 10007, "Unknown Member"),
  unknownMessage: () => httpError(404, 10008, "Unknown Message"),
  unknownUser: () => httpError(404, 10013, "Unknown User"),
  unknownWebhook: () => httpError(404, 10015, "Unknown Webhook"),
  unknownInteraction: () => httpError(404, 10062, "Unknown interaction"),
  unknownCommand: () => httpError(404, 10063, "Unknown application command"),
  tooManyCommands: (max: number) => httpError(400, 30032, `Maximum number of application commands reached (${max})`),
  requestTooLarge: () => httpError(413, 40005, "Request entity too large"),
  alreadyAcknowledged: () => httpError(400, 40060, "Interaction has already been acknowledged."),
  missingAccess: () => httpError(403, 50001, "Missing Access"),
  cannotEditOthersMessage: () => httpError(403, 50005, "Cannot edit a message authored by another user"),
  emptyMessage: () => httpError(400, 50006, "Cannot send an empty message"),
  missingPermissions: () => httpError(403, 50013, "Missing Permissions"),
  // 403 when the DM channel exists but the user shares no server with the bot and did not install it.
  cannotMessageUser: () => httpError(403, 50007, "Cannot send messages to this user"),
  invalidWebhookToken: () => httpError(401, 50027, "Invalid Webhook Token"),
  invalidJson: () => httpError(400, 50109, "The request body contains invalid JSON."),
  voiceMessageExtraContent: () => httpError(400, 50159, "Voice messages do not support additional content."),
  voiceMessageSingleAudio: () => httpError(400, 50160, "Voice messages must have a single audio attachment."),
  voiceMessageMetadata: () => httpError(400, 50161, "Voice messages must have supporting metadata."),
  invalidFormBodyContentType: () => httpError(400, 50035, "Invalid Form Body"),
} as const;
