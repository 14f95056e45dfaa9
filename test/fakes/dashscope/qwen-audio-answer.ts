import type { ProbedAudio } from "./audio-probe.js";
import { countTextTokens } from "./audio-tokens.js";
import type { ChatMessage } from "./qwen-audio-request.js";

/**
 * The fake's Qwen-Audio "model": a deterministic answer that shows what was heard, so a test can
 * tell which audio (or which piece of a split file) was analysed and whether the history was sent.
 * It does not recognise speech; every fact in an answer comes from ffprobe.
 *
 * Every answer names each audio it talks about as
 * `audio <n>: <seconds to 0.1> s, <channels> channel(s), <codec> (<container>, <rate> Hz), fingerprint <8 hex>`
 * (`n` counts audio items across the whole conversation, in order) and the turn, i.e. the number of
 * user messages ("turn 2"). The audio talked about is the last user message's; if that message has
 * none, the most recent audio earlier in the conversation ("from turn 1"). Audio over 30 s heard only
 * in part (truncation) is described as `30.0 s heard of 75.0 s`.
 *
 * Shapes, chosen from the last user message's text (case-insensitive):
 * - two or more of the headings Summary, Transcript, Language, Speaker, Emotion, Sounds, Music →
 *   one line per heading asked for, in the order the question names them (`Summary: …`);
 * - "in great detail" → a long answer of at least LONG_ANSWER_TOKENS tokens (for paging tests);
 * - "transcribe" → a `Transcript: …` line; "translat…" → a `Translation: …` line;
 * - otherwise a short description that also quotes the question.
 */

export const SECTION_HEADINGS = ["Summary", "Transcript", "Language", "Speaker", "Emotion", "Sounds", "Music"] as const;
export type SectionHeading = (typeof SECTION_HEADINGS)[number];

/** How long a "great detail" answer gets at least, in the fake's tokens. */
export const LONG_ANSWER_TOKENS = 1200;

export type HeardAudio = ProbedAudio & {
  /** 1-based position among all audio items of the conversation. */
  index: number;
  /** The user turn (1-based count of user messages) the audio came with; 0 for other roles. */
  turn: number;
  /** Seconds the model hears (at most 30). */
  heardSeconds: number;
};

export type AnswerInput = { messages: readonly ChatMessage[]; audios: readonly HeardAudio[] };

function seconds(value: number): string {
  return value.toFixed(1);
}

export function describeAudio(audio: HeardAudio): string {
  const length =
    audio.heardSeconds < audio.seconds - 0.05
      ? `${seconds(audio.heardSeconds)} s heard of ${seconds(audio.seconds)} s`
      : `${seconds(audio.seconds)} s`;
  const channels = `${audio.channels} channel${audio.channels === 1 ? "" : "s"}`;
  return `audio ${audio.index}: ${length}, ${channels}, ${audio.codec} (${audio.container}, ${audio.sampleRate} Hz), fingerprint ${audio.fingerprint}`;
}

function lastUserText(messages: readonly ChatMessage[]): string {
  const last = messages.at(-1);
  return (last?.content ?? [])
    .flatMap((item) => (item.kind === "text" ? [item.text] : []))
    .join("\n")
    .trim();
}

/** Headings named in `question`, in the order it names them. */
export function askedHeadings(question: string): SectionHeading[] {
  return SECTION_HEADINGS.map((heading) => ({ heading, at: question.search(new RegExp(`\\b${heading}\\b`, "i")) }))
    .filter((found) => found.at >= 0)
    .sort((a, b) => a.at - b.at)
    .map((found) => found.heading);
}

function focus(input: AnswerInput, turn: number): { audios: HeardAudio[]; note: string } {
  const current = input.audios.filter((audio) => audio.turn === turn);
  if (current.length > 0) return { audios: current, note: "" };
  const earlier = input.audios.filter((audio) => audio.turn > 0 && audio.turn < turn);
  const lastTurn = earlier.at(-1)?.turn;
  if (lastTurn === undefined) return { audios: [], note: "" };
  return { audios: earlier.filter((audio) => audio.turn === lastTurn), note: ` from turn ${lastTurn}` };
}

function section(heading: SectionHeading, audios: HeardAudio[], turn: number, heard: string): string {
  const first = audios[0];
  switch (heading) {
    case "Summary":
      return `Summary: Turn ${turn}. ${heard}.`;
    case "Transcript":
      return `Transcript: ${audios.length === 0 ? "no audio to transcribe" : audios.map((a) => `[audio ${a.index}, 0.0-${seconds(a.heardSeconds)} s] no words recognised by the fake model`).join(" ")}`;
    case "Language":
      return "Language: unknown (the fake model does not recognise speech)";
    case "Speaker":
      return `Speaker: ${first === undefined ? "nobody" : first.channels === 1 ? "one channel, at most one voice" : `${first.channels} channels, voices not told apart`}`;
    case "Emotion":
      return "Emotion: neutral";
    case "Sounds":
      return `Sounds: ${audios.length === 0 ? "none" : audios.map((a) => `${a.codec} audio at ${a.sampleRate} Hz for ${seconds(a.heardSeconds)} s`).join("; ")}`;
    case "Music":
      return `Music: ${first !== undefined && first.channels >= 2 ? "possibly music (stereo)" : "none detected"}`;
  }
}

function longAnswer(audios: HeardAudio[], turn: number, heard: string): string {
  const lines = [`Turn ${turn}. A detailed account of ${heard}.`];
  let step = 0;
  while (countTextTokens(lines.join("\n")) < LONG_ANSWER_TOKENS) {
    const audio = audios.length === 0 ? undefined : audios[step % audios.length];
    const at = audio === undefined ? step : step % Math.max(1, Math.ceil(audio.heardSeconds));
    const line =
      audio === undefined
        ? `Paragraph ${step + 1}: there is no audio in this conversation, so this detail is about the question itself.`
        : `Paragraph ${step + 1}: around second ${at} of audio ${audio.index} (${audio.codec}, ${audio.channels} channel${audio.channels === 1 ? "" : "s"}, fingerprint ${audio.fingerprint}) the signal continues without recognisable words.`;
    lines.push(line);
    step += 1;
  }
  return lines.join("\n");
}

/** The whole answer, before `max_tokens` cuts it. */
export function writeAnswer(input: AnswerInput): string {
  const turn = input.messages.filter((m) => m.role === "user").length;
  const question = lastUserText(input.messages);
  const { audios, note } = focus(input, turn);
  const heard = audios.length === 0 ? "no audio" : `${audios.map(describeAudio).join("; ")}${note}`;
  const headings = askedHeadings(question);
  if (headings.length >= 2) return headings.map((heading) => section(heading, audios, turn, heard)).join("\n");
  if (/in great detail/i.test(question)) return longAnswer(audios, turn, heard);
  if (/transcri/i.test(question)) return `${section("Transcript", audios, turn, heard)} (turn ${turn}; ${heard}).`;
  if (/translat/i.test(question)) {
    const target = /\b(?:into|to)\s+([A-Z][\p{L}-]*)/u.exec(question)?.[1] ?? "the requested language";
    return `Translation (${target}): nothing to translate, no words recognised in ${heard} (turn ${turn}).`;
  }
  const quoted = question === "" ? "no text question" : `"${question.length > 200 ? `${question.slice(0, 200)}…` : question}"`;
  return `Turn ${turn}. I heard ${heard}. You asked ${quoted}.`;
}
