import { z } from "zod";
import { discordLimits } from "./limits.js";

/**
 * Custom ids are the only state Discord hands back with a click or a modal submit, and anyone can
 * craft one, so they are parsed into typed data (and refused when malformed) before a handler runs.
 * Format: `<kind>:<field>:<field>…`, short enough for Discord's 100-character limit.
 */

const songId = z.string().regex(/^[A-Za-z0-9_-]{6,32}$/);
const gender = z.enum(["female", "male"]);
const format = z.enum(["mp3", "wav"]);
const flag = z.enum(["0", "1"]).transform((value) => value === "1");

export const songActions = ["regen", "voice", "edit", "analyze"] as const;
export type SongAction = (typeof songActions)[number];

export const analysisActions = ["transcribe", "music", "emotion", "translate", "ask"] as const;
export type AnalysisAction = (typeof analysisActions)[number];

export type CustomId =
  | { kind: "song-action"; action: SongAction; songId: string }
  | { kind: "song-new-modal"; gender: "female" | "male"; format: "mp3" | "wav"; watermark: boolean }
  | { kind: "song-edit-modal"; songId: string }
  | { kind: "analysis-action"; action: AnalysisAction; conversationId: string }
  | { kind: "analysis-page"; conversationId: string; answer: number; page: number }
  | { kind: "analysis-share"; conversationId: string; answer: number }
  | { kind: "analysis-pick"; conversationId: string }
  | { kind: "analysis-ask-modal"; conversationId: string }
  /** Cancel a queued job, or try an interrupted one again. */
  | { kind: "job-action"; action: JobAction; jobId: string };

export const jobActions = ["cancel", "retry"] as const;
export type JobAction = (typeof jobActions)[number];
const jobId = z.string().uuid();

const smallIndex = z.string().regex(/^\d{1,3}$/).transform(Number);

const schemas = {
  song: z.tuple([z.enum(songActions), songId]).transform(([action, id]): CustomId => ({ kind: "song-action", action, songId: id })),
  songnew: z
    .tuple([gender, format, flag])
    .transform(([g, f, w]): CustomId => ({ kind: "song-new-modal", gender: g, format: f, watermark: w })),
  songedit: z.tuple([songId]).transform(([id]): CustomId => ({ kind: "song-edit-modal", songId: id })),
  an: z.tuple([z.enum(analysisActions), songId]).transform(([action, id]): CustomId => ({ kind: "analysis-action", action, conversationId: id })),
  anpg: z
    .tuple([songId, smallIndex, smallIndex])
    .transform(([id, answer, page]): CustomId => ({ kind: "analysis-page", conversationId: id, answer, page })),
  anshare: z.tuple([songId, smallIndex]).transform(([id, answer]): CustomId => ({ kind: "analysis-share", conversationId: id, answer })),
  anpick: z.tuple([songId]).transform(([id]): CustomId => ({ kind: "analysis-pick", conversationId: id })),
  anask: z.tuple([songId]).transform(([id]): CustomId => ({ kind: "analysis-ask-modal", conversationId: id })),
  job: z.tuple([z.enum(jobActions), jobId]).transform(([action, id]): CustomId => ({ kind: "job-action", action, jobId: id })),
} as const;

export function encodeCustomId(id: CustomId): string {
  let encoded: string;
  switch (id.kind) {
    case "song-action":
      encoded = `song:${id.action}:${id.songId}`;
      break;
    case "song-new-modal":
      encoded = `songnew:${id.gender}:${id.format}:${id.watermark ? "1" : "0"}`;
      break;
    case "song-edit-modal":
      encoded = `songedit:${id.songId}`;
      break;
    case "analysis-action":
      encoded = `an:${id.action}:${id.conversationId}`;
      break;
    case "analysis-page":
      encoded = `anpg:${id.conversationId}:${id.answer}:${id.page}`;
      break;
    case "analysis-share":
      encoded = `anshare:${id.conversationId}:${id.answer}`;
      break;
    case "analysis-pick":
      encoded = `anpick:${id.conversationId}`;
      break;
    case "analysis-ask-modal":
      encoded = `anask:${id.conversationId}`;
      break;
    case "job-action":
      encoded = `job:${id.action}:${id.jobId}`;
      break;
  }
  if (encoded.length > discordLimits.customId) throw new Error(`custom id too long: ${encoded.length}`);
  return encoded;
}

export function parseCustomId(raw: string): CustomId | undefined {
  const [prefix, ...parts] = raw.split(":");
  if (prefix === undefined || !Object.hasOwn(schemas, prefix)) return undefined;
  const parsed = schemas[prefix as keyof typeof schemas].safeParse(parts);
  return parsed.success ? parsed.data : undefined;
}
