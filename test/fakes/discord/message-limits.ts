import { ButtonStyle, ComponentType, MessageFlags } from "discord.js";
import { formError, type FormErrors, type FormPath } from "./errors.js";
import { addItem, checkIntegerRange, checkOptionalText, checkRequiredText, componentTypeInvalid, SELECT_TYPES } from "./field-checks.js";
import { isInteger, isRecord, textLength, type JsonRecord } from "./json.js";

/**
 * Discord's documented message limits (developers/resources/message.mdx "Embed Limits",
 * developers/components/reference.mdx, developers/interactions/receiving-and-responding.mdx).
 */
export const MESSAGE_LIMITS = {
  content: 2000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  embedFieldName: 256,
  embedFieldValue: 1024,
  embedFooterText: 2048,
  embedAuthorName: 256,
  embedTotal: 6000,
  embedColorMax: 0xffffff,
  actionRows: 5,
  buttonsPerRow: 5,
  customId: 100,
  buttonLabel: 80,
  buttonUrl: 512,
  selectOptions: 25,
  selectOptionText: 100,
  selectPlaceholder: 150,
  selectValues: 25,
  attachments: 10,
  attachmentDescription: 1024,
  componentsV2Total: 40,
  allowedMentionIds: 100,
} as const;

/**
 * Message flags a bot may set when creating a message; Discord silently ignores the rest
 * (receiving-and-responding.mdx: "only SUPPRESS_EMBEDS, EPHEMERAL, IS_COMPONENTS_V2,
 * IS_VOICE_MESSAGE, and SUPPRESS_NOTIFICATIONS can be set").
 */
export const SETTABLE_MESSAGE_FLAGS =
  MessageFlags.SuppressEmbeds |
  MessageFlags.Ephemeral |
  MessageFlags.IsComponentsV2 |
  MessageFlags.IsVoiceMessage |
  MessageFlags.SuppressNotifications;

const V2_LAYOUT_TYPES: ReadonlySet<number> = new Set([
  ComponentType.Section,
  ComponentType.TextDisplay,
  ComponentType.Thumbnail,
  ComponentType.MediaGallery,
  ComponentType.File,
  ComponentType.Separator,
  ComponentType.Container,
]);

/** Embed URLs accept http(s) and, for media, `attachment://` references to uploaded files. */
function checkUrl(errors: FormErrors, path: FormPath, value: unknown, schemes: readonly string[], required: boolean): void {
  if (value === undefined || value === null) {
    if (required) addItem(errors, path, formError.required());
    return;
  }
  if (typeof value !== "string") return addItem(errors, path, formError.stringType());
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return addItem(errors, path, formError.invalidUrl());
  }
  const scheme = parsed.protocol.replace(/:$/, "");
  if (!schemes.includes(scheme)) addItem(errors, path, formError.invalidUrlScheme(scheme, schemes));
}

const MEDIA_SCHEMES = ["http", "https", "attachment"] as const;
const LINK_SCHEMES = ["http", "https"] as const;

/** Validates one embed and returns how many characters it adds to the 6000-character total. */
function validateEmbed(errors: FormErrors, path: FormPath, embed: unknown): number {
  if (!isRecord(embed)) {
    addItem(errors, path, formError.objectType());
    return 0;
  }
  let total = 0;
  // Discord trims leading and trailing whitespace before measuring (message.mdx, "Embed Limits").
  total += checkOptionalText(errors, [...path, "title"], embed.title, MESSAGE_LIMITS.embedTitle, true);
  total += checkOptionalText(errors, [...path, "description"], embed.description, MESSAGE_LIMITS.embedDescription, true);
  checkUrl(errors, [...path, "url"], embed.url, LINK_SCHEMES, false);
  checkIntegerRange(errors, [...path, "color"], embed.color, 0, MESSAGE_LIMITS.embedColorMax);
  if (embed.timestamp !== undefined && embed.timestamp !== null) {
    if (typeof embed.timestamp !== "string" || Number.isNaN(Date.parse(embed.timestamp))) {
      addItem(errors, [...path, "timestamp"], {
        code: "DATE_TIME_TYPE_PARSE",
        message: `Could not parse ${String(embed.timestamp)}. Should be ISO8601.`,
      });
    }
  }
  if (embed.footer !== undefined && embed.footer !== null) {
    if (!isRecord(embed.footer)) addItem(errors, [...path, "footer"], formError.objectType());
    else {
      total += checkRequiredText(errors, [...path, "footer", "text"], embed.footer.text, MESSAGE_LIMITS.embedFooterText, { trim: true });
      checkUrl(errors, [...path, "footer", "icon_url"], embed.footer.icon_url, MEDIA_SCHEMES, false);
    }
  }
  if (embed.author !== undefined && embed.author !== null) {
    if (!isRecord(embed.author)) addItem(errors, [...path, "author"], formError.objectType());
    else {
      total += checkRequiredText(errors, [...path, "author", "name"], embed.author.name, MESSAGE_LIMITS.embedAuthorName, { trim: true });
      checkUrl(errors, [...path, "author", "url"], embed.author.url, LINK_SCHEMES, false);
      checkUrl(errors, [...path, "author", "icon_url"], embed.author.icon_url, MEDIA_SCHEMES, false);
    }
  }
  for (const media of ["image", "thumbnail"] as const) {
    const value = embed[media];
    if (value === undefined || value === null) continue;
    if (!isRecord(value)) addItem(errors, [...path, media], formError.objectType());
    else checkUrl(errors, [...path, media, "url"], value.url, MEDIA_SCHEMES, true);
  }
  if (embed.fields !== undefined && embed.fields !== null) {
    if (!Array.isArray(embed.fields)) addItem(errors, [...path, "fields"], formError.arrayType());
    else {
      if (embed.fields.length > MESSAGE_LIMITS.embedFields) {
        addItem(errors, [...path, "fields"], formError.maxLength(MESSAGE_LIMITS.embedFields));
      }
      embed.fields.forEach((field: unknown, index) => {
        const fieldPath = [...path, "fields", index];
        if (!isRecord(field)) return addItem(errors, fieldPath, formError.objectType());
        total += checkRequiredText(errors, [...fieldPath, "name"], field.name, MESSAGE_LIMITS.embedFieldName, { trim: true });
        total += checkRequiredText(errors, [...fieldPath, "value"], field.value, MESSAGE_LIMITS.embedFieldValue, { trim: true });
        if (field.inline !== undefined && typeof field.inline !== "boolean") {
          addItem(errors, [...fieldPath, "inline"], formError.booleanType());
        }
      });
    }
  }
  return total;
}

function validateEmbeds(errors: FormErrors, path: FormPath, embeds: unknown): void {
  if (embeds === undefined || embeds === null) return;
  if (!Array.isArray(embeds)) return addItem(errors, path, formError.arrayType());
  if (embeds.length > MESSAGE_LIMITS.embeds) addItem(errors, path, formError.maxLength(MESSAGE_LIMITS.embeds));
  let total = 0;
  embeds.forEach((embed: unknown, index) => {
    total += validateEmbed(errors, [...path, index], embed);
  });
  if (total > MESSAGE_LIMITS.embedTotal) addItem(errors, path, formError.embedTooLarge());
}

interface ComponentScan {
  readonly customIds: Set<string>;
  count: number;
}

function checkCustomId(errors: FormErrors, path: FormPath, value: unknown, scan: ComponentScan): void {
  const before = scan.customIds.size;
  checkRequiredText(errors, path, value, MESSAGE_LIMITS.customId);
  if (typeof value !== "string" || value === "") return;
  scan.customIds.add(value);
  if (scan.customIds.size === before) addItem(errors, path, formError.customIdDuplicated());
}

function validateButton(errors: FormErrors, path: FormPath, button: JsonRecord, scan: ComponentScan): void {
  const style = button.style;
  const styles = [ButtonStyle.Primary, ButtonStyle.Secondary, ButtonStyle.Success, ButtonStyle.Danger, ButtonStyle.Link, ButtonStyle.Premium];
  if (!isInteger(style) || !styles.includes(style)) return addItem(errors, [...path, "style"], formError.choices(styles));
  checkOptionalText(errors, [...path, "label"], button.label, MESSAGE_LIMITS.buttonLabel);
  if (style === ButtonStyle.Link) {
    if (button.custom_id !== undefined) {
      addItem(errors, [...path, "custom_id"], formError.buttonCustomIdUrlExclusive());
    }
    if (button.url === undefined || button.url === null) addItem(errors, [...path, "url"], formError.buttonUrlRequired());
    else {
      checkOptionalText(errors, [...path, "url"], button.url, MESSAGE_LIMITS.buttonUrl);
      checkUrl(errors, [...path, "url"], button.url, ["http", "https", "discord"], true);
    }
    return;
  }
  if (style === ButtonStyle.Premium) {
    if (button.sku_id === undefined) addItem(errors, [...path, "sku_id"], formError.required());
    return;
  }
  if (button.url !== undefined) addItem(errors, [...path, "url"], formError.buttonCustomIdUrlExclusive());
  if (button.custom_id === undefined || button.custom_id === null) {
    addItem(errors, [...path, "custom_id"], formError.buttonCustomIdRequired());
  } else checkCustomId(errors, [...path, "custom_id"], button.custom_id, scan);
}

function validateSelect(errors: FormErrors, path: FormPath, select: JsonRecord, scan: ComponentScan): void {
  checkCustomId(errors, [...path, "custom_id"], select.custom_id, scan);
  checkOptionalText(errors, [...path, "placeholder"], select.placeholder, MESSAGE_LIMITS.selectPlaceholder);
  checkIntegerRange(errors, [...path, "min_values"], select.min_values, 0, MESSAGE_LIMITS.selectValues);
  checkIntegerRange(errors, [...path, "max_values"], select.max_values, 1, MESSAGE_LIMITS.selectValues);
  if (select.type !== ComponentType.StringSelect) return;
  const options = select.options;
  if (!Array.isArray(options) || options.length === 0) {
    return addItem(errors, [...path, "options"], formError.badLength(1, MESSAGE_LIMITS.selectOptions));
  }
  if (options.length > MESSAGE_LIMITS.selectOptions) {
    addItem(errors, [...path, "options"], formError.badLength(1, MESSAGE_LIMITS.selectOptions));
  }
  const values = new Set<string>();
  options.forEach((option: unknown, index) => {
    const optionPath = [...path, "options", index];
    if (!isRecord(option)) return addItem(errors, optionPath, formError.objectType());
    checkRequiredText(errors, [...optionPath, "label"], option.label, MESSAGE_LIMITS.selectOptionText);
    checkRequiredText(errors, [...optionPath, "value"], option.value, MESSAGE_LIMITS.selectOptionText);
    checkOptionalText(errors, [...optionPath, "description"], option.description, MESSAGE_LIMITS.selectOptionText);
    if (typeof option.value === "string") {
      if (values.has(option.value)) addItem(errors, [...optionPath, "value"], formError.selectOptionValueDuplicated());
      values.add(option.value);
    }
  });
  const minValues = isInteger(select.min_values) ? select.min_values : 1;
  const maxValues = isInteger(select.max_values) ? select.max_values : 1;
  if (minValues > options.length) addItem(errors, [...path, "min_values"], formError.numberMax(options.length));
  if (maxValues > options.length) addItem(errors, [...path, "options"], formError.minLength(maxValues));
}

function validateActionRow(errors: FormErrors, path: FormPath, row: JsonRecord, scan: ComponentScan): void {
  const children = row.components;
  if (!Array.isArray(children) || children.length === 0) {
    return addItem(errors, [...path, "components"], formError.badLength(1, MESSAGE_LIMITS.buttonsPerRow));
  }
  const hasSelect = children.some((child: unknown) => isRecord(child) && isInteger(child.type) && SELECT_TYPES.has(child.type));
  const maxWidth = hasSelect ? 1 : MESSAGE_LIMITS.buttonsPerRow;
  children.forEach((child: unknown, index) => {
    const childPath = [...path, "components", index];
    scan.count += 1;
    if (index >= maxWidth) return addItem(errors, childPath, formError.layoutWidthExceeded());
    if (!isRecord(child)) return addItem(errors, childPath, formError.objectType());
    if (child.type === ComponentType.Button) validateButton(errors, childPath, child, scan);
    else if (isInteger(child.type) && SELECT_TYPES.has(child.type)) validateSelect(errors, childPath, child, scan);
    else addItem(errors, [...childPath, "type"], componentTypeInvalid);
  });
}

/** Components V2 layouts: walk the tree for counts and custom ids; deep layout rules are not modelled. */
function validateV2Component(errors: FormErrors, path: FormPath, component: unknown, scan: ComponentScan): void {
  if (!isRecord(component)) return addItem(errors, path, formError.objectType());
  scan.count += 1;
  const type = component.type;
  if (type === ComponentType.ActionRow) return validateActionRow(errors, path, component, scan);
  if (type === ComponentType.TextDisplay) {
    checkRequiredText(errors, [...path, "content"], component.content, 4000);
    return;
  }
  if (type === ComponentType.Section) {
    if (Array.isArray(component.components)) {
      component.components.forEach((child: unknown, index) => validateV2Component(errors, [...path, "components", index], child, scan));
    }
    const accessory = component.accessory;
    if (isRecord(accessory)) {
      scan.count += 1;
      if (accessory.type === ComponentType.Button) validateButton(errors, [...path, "accessory"], accessory, scan);
    }
    return;
  }
  if (type === ComponentType.Container && Array.isArray(component.components)) {
    component.components.forEach((child: unknown, index) => validateV2Component(errors, [...path, "components", index], child, scan));
    return;
  }
  if (isInteger(type) && V2_LAYOUT_TYPES.has(type)) return;
  addItem(errors, [...path, "type"], componentTypeInvalid);
}

function validateComponents(errors: FormErrors, path: FormPath, components: unknown, componentsV2: boolean): void {
  if (components === undefined || components === null) return;
  if (!Array.isArray(components)) return addItem(errors, path, formError.arrayType());
  const scan: ComponentScan = { customIds: new Set(), count: 0 };
  if (componentsV2) {
    components.forEach((component: unknown, index) => validateV2Component(errors, [...path, index], component, scan));
    if (scan.count > MESSAGE_LIMITS.componentsV2Total) {
      addItem(errors, path, formError.maxLength(MESSAGE_LIMITS.componentsV2Total));
    }
    return;
  }
  // Legacy messages: at most 5 top-level action rows (components/reference.mdx, "Legacy Message Component Behavior").
  if (components.length > MESSAGE_LIMITS.actionRows) addItem(errors, path, formError.maxLength(MESSAGE_LIMITS.actionRows));
  components.forEach((row: unknown, index) => {
    const rowPath = [...path, index];
    if (!isRecord(row)) return addItem(errors, rowPath, formError.objectType());
    if (row.type === ComponentType.ActionRow) return validateActionRow(errors, rowPath, row, scan);
    if (isInteger(row.type) && V2_LAYOUT_TYPES.has(row.type)) return addItem(errors, rowPath, formError.requiresComponentsV2());
    addItem(errors, [...rowPath, "type"], componentTypeInvalid);
  });
}

function validateAllowedMentions(errors: FormErrors, path: FormPath, value: unknown): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) return addItem(errors, path, formError.objectType());
  const parseTypes = ["roles", "users", "everyone"];
  const parse = value.parse;
  if (parse !== undefined) {
    if (!Array.isArray(parse)) addItem(errors, [...path, "parse"], formError.arrayType());
    else {
      parse.forEach((entry: unknown, index) => {
        if (typeof entry !== "string" || !parseTypes.includes(entry)) {
          addItem(errors, [...path, "parse", index], formError.choices(parseTypes));
        }
      });
    }
  }
  for (const key of ["users", "roles"] as const) {
    const ids = value[key];
    if (ids === undefined) continue;
    if (!Array.isArray(ids)) {
      addItem(errors, [...path, key], formError.arrayType());
      continue;
    }
    if (ids.length > MESSAGE_LIMITS.allowedMentionIds) addItem(errors, [...path, key], formError.maxLength(MESSAGE_LIMITS.allowedMentionIds));
    const seen = new Set<unknown>();
    ids.forEach((id: unknown, index) => {
      if (seen.has(id)) addItem(errors, [...path, key, index], formError.setDuplicate());
      seen.add(id);
    });
    if (Array.isArray(parse) && parse.includes(key) && ids.length > 0) {
      addItem(errors, path, formError.allowedMentionsParseExclusive(key));
    }
  }
  if (value.replied_user !== undefined && typeof value.replied_user !== "boolean") {
    addItem(errors, [...path, "replied_user"], formError.booleanType());
  }
}

export interface MessageBodyContext {
  /** "create" for new messages (including type 4 callbacks), "edit" for PATCH and type 7 updates. */
  readonly mode: "create" | "edit";
  /** `n` of every `files[n]` part in the request. */
  readonly uploadedFileIndexes: ReadonlySet<string>;
  /** Ids of attachments already on the message (edits may keep them by id). */
  readonly existingAttachmentIds: ReadonlySet<string>;
  /** Whether the resulting message is a Components V2 message (flag set now or earlier). */
  readonly componentsV2: boolean;
}

/** Validates a message create/edit body against Discord's limits; problems go into `errors` under `path`. */
export function validateMessageBody(errors: FormErrors, path: FormPath, body: JsonRecord, context: MessageBodyContext): void {
  if (body.content !== undefined && body.content !== null) {
    if (typeof body.content !== "string") addItem(errors, [...path, "content"], formError.stringType());
    else if (textLength(body.content) > MESSAGE_LIMITS.content) {
      addItem(errors, [...path, "content"], formError.maxLength(MESSAGE_LIMITS.content));
    }
  }
  if (context.componentsV2) {
    for (const legacy of ["content", "embeds"] as const) {
      const value = body[legacy];
      const present = legacy === "content" ? typeof value === "string" && value !== "" : Array.isArray(value) && value.length > 0;
      if (present) {
        addItem(errors, [...path, legacy], {
          code: "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
          message: `The '${legacy}' field cannot be used when using MessageFlags.IS_COMPONENTS_V2`,
        });
      }
    }
  }
  validateEmbeds(errors, [...path, "embeds"], body.embeds);
  validateComponents(errors, [...path, "components"], body.components, context.componentsV2);
  validateAllowedMentions(errors, [...path, "allowed_mentions"], body.allowed_mentions);
  if (body.flags !== undefined && body.flags !== null && !isInteger(body.flags)) {
    addItem(errors, [...path, "flags"], formError.numberType());
  }
  if (body.tts !== undefined && typeof body.tts !== "boolean") addItem(errors, [...path, "tts"], formError.booleanType());
  const attachments = body.attachments;
  if (attachments !== undefined && attachments !== null) {
    if (!Array.isArray(attachments)) addItem(errors, [...path, "attachments"], formError.arrayType());
    else {
      if (attachments.length > MESSAGE_LIMITS.attachments) {
        addItem(errors, [...path, "attachments"], formError.maxLength(MESSAGE_LIMITS.attachments));
      }
      attachments.forEach((attachment: unknown, index) => {
        const attachmentPath = [...path, "attachments", index];
        if (!isRecord(attachment)) return addItem(errors, attachmentPath, formError.objectType());
        const id = attachment.id === undefined || attachment.id === null ? undefined : String(attachment.id);
        if (id === undefined) return addItem(errors, [...attachmentPath, "id"], formError.required());
        const known = context.uploadedFileIndexes.has(id) || (context.mode === "edit" && context.existingAttachmentIds.has(id));
        if (!known) addItem(errors, attachmentPath, formError.attachmentNotFound());
        checkOptionalText(errors, [...attachmentPath, "description"], attachment.description, MESSAGE_LIMITS.attachmentDescription);
        if (attachment.duration_secs !== undefined && typeof attachment.duration_secs !== "number") {
          addItem(errors, [...attachmentPath, "duration_secs"], { code: "NUMBER_TYPE_COERCE", message: "Value is not float." });
        }
        if (attachment.waveform !== undefined && typeof attachment.waveform !== "string") {
          addItem(errors, [...attachmentPath, "waveform"], formError.stringType());
        }
      });
    }
  }
}
