/**
 * What the bot asks Qwen-Audio. Answers come back as labelled lines so the reply can show each
 * part (transcript, speaker, music…) as its own section; labels stay English whatever the
 * answer's language, so parsing never depends on translation.
 */

import { englishLanguageName } from "../i18n/locales.js";

export const sectionLabels = ["Summary", "Transcript", "Language", "Speaker", "Emotion", "Sounds", "Music"] as const;
export type SectionLabel = (typeof sectionLabels)[number];

export type AnalysisQuestion =
  | { kind: "overview" }
  | { kind: "transcribe" }
  | { kind: "music" }
  | { kind: "emotion" }
  | { kind: "translate" }
  | { kind: "ask"; question: string };

/**
 * The language a Discord locale stands for, in English words the model understands ("Danish",
 * "Brazilian Portuguese", "Simplified Chinese", "Japanese"); English when unknown. The member's
 * own language, even one the bot's catalogs don't have: Qwen-Audio writes many more.
 */
export function languageOfLocale(locale: string | undefined): string {
  return englishLanguageName(locale);
}

export function systemPrompt(language: string): string {
  return `You are an attentive audio analyst in a Discord server. Describe only what you can hear. Write your answers in ${language}, but keep any line labels exactly as given in English.`;
}

export function questionText(question: AnalysisQuestion, language: string): string {
  switch (question.kind) {
    case "overview":
      return [
        "Listen to this audio and describe it. Answer with these labelled lines, leaving out any that do not apply:",
        "Summary: one or two sentences on what the audio is.",
        "Transcript: the words spoken or sung, verbatim.",
        "Language: the language(s) spoken.",
        "Speaker: apparent gender, age range and number of speakers.",
        "Emotion: the speaker's emotion and tone.",
        "Sounds: background sounds and the environment.",
        "Music: genre, instruments, tempo and mood.",
      ].join("\n");
    case "transcribe":
      return "Transcribe every word spoken or sung in this audio, verbatim, in its original language. Start the answer with \"Transcript:\".";
    case "music":
      return "Describe the music in this audio: genre, instruments, tempo, key or mode if you can tell, and mood. Start the answer with \"Music:\".";
    case "emotion":
      return "Describe the emotion and tone of each speaker in this audio, and what in the voice shows it. Start the answer with \"Emotion:\".";
    case "translate":
      return `Translate what is said or sung in this audio into ${language}. Start the answer with "Transcript:".`;
    case "ask":
      return question.question;
  }
}
