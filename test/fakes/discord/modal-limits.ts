import { ComponentType, TextInputStyle } from "discord.js";
import { formError, type FormErrors, type FormPath } from "./errors.js";
import { addItem, checkIntegerRange, checkOptionalText, checkRequiredText, componentTypeInvalid, SELECT_TYPES } from "./field-checks.js";
import { isInteger, isRecord, type JsonRecord } from "./json.js";

/** Modal limits from developers/components/reference.mdx (Text Input, Label) and receiving-and-responding.mdx (Modal). */
export const MODAL_LIMITS = {
  title: 45,
  customId: 100,
  components: 5,
  textInputLabel: 45,
  labelDescription: 100,
  textInputLength: 4000,
  textInputPlaceholder: 100,
} as const;

const LABEL_CHILD_TYPES: ReadonlySet<number> = new Set([
  ComponentType.TextInput,
  ...SELECT_TYPES,
  ComponentType.FileUpload,
  ComponentType.RadioGroup,
  ComponentType.CheckboxGroup,
  ComponentType.Checkbox,
]);

function validateTextInput(errors: FormErrors, path: FormPath, input: JsonRecord, inLegacyRow: boolean, ids: Set<string>): void {
  const before = ids.size;
  checkRequiredText(errors, [...path, "custom_id"], input.custom_id, MODAL_LIMITS.customId);
  if (typeof input.custom_id === "string" && input.custom_id !== "") {
    ids.add(input.custom_id);
    if (ids.size === before) addItem(errors, [...path, "custom_id"], formError.customIdDuplicated());
  }
  const styles = [TextInputStyle.Short, TextInputStyle.Paragraph];
  if (!isInteger(input.style) || !styles.includes(input.style)) addItem(errors, [...path, "style"], formError.choices(styles));
  // Inside an action row the text input carries its own label; inside a Label component the label lives outside.
  if (inLegacyRow) checkRequiredText(errors, [...path, "label"], input.label, MODAL_LIMITS.textInputLabel);
  else checkOptionalText(errors, [...path, "label"], input.label, MODAL_LIMITS.textInputLabel);
  checkIntegerRange(errors, [...path, "min_length"], input.min_length, 0, MODAL_LIMITS.textInputLength);
  checkIntegerRange(errors, [...path, "max_length"], input.max_length, 1, MODAL_LIMITS.textInputLength);
  if (isInteger(input.min_length) && isInteger(input.max_length) && input.min_length > input.max_length) {
    addItem(errors, [...path, "min_length"], formError.numberMax(input.max_length));
  }
  const maxLength = isInteger(input.max_length) ? Math.min(input.max_length, MODAL_LIMITS.textInputLength) : MODAL_LIMITS.textInputLength;
  checkOptionalText(errors, [...path, "value"], input.value, maxLength);
  checkOptionalText(errors, [...path, "placeholder"], input.placeholder, MODAL_LIMITS.textInputPlaceholder);
  if (input.required !== undefined && typeof input.required !== "boolean") addItem(errors, [...path, "required"], formError.booleanType());
}

/** Validates a type 9 (MODAL) callback's `data`. */
export function validateModal(errors: FormErrors, path: FormPath, data: unknown): void {
  if (!isRecord(data)) return addItem(errors, path, formError.objectType());
  checkRequiredText(errors, [...path, "custom_id"], data.custom_id, MODAL_LIMITS.customId);
  checkRequiredText(errors, [...path, "title"], data.title, MODAL_LIMITS.title);
  const components = data.components;
  if (!Array.isArray(components) || components.length === 0 || components.length > MODAL_LIMITS.components) {
    return addItem(errors, [...path, "components"], formError.badLength(1, MODAL_LIMITS.components));
  }
  const ids = new Set<string>();
  components.forEach((component: unknown, index) => {
    const componentPath = [...path, "components", index];
    if (!isRecord(component)) return addItem(errors, componentPath, formError.objectType());
    if (component.type === ComponentType.ActionRow) {
      const children = component.components;
      if (!Array.isArray(children) || children.length === 0) {
        return addItem(errors, [...componentPath, "components"], formError.badLength(1, 1));
      }
      children.forEach((child: unknown, childIndex) => {
        const childPath = [...componentPath, "components", childIndex];
        // A text input is as wide as the row, so a second one in the same row exceeds the width.
        if (childIndex >= 1) return addItem(errors, childPath, formError.layoutWidthExceeded());
        if (!isRecord(child) || child.type !== ComponentType.TextInput) return addItem(errors, [...childPath, "type"], componentTypeInvalid);
        validateTextInput(errors, childPath, child, true, ids);
      });
      return;
    }
    if (component.type === ComponentType.Label) {
      checkRequiredText(errors, [...componentPath, "label"], component.label, MODAL_LIMITS.textInputLabel);
      checkOptionalText(errors, [...componentPath, "description"], component.description, MODAL_LIMITS.labelDescription);
      const child = component.component;
      if (!isRecord(child)) return addItem(errors, [...componentPath, "component"], formError.required());
      if (child.type === ComponentType.TextInput) return validateTextInput(errors, [...componentPath, "component"], child, false, ids);
      if (!isInteger(child.type) || !LABEL_CHILD_TYPES.has(child.type)) {
        return addItem(errors, [...componentPath, "component", "type"], componentTypeInvalid);
      }
      checkRequiredText(errors, [...componentPath, "component", "custom_id"], child.custom_id, MODAL_LIMITS.customId);
      return;
    }
    if (component.type === ComponentType.TextDisplay) {
      checkRequiredText(errors, [...componentPath, "content"], component.content, 4000);
      return;
    }
    addItem(errors, [...componentPath, "type"], componentTypeInvalid);
  });
}
