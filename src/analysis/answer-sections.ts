import { sectionLabels, type SectionLabel } from "./prompts.js";

export type AnswerSections = Partial<Record<SectionLabel, string>>;

const labelPattern = new RegExp(`^\\s*(?:[-*•]\\s*)?(?:\\*\\*)?(${sectionLabels.join("|")})(?:\\*\\*)?\\s*[:：]\\s*(?:\\*\\*)?\\s*`, "i");
const emptyValues = /^(?:none|n\/a|not applicable|no music|no speech|-|—|无|없음|なし)\.?$/i;

/**
 * Splits an answer into its labelled sections. Text before any label, or an answer without
 * labels at all, becomes the summary, so nothing the model said is dropped.
 */
export function parseAnswerSections(text: string): AnswerSections {
  const sections: AnswerSections = {};
  let current: SectionLabel = "Summary";
  const buffers = new Map<SectionLabel, string[]>();
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    const match = labelPattern.exec(line);
    if (match?.[1]) {
      current = sectionLabels.find((label) => label.toLowerCase() === match[1]?.toLowerCase()) ?? "Summary";
      const rest = line.slice(match[0].length);
      buffers.set(current, [...(buffers.get(current) ?? []), rest]);
      continue;
    }
    buffers.set(current, [...(buffers.get(current) ?? []), line]);
  }
  for (const [label, lines] of buffers) {
    const value = lines.join("\n").trim();
    if (value !== "" && !emptyValues.test(value)) sections[label] = value;
  }
  return sections;
}

export type PieceAnswer = { startSeconds: number; endSeconds: number; text: string };

export function formatTimestamp(seconds: number): string {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/**
 * One answer per piece of a split recording becomes one set of sections, each piece's part
 * marked with its time range (even when only one part was answered). Unsplit audio needs no ranges.
 */
export function mergePieceAnswers(pieces: PieceAnswer[], options: { split: boolean }): AnswerSections {
  if (!options.split && pieces.length === 1 && pieces[0]) return parseAnswerSections(pieces[0].text);
  const merged: AnswerSections = {};
  for (const piece of pieces) {
    const range = `${formatTimestamp(piece.startSeconds)}–${formatTimestamp(piece.endSeconds)}`;
    for (const [label, value] of Object.entries(parseAnswerSections(piece.text)) as Array<[SectionLabel, string]>) {
      const part = `[${range}] ${value}`;
      merged[label] = merged[label] ? `${merged[label]}\n${part}` : part;
    }
  }
  return merged;
}
