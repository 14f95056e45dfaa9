/**
 * How the fake counts Qwen-Audio tokens. The real tokenizer is not available here; these rules are
 * the documented rough equivalents, applied the same way to input and output so that cutting an
 * answer at `max_tokens` and counting it agree exactly.
 *
 * Text (seed, "1个token通常对应一个1.5-1.8个汉字 … 3至4个字母或1个单词"): a text is split into pieces;
 * a run of Han ideographs gives pieces of 2, 1, 2, 1 … ideographs (1.5 on average); any other run
 * gives pieces of up to 4 code points (spaces and punctuation included). Every piece is one token.
 *
 * Audio (Model Studio "音频转换为Token的规则": "每一秒钟的音频对应25个Token。若音频时长不足1秒，则按25个
 * Token计算"): ceil(seconds × 25), at least 25, counted on the part the model hears (≤ 30 s).
 *
 * Messages: each message costs MESSAGE_OVERHEAD_TOKENS on top of its content (the ChatML frame the
 * model sees: `<|im_start|>role\n … <|im_end|>\n`), and the reply prompt costs REPLY_PRIMER_TOKENS.
 * The numbers are the fake's own choice; nothing published gives them.
 */

export const AUDIO_TOKENS_PER_SECOND = 25;
export const MESSAGE_OVERHEAD_TOKENS = 3;
export const REPLY_PRIMER_TOKENS = 3;

const HAN = /\p{Script=Han}/u;

/** Splits `text` into the pieces the fake counts as tokens; joining them gives `text` back. */
export function tokenizeText(text: string): string[] {
  const pieces: string[] = [];
  let current = "";
  let currentIsHan = false;
  let hanPieces = 0;
  const flush = (): void => {
    if (current !== "") pieces.push(current);
    current = "";
  };
  for (const char of text) {
    const isHan = HAN.test(char);
    if (current !== "" && isHan !== currentIsHan) flush();
    currentIsHan = isHan;
    current += char;
    const size = [...current].length;
    if (isHan) {
      const limit = hanPieces % 2 === 0 ? 2 : 1;
      if (size >= limit) {
        hanPieces += 1;
        flush();
      }
    } else if (size >= 4) {
      flush();
    }
  }
  flush();
  return pieces;
}

export function countTextTokens(text: string): number {
  return tokenizeText(text).length;
}

/** Audio tokens for `seconds` of audio the model hears. */
export function audioTokens(seconds: number): number {
  return Math.max(AUDIO_TOKENS_PER_SECOND, Math.ceil(seconds * AUDIO_TOKENS_PER_SECOND - 1e-9));
}
