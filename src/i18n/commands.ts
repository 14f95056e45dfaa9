/**
 * The words Discord shows for the bot's commands before anyone runs one: descriptions of
 * commands, subcommands and options, the names of choices, and the name of the message command
 * in the Apps menu. Registered once for every locale (`description_localizations`,
 * `name_localizations`), so they live apart from the message catalogs that answer interactions.
 *
 * Slash command and option NAMES stay English (`/song prompt:`): see the README, "Languages".
 * Discord's rules: descriptions and choice names 1–100 characters, message-command names 1–32.
 * `test/unit/command-localizations.test.ts` registers every definition against the fake Discord,
 * which checks them per locale.
 */
import type { CatalogLocale } from "./locales.js";

type CommandText = Readonly<Record<CatalogLocale, string>>;

export const commandText = {
  // The message command, as it reads in the Apps menu (at most 32 characters)
  "analyzeAudio.name": { en: "Analyze audio", "zh-CN": "分析音频", ja: "音声を分析" },

  // /song
  "song.description": {
    en: "Compose a song with Fun-Music from a prompt or your lyrics",
    "zh-CN": "用 Fun-Music 根据提示词或你的歌词创作一首歌",
    ja: "Fun-Music でプロンプトや歌詞から曲を作ります",
  },
  "song.prompt": {
    en: "Describe the song: genre, mood, instruments, theme",
    "zh-CN": "描述这首歌：曲风、情绪、乐器、主题",
    ja: "曲の説明：ジャンル、雰囲気、楽器、テーマなど",
  },
  "song.lyrics": {
    en: "Lyrics to sing; type \\n for a line break, or leave empty for a multi-line form",
    "zh-CN": "要演唱的歌词；输入 \\n 表示换行，留空则打开多行输入框",
    ja: "歌ってほしい歌詞。\\n で改行。空欄にすると複数行の入力フォームが開きます",
  },
  "song.gender": { en: "Vocal gender (default female)", "zh-CN": "人声性别（默认女声）", ja: "ボーカルの性別（デフォルト：女性）" },
  "song.gender.female": { en: "female", "zh-CN": "女声", ja: "女性ボーカル" },
  "song.gender.male": { en: "male", "zh-CN": "男声", ja: "男性ボーカル" },
  "song.format": { en: "Audio format (default mp3)", "zh-CN": "音频格式（默认 mp3）", ja: "オーディオ形式（デフォルト：mp3）" },
  // The reference's own words for what each format suits.
  "song.format.mp3": { en: "mp3", "zh-CN": "mp3（适合网络传输和存储）", ja: "mp3（ネットワーク転送・保存向け）" },
  "song.format.wav": { en: "wav", "zh-CN": "wav（适合后期处理和高品质播放）", ja: "wav（後処理・高品質再生向け）" },
  "song.watermark": {
    en: "Append an audible AIGC watermark (Morse code for \"AI\") to the song",
    "zh-CN": "在歌曲末尾加上可听见的 AIGC 水印（表示“AI”的摩尔斯电码）",
    ja: "曲の末尾に音の AIGC ウォーターマーク（「AI」を表すモールス信号）を付けます",
  },

  // /settings
  "settings.description": {
    en: "Change how dashtune behaves in this server (Manage Server)",
    "zh-CN": "修改 dashtune 在本服务器中的行为（需要“管理服务器”权限）",
    ja: "このサーバーでの dashtune の動作を変更します（サーバー管理権限）",
  },
  "settings.analysisReplies": {
    en: "Whether Analyze audio replies are public or only seen by the person who asked",
    "zh-CN": "“分析音频”的回复是公开，还是只有发起的人能看到",
    ja: "「音声を分析」の返信を公開にするか、実行した本人だけに表示するか",
  },
  "settings.visibility": {
    en: "public: the whole channel sees them; private: only the person who asked",
    "zh-CN": "公开：整个频道都能看到；私密：只有发起的人能看到",
    ja: "公開：チャンネルの全員に表示／非公開：実行した本人だけに表示",
  },
  "settings.visibility.private": { en: "private", "zh-CN": "私密", ja: "非公開" },
  "settings.visibility.public": { en: "public", "zh-CN": "公开", ja: "公開" },

  // /limits
  "limits.description": {
    en: "See or change this server's usage limits (Manage Server)",
    "zh-CN": "查看或修改本服务器的用量限额（需要“管理服务器”权限）",
    ja: "このサーバーの使用上限を確認・変更します（サーバー管理権限）",
  },
  "limits.show": {
    en: "This server's limits, and which are the bot's defaults",
    "zh-CN": "本服务器的各项限额，以及哪些是机器人的默认值",
    ja: "このサーバーの上限と、そのうちボットの既定値のもの",
  },
  "limits.set": { en: "Change one of this server's limits", "zh-CN": "修改本服务器的一项限额", ja: "このサーバーの上限を1つ変更します" },
  "limits.set.limit": { en: "Which limit to change", "zh-CN": "要修改哪项限额", ja: "変更する上限" },
  "limits.set.value": {
    en: "A number (seconds for music and the cooldown), unlimited, or default",
    "zh-CN": "一个数字（音乐时长和冷却时间按秒计），或 unlimited、default",
    ja: "数値（音楽時間とクールダウンは秒）、unlimited、default のいずれか",
  },
  "limits.choice.userDailySongs": { en: "Songs per member per day", "zh-CN": "每位成员每天的歌曲数", ja: "メンバー1人あたりの1日の曲数" },
  "limits.choice.userDailyMusicSeconds": {
    en: "Music seconds per member per day",
    "zh-CN": "每位成员每天的音乐秒数",
    ja: "メンバー1人あたりの1日の音楽時間（秒）",
  },
  "limits.choice.userDailyAnalyses": {
    en: "Analyses (and follow-ups) per member per day",
    "zh-CN": "每位成员每天的音频分析次数（含追问）",
    ja: "メンバー1人あたりの1日の音声分析数（追加の質問を含む）",
  },
  "limits.choice.guildMonthlyMusicSeconds": {
    en: "Music seconds per server per month",
    "zh-CN": "每个服务器每月的音乐秒数",
    ja: "サーバーごとの月間音楽時間（秒）",
  },
  "limits.choice.guildMonthlyCost": {
    en: "Estimated cost per server per month (in the prices' currency)",
    "zh-CN": "每个服务器每月的估算费用（按价格配置中的币种）",
    ja: "サーバーごとの月間概算費用（料金設定の通貨）",
  },
  "limits.choice.songCooldownSeconds": {
    en: "Seconds between the starts of a member's songs",
    "zh-CN": "同一成员开始两首歌之间的间隔秒数",
    ja: "同じメンバーが次の曲を始めるまでの間隔（秒）",
  },

  // /usage
  "usage.description": {
    en: "What dashtune's songs and analyses used and cost",
    "zh-CN": "dashtune 的歌曲和音频分析用了多少、花了多少",
    ja: "dashtune の曲と音声分析の使用量と費用",
  },
  "usage.server": {
    en: "This server's usage report with a daily chart (Manage Server)",
    "zh-CN": "本服务器的用量报告和每日图表（需要“管理服务器”权限）",
    ja: "このサーバーの使用状況レポートと日別グラフ（サーバー管理権限）",
  },
  "usage.me": { en: "Your own usage and what is left of your quota", "zh-CN": "你自己的用量和剩余额度", ja: "自分の使用状況と残りの利用枠" },
  "usage.allServers": {
    en: "Usage across every server (bot owners only)",
    "zh-CN": "所有服务器的用量（仅限机器人所有者）",
    ja: "全サーバーの使用状況（ボットのオーナーのみ）",
  },
  "usage.period.report": {
    en: "Which days to report (default: last 30 days)",
    "zh-CN": "统计哪段时间（默认：最近 30 天）",
    ja: "集計する期間（デフォルト：過去30日間）",
  },
  "usage.period.count": { en: "Which days to count (default: today)", "zh-CN": "统计哪段时间（默认：今天）", ja: "集計する期間（デフォルト：今日）" },
  "usage.metric": {
    en: "What the daily chart shows (default: requests)",
    "zh-CN": "每日图表显示的内容（默认：请求数）",
    ja: "日別グラフに表示する値（デフォルト：リクエスト数）",
  },
  "usage.csv": {
    en: "Also attach the period's calls as a CSV file",
    "zh-CN": "同时附上这段时间调用记录的 CSV 文件",
    ja: "期間内の呼び出し記録を CSV ファイルでも添付します",
  },
  "usage.period.today": { en: "today", "zh-CN": "今天", ja: "今日" },
  "usage.period.7d": { en: "last 7 days", "zh-CN": "最近 7 天", ja: "過去7日間" },
  "usage.period.30d": { en: "last 30 days", "zh-CN": "最近 30 天", ja: "過去30日間" },
  "usage.period.month": { en: "this month", "zh-CN": "本月", ja: "今月" },
  "usage.period.all": { en: "all time", "zh-CN": "全部时间", ja: "全期間" },
  "usage.metric.requests": { en: "requests (songs and analyses)", "zh-CN": "请求数（歌曲和音频分析）", ja: "リクエスト数（曲と音声分析）" },
  "usage.metric.musicSeconds": { en: "music seconds", "zh-CN": "音乐秒数", ja: "音楽時間（秒）" },
  "usage.metric.tokens": { en: "tokens", "zh-CN": "Token 数", ja: "トークン数" },
} as const satisfies Record<string, CommandText>;

export type CommandTextKey = keyof typeof commandText;

/** A command text in one catalog language (`analysis.gone` names the Apps-menu entry as the menu shows it). */
export function commandWords(key: CommandTextKey, locale: CatalogLocale): string {
  return commandText[key][locale];
}

/**
 * Discord's map of one text by locale. `zh-TW` gets the Simplified Chinese text, as the message
 * catalogs fall back; every other locale sees the English default.
 */
export function localizations(key: CommandTextKey): { "zh-CN": string; "zh-TW": string; ja: string } {
  const text = commandText[key];
  return { "zh-CN": text["zh-CN"], "zh-TW": text["zh-CN"], ja: text.ja };
}

/** `description` and `description_localizations` of a command, subcommand or option. */
export function describedAs(key: CommandTextKey): { description: string; description_localizations: ReturnType<typeof localizations> } {
  return { description: commandText[key].en, description_localizations: localizations(key) };
}

/** A choice of a string option, its name shown in every language. */
export function choiceOf<V extends string>(key: CommandTextKey, value: V): { name: string; name_localizations: ReturnType<typeof localizations>; value: V } {
  return { name: commandText[key].en, name_localizations: localizations(key), value };
}
