import { ComponentType } from "discord.js";
import { formError, type FormErrors, type FormPath } from "./errors.js";
import { isInteger, textLength } from "./json.js";

/** Shared field checks for message and modal bodies; each adds Discord-worded errors at `path`. */

export const SELECT_TYPES: ReadonlySet<number> = new Set([
  ComponentType.StringSelect,
  ComponentType.UserSelect,
  ComponentType.RoleSelect,
  ComponentType.MentionableSelect,
  ComponentType.ChannelSelect,
]);

export const componentTypeInvalid = { code: "COMPONENT_TYPE_INVALID", message: "The specified component type is invalid in this context" };

/** Adds an error when `value` is present but not a string of at most `max` code points. */
export function checkOptionalText(errors: FormErrors, path: FormPath, value: unknown, max: number, trim = false): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== "string") {
    const item = formError.stringType();
    errors.add(path, item.code, item.message);
    return 0;
  }
  const length = textLength(trim ? value.trim() : value);
  if (length > max) {
    const item = formError.maxLength(max);
    errors.add(path, item.code, item.message);
  }
  return length;
}

/** Adds an error when `value` is missing, empty, or longer than `max`. */
export function checkRequiredText(
  errors: FormErrors,
  path: FormPath,
  value: unknown,
  max: number,
  options: { trim?: boolean; min?: number } = {},
): number {
  if (value === undefined || value === null || (typeof value === "string" && (options.trim ? value.trim() : value) === "")) {
    const item = formError.required();
    errors.add(path, item.code, item.message);
    return 0;
  }
  if (typeof value !== "string") {
    const item = formError.stringType();
    errors.add(path, item.code, item.message);
    return 0;
  }
  const length = textLength(options.trim ? value.trim() : value);
  const min = options.min ?? 1;
  if (length < min || length > max) {
    const item = min > 1 ? formError.badLength(min, max) : length > max ? formError.maxLength(max) : formError.minLength(min);
    errors.add(path, item.code, item.message);
  }
  return length;
}

export function checkIntegerRange(errors: FormErrors, path: FormPath, value: unknown, min: number, max: number): void {
  if (value === undefined || value === null) return;
  if (!isInteger(value)) {
    const item = formError.numberType();
    errors.add(path, item.code, item.message);
    return;
  }
  if (value < min) {
    const item = formError.numberMin(min);
    errors.add(path, item.code, item.message);
  } else if (value > max) {
    const item = formError.numberMax(max);
    errors.add(path, item.code, item.message);
  }
}

export function addItem(errors: FormErrors, path: FormPath, item: { code: string; message: string }): void {
  errors.add(path, item.code, item.message);
}
