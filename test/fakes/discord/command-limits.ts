import { ApplicationCommandOptionType, ApplicationCommandType } from "discord.js";
import { discordError, formError, FormErrors, type FormPath } from "./errors.js";
import { isInteger, isRecord, textLength, type JsonRecord } from "./json.js";

/**
 * Command rules from developers/interactions/application-commands.mdx ("Application Command Naming",
 * the structure tables, and the per-app command counts).
 */
export const COMMAND_LIMITS = {
  name: 32,
  description: 100,
  options: 25,
  choices: 25,
  choiceName: 100,
  choiceStringValue: 100,
  stringOptionLength: 6000,
  totalCharacters: 8000,
  chatInputCommands: 100,
  userCommands: 15,
  messageCommands: 15,
  /** A bulk overwrite body may list at most 100 + 15 + 15 commands; longer arrays fail before counting. */
  bulkBody: 130,
} as const;

/**
 * The documented CHAT_INPUT name pattern. Discord's docs today include the apostrophe; older copies
 * of the docs (and our brief) omit it. We follow the current docs.
 */
export const CHAT_INPUT_NAME_PATTERN = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

/**
 * The locales a localization map may use (developers/reference.mdx, "Locales"); any other key is
 * refused, as Discord refuses it.
 */
export const DISCORD_LOCALES: ReadonlySet<string> = new Set([
  "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl", "pt-BR",
  "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko",
]);

/** Values of `contexts` (guild, bot DM, private channel) and `integration_types` (guild, user install). */
const INTERACTION_CONTEXTS = [0, 1, 2];
const INTEGRATION_TYPES = [0, 1];

const SUBCOMMAND_TYPES: ReadonlySet<number> = new Set([
  ApplicationCommandOptionType.Subcommand,
  ApplicationCommandOptionType.SubcommandGroup,
]);

const CHOICE_TYPES: ReadonlySet<number> = new Set([
  ApplicationCommandOptionType.String,
  ApplicationCommandOptionType.Integer,
  ApplicationCommandOptionType.Number,
]);

const OPTION_TYPES = Object.values(ApplicationCommandOptionType).filter((value): value is number => typeof value === "number");

function add(errors: FormErrors, path: FormPath, item: { code: string; message: string }): void {
  errors.add(path, item.code, item.message);
}

type TextCheck = (errors: FormErrors, path: FormPath, text: unknown) => void;

/**
 * A `name_localizations` or `description_localizations` map: known locales only, each value null
 * or held to the same rule as the default text. Returns the longest text among the default and its
 * localizations, which is what Discord counts toward a command's size ("only the longest
 * localization for each field (including the default value) is counted").
 */
function checkLocalized(errors: FormErrors, path: FormPath, owner: JsonRecord, field: "name" | "description", check: TextCheck): number {
  const key = `${field}_localizations`;
  const map = owner[key];
  let longest = sizeOf(owner[field]);
  if (map === undefined || map === null) return longest;
  if (!isRecord(map)) {
    add(errors, [...path, key], formError.objectType());
    return longest;
  }
  for (const [locale, text] of Object.entries(map)) {
    if (!DISCORD_LOCALES.has(locale)) {
      add(errors, [...path, key, locale], formError.choices([...DISCORD_LOCALES]));
      continue;
    }
    if (text === null) continue;
    check(errors, [...path, key, locale], text);
    longest = Math.max(longest, sizeOf(text));
  }
  return longest;
}

function checkValues(errors: FormErrors, path: FormPath, values: unknown, allowed: readonly number[]): void {
  if (values === undefined || values === null) return;
  if (!Array.isArray(values)) return add(errors, path, formError.arrayType());
  values.forEach((value: unknown, index) => {
    if (!isInteger(value) || !allowed.includes(value)) add(errors, [...path, index], formError.choices(allowed));
  });
}

function checkChoiceName(errors: FormErrors, path: FormPath, name: unknown): void {
  if (typeof name !== "string" || name === "" || textLength(name) > COMMAND_LIMITS.choiceName) {
    add(errors, path, formError.badLength(1, COMMAND_LIMITS.choiceName));
  }
}

/** USER and MESSAGE command names: mixed case and spaces allowed, 1–32 characters. */
function checkContextMenuName(errors: FormErrors, path: FormPath, name: unknown): void {
  if (typeof name !== "string" || name.trim() === "" || textLength(name) > COMMAND_LIMITS.name) {
    add(errors, path, formError.badLength(1, COMMAND_LIMITS.name));
  }
}

/** A chat-input name (command or option): the regex, then "lowercase where a lowercase exists". */
function checkChatInputName(errors: FormErrors, path: FormPath, name: unknown): void {
  if (typeof name !== "string" || name === "") return add(errors, path, formError.required());
  if (textLength(name) > COMMAND_LIMITS.name) return add(errors, path, formError.badLength(1, COMMAND_LIMITS.name));
  if (!CHAT_INPUT_NAME_PATTERN.test(name)) {
    add(errors, path, formError.stringRegex());
    add(errors, path, formError.commandInvalidName());
    return;
  }
  if (name.toLowerCase() !== name) add(errors, path, formError.commandInvalidName());
}

function checkDescription(errors: FormErrors, path: FormPath, description: unknown): void {
  if (typeof description !== "string" || description === "") return add(errors, path, formError.badLength(1, COMMAND_LIMITS.description));
  if (textLength(description) > COMMAND_LIMITS.description) add(errors, path, formError.badLength(1, COMMAND_LIMITS.description));
}

/** Counts characters toward the 8000-character per-command budget. */
function sizeOf(value: unknown): number {
  return typeof value === "string" ? textLength(value) : typeof value === "number" ? String(value).length : 0;
}

function validateChoices(errors: FormErrors, path: FormPath, option: JsonRecord): number {
  const choices = option.choices;
  if (choices === undefined || choices === null) return 0;
  if (!Array.isArray(choices)) {
    add(errors, path, formError.arrayType());
    return 0;
  }
  if (!isInteger(option.type) || !CHOICE_TYPES.has(option.type)) add(errors, path, formError.maxLength(0));
  if (choices.length > COMMAND_LIMITS.choices) add(errors, path, formError.maxLength(COMMAND_LIMITS.choices));
  if (option.autocomplete === true && choices.length > 0) {
    add(errors, [...path.slice(0, -1), "autocomplete"], {
      code: "APPLICATION_COMMAND_OPTIONS_AUTOCOMPLETE_CHOICES_EXCLUSIVE",
      message: "Autocomplete and choices are mutually exclusive",
    });
  }
  let size = 0;
  choices.forEach((choice: unknown, index) => {
    const choicePath = [...path, index];
    if (!isRecord(choice)) return add(errors, choicePath, formError.objectType());
    checkChoiceName(errors, [...choicePath, "name"], choice.name);
    const nameSize = checkLocalized(errors, choicePath, choice, "name", checkChoiceName);
    if (option.type === ApplicationCommandOptionType.String) {
      if (typeof choice.value !== "string") add(errors, [...choicePath, "value"], formError.stringType());
      else if (textLength(choice.value) > COMMAND_LIMITS.choiceStringValue) {
        add(errors, [...choicePath, "value"], formError.maxLength(COMMAND_LIMITS.choiceStringValue));
      }
    } else if (typeof choice.value !== "number") add(errors, [...choicePath, "value"], formError.numberType());
    size += nameSize + sizeOf(choice.value);
  });
  return size;
}

/** Validates an options array at any depth; returns its character size. */
function validateOptions(errors: FormErrors, path: FormPath, options: unknown, depth: 0 | 1 | 2): number {
  if (options === undefined || options === null) return 0;
  if (!Array.isArray(options)) {
    add(errors, path, formError.arrayType());
    return 0;
  }
  if (options.length > COMMAND_LIMITS.options) add(errors, path, formError.maxLength(COMMAND_LIMITS.options));
  const names = new Set<string>();
  let sawOptional = false;
  let size = 0;
  const types = options.map((option: unknown) => (isRecord(option) && isInteger(option.type) ? option.type : -1));
  const hasSubcommands = types.some((type) => SUBCOMMAND_TYPES.has(type));
  options.forEach((option: unknown, index) => {
    const optionPath = [...path, index];
    if (!isRecord(option)) return add(errors, optionPath, formError.objectType());
    const type = option.type;
    if (!isInteger(type) || !OPTION_TYPES.includes(type)) return add(errors, [...optionPath, "type"], formError.choices(OPTION_TYPES));
    checkChatInputName(errors, [...optionPath, "name"], option.name);
    checkDescription(errors, [...optionPath, "description"], option.description);
    size += checkLocalized(errors, optionPath, option, "name", checkChatInputName);
    size += checkLocalized(errors, optionPath, option, "description", checkDescription);
    if (typeof option.name === "string") {
      if (names.has(option.name)) add(errors, [...optionPath, "name"], formError.commandOptionsDuplicateName());
      names.add(option.name);
    }
    const isSubcommand = SUBCOMMAND_TYPES.has(type);
    // Subcommands may only sit at the top or inside a group; groups only at the top; never mixed with values.
    if (isSubcommand) {
      const allowed = type === ApplicationCommandOptionType.Subcommand ? depth <= 1 : depth === 0;
      if (!allowed) add(errors, [...optionPath, "type"], { code: "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", message: "Sub-command nesting is too deep" });
      const childDepth = type === ApplicationCommandOptionType.SubcommandGroup ? 1 : 2;
      if (type === ApplicationCommandOptionType.SubcommandGroup && Array.isArray(option.options)) {
        option.options.forEach((child: unknown, childIndex) => {
          if (isRecord(child) && child.type !== ApplicationCommandOptionType.Subcommand) {
            add(errors, [...optionPath, "options", childIndex, "type"], {
              code: "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
              message: "Sub-command groups may only contain sub-commands",
            });
          }
        });
      }
      size += validateOptions(errors, [...optionPath, "options"], option.options, childDepth);
      return;
    }
    if (hasSubcommands) {
      add(errors, [...optionPath, "type"], {
        code: "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
        message: "Sub-command and sub-command group option types are mutually exclusive to all other types",
      });
    }
    if (option.options !== undefined) add(errors, [...optionPath, "options"], formError.maxLength(0));
    const required = option.required === true;
    if (required && sawOptional) add(errors, optionPath, formError.requiredOptionsOrder());
    if (!required) sawOptional = true;
    size += validateChoices(errors, [...optionPath, "choices"], option);
    if (type === ApplicationCommandOptionType.String) {
      for (const key of ["min_length", "max_length"] as const) {
        const value = option[key];
        const min = key === "min_length" ? 0 : 1;
        if (value !== undefined && (!isInteger(value) || value < min || value > COMMAND_LIMITS.stringOptionLength)) {
          add(errors, [...optionPath, key], value !== undefined && isInteger(value) && value < min ? formError.numberMin(min) : formError.numberMax(COMMAND_LIMITS.stringOptionLength));
        }
      }
    }
  });
  return size;
}

export interface ValidatedCommandInput {
  readonly type: ApplicationCommandType;
  readonly name: string;
  readonly body: JsonRecord;
}

/**
 * Validates a bulk-overwrite body. Problems are reported per command index the way Discord
 * does (`errors["0"].name._errors`), and counts beyond the per-app maxima fail with 30032.
 */
export function validateCommandList(body: unknown): ValidatedCommandInput[] {
  const errors = new FormErrors();
  if (!Array.isArray(body)) {
    add(errors, [], formError.arrayType());
    errors.throwIfAny();
    return [];
  }
  // Observed on Discord: 134 commands → 50035 "Must be 130 or fewer in length." at the root;
  // 101–130 chat-input commands → 30032 (github.com/chenhg5/cc-connect/issues/504).
  if (body.length > COMMAND_LIMITS.bulkBody) {
    add(errors, [], formError.maxLength(COMMAND_LIMITS.bulkBody));
    errors.throwIfAny();
  }
  const seen = new Set<string>();
  const result: ValidatedCommandInput[] = [];
  body.forEach((command: unknown, index) => {
    const path = [index];
    if (!isRecord(command)) return add(errors, path, formError.objectType());
    const type = command.type ?? ApplicationCommandType.ChatInput;
    const supported = [ApplicationCommandType.ChatInput, ApplicationCommandType.User, ApplicationCommandType.Message];
    if (!isInteger(type) || !supported.includes(type)) return add(errors, [...path, "type"], formError.choices(supported));
    const name = command.name;
    let size = 0;
    checkValues(errors, [...path, "contexts"], command.contexts, INTERACTION_CONTEXTS);
    checkValues(errors, [...path, "integration_types"], command.integration_types, INTEGRATION_TYPES);
    if (type === ApplicationCommandType.ChatInput) {
      checkChatInputName(errors, [...path, "name"], name);
      checkDescription(errors, [...path, "description"], command.description);
      size += checkLocalized(errors, path, command, "name", checkChatInputName);
      size += checkLocalized(errors, path, command, "description", checkDescription);
      size += validateOptions(errors, [...path, "options"], command.options, 0);
    } else {
      // USER and MESSAGE commands: mixed case and spaces allowed; no description, no options.
      checkContextMenuName(errors, [...path, "name"], name);
      size += checkLocalized(errors, path, command, "name", checkContextMenuName);
      if (typeof command.description === "string" && command.description !== "") {
        add(errors, [...path, "description"], formError.maxLength(0));
      }
      if (Array.isArray(command.options) && command.options.length > 0) add(errors, [...path, "options"], formError.maxLength(0));
    }
    if (size > COMMAND_LIMITS.totalCharacters) add(errors, path, formError.commandTooLarge());
    if (typeof name === "string") {
      const key = `${type}:${name}`;
      if (seen.has(key)) add(errors, path, formError.commandsDuplicateName());
      seen.add(key);
      result.push({ type, name, body: command });
    }
  });
  errors.throwIfAny();
  const counts = new Map<number, number>();
  for (const command of result) counts.set(command.type, (counts.get(command.type) ?? 0) + 1);
  const maxima: Array<[ApplicationCommandType, number]> = [
    [ApplicationCommandType.ChatInput, COMMAND_LIMITS.chatInputCommands],
    [ApplicationCommandType.User, COMMAND_LIMITS.userCommands],
    [ApplicationCommandType.Message, COMMAND_LIMITS.messageCommands],
  ];
  for (const [type, max] of maxima) {
    if ((counts.get(type) ?? 0) > max) throw discordError.tooManyCommands(max);
  }
  return result;
}
