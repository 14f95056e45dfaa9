import type { TextScript } from "./text-limits.js";

/**
 * The `extra_info.lyrics` the fake returns, shaped like the seed's example:
 * `[verse]\n…\n\n[chorus]\n…` — section tags on their own line, a blank line between sections.
 *
 * - Lyrics given: echoed. If they already carry `[tag]` lines they come back unchanged; otherwise
 *   the fake tags them the way the model's output is tagged (paragraphs alternate verse/chorus; a
 *   single paragraph is split into a verse and a chorus half). Clients must not expect a byte-exact
 *   echo of what they sent.
 * - Only a prompt: deterministic lyrics chosen from the prompt's hash, Chinese for a Chinese prompt.
 */

const TAG_LINE = /^\s*\[[^\]\n]{1,40}\]\s*$/mu;

export function lyricsForResponse(uses: "lyrics" | "prompt", text: string, script: TextScript): string {
  return uses === "lyrics" ? tagLyrics(text) : writeLyrics(text, script);
}

function tagLyrics(lyrics: string): string {
  const trimmed = lyrics.trim();
  if (TAG_LINE.test(trimmed)) return trimmed;
  const paragraphs = trimmed.split(/\n\s*\n/u).map((p) => p.trim()).filter((p) => p !== "");
  if (paragraphs.length >= 2) {
    return paragraphs.map((p, i) => `${i % 2 === 0 ? "[verse]" : "[chorus]"}\n${p}`).join("\n\n");
  }
  const lines = trimmed.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  if (lines.length < 2) return `[verse]\n${trimmed}`;
  const half = Math.ceil(lines.length / 2);
  return `[verse]\n${lines.slice(0, half).join("\n")}\n\n[chorus]\n${lines.slice(half).join("\n")}`;
}

const ENGLISH_VERSES = [
  ["Morning light across the kitchen floor,", "Footsteps fading past the open door,", "Every little thing is moving slow,", "Humming songs that only we would know."],
  ["Streetlights flicker on the avenue,", "Rain is writing letters meant for you,", "Neon colours running down the glass,", "Holding on to moments as they pass."],
  ["Miles of highway stretching to the sea,", "Windows down, the radio and me,", "Dust and sunshine dancing on the dash,", "Leaving all the worries in the past."],
] as const;

const ENGLISH_CHORUSES = [
  ["Take it slow, there's no need to run,", "We were born to chase the summer sun,", "Let the music carry us along,", "Every heartbeat turning into song."],
  ["Turn it up and let the night begin,", "Feel the rhythm pulling us all in,", "Hands up high beneath the silver sky,", "We are young and we are learning how to fly."],
  ["Sing it loud so everyone can hear,", "Every word is shining bright and clear,", "Hold my hand and never let it go,", "This is all the love we'll ever know."],
] as const;

const CHINESE_VERSES = [
  ["清晨的阳光洒在窗台，", "咖啡的香气慢慢散开，", "翻开昨天没读完的书，", "时间就这样悄悄走过。"],
  ["晚风吹过熟悉的街角，", "路灯把影子拉得很长，", "雨点轻轻敲着玻璃窗，", "想起你说过的那句话。"],
  ["沿着海岸线一路向前，", "收音机里唱着老歌谣，", "阳光落在我们的肩上，", "把烦恼都留在了身后。"],
] as const;

const CHINESE_CHORUSES = [
  ["慢慢走不用着急，", "生活本该这样惬意，", "把烦恼交给风吹去，", "拥抱每个晴天和雨季。"],
  ["放声唱吧让世界听见，", "每一个音符都闪着光，", "牵着我的手不要放开，", "这就是我们的好时光。"],
  ["跟着节奏一起摇摆，", "让快乐在心里盛开，", "星空下我们手牵手，", "把梦想唱成了未来。"],
] as const;

/** FNV-1a, enough to pick templates deterministically. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (const char of text) {
    h ^= char.codePointAt(0) ?? 0;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function writeLyrics(prompt: string, script: TextScript): string {
  const h = hash(prompt);
  const verses = script === "chinese" ? CHINESE_VERSES : ENGLISH_VERSES;
  const choruses = script === "chinese" ? CHINESE_CHORUSES : ENGLISH_CHORUSES;
  const verse = verses[h % verses.length] ?? verses[0];
  const chorus = choruses[(h >>> 8) % choruses.length] ?? choruses[0];
  return `[verse]\n${verse.join("\n")}\n\n[chorus]\n${chorus.join("\n")}`;
}
