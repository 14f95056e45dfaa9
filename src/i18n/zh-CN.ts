/**
 * 简体中文文本：与 `en.ts` 的每个键一一对应（`satisfies Catalog` 由类型检查保证）。`zh-TW` 也使用
 * 这份文本。Fun-Music 的术语沿用阿里云文档：提示词、歌词、人声、AIGC 水印。
 */
import { commandWords } from "./commands.js";
import type { Catalog } from "./en.js";
import { formatClock, formatInteger } from "./format.js";
import { languageNameIn } from "./locales.js";
import { zhCNUsage } from "./zh-CN-usage.js";

type LimitUnit = Parameters<Catalog["song.input.tooShort"]>[0]["unit"];

/** 按 Fun-Music 文档的计数方式：中文按汉字，英文歌词按字符或单词。 */
function counted(count: number, unit: LimitUnit): string {
  const n = formatInteger(count, "zh-CN");
  switch (unit) {
    case "chinese-characters":
      return `${n} 个汉字`;
    case "english-words":
      return `${n} 个英文单词`;
    case "english-characters":
    case "characters":
      return `${n} 个字符`;
  }
}

const fieldName = { lyrics: "歌词", prompt: "提示词" } as const;
const analyzeAudio = commandWords("analyzeAudio.name", "zh-CN");

export const zhCN = {
  ...zhCNUsage,
  // /song：输入问题
  "song.input.missing": () => "请给我一段**提示词**（描述你想要的歌曲），或者要演唱的**歌词**。",
  "song.input.tooShort": (p) =>
    `${fieldName[p.field]}太短了：目前是 ${counted(p.actual, p.unit)}，Fun-Music 至少需要 ${counted(p.min, p.unit)}。请再补充 ${counted(p.min - p.actual, p.unit)}。`,
  "song.input.tooLong": (p) =>
    `${fieldName[p.field]}太长了：目前是 ${counted(p.actual, p.unit)}，Fun-Music 最多只接受 ${counted(p.max, p.unit)}。请删掉 ${counted(p.actual - p.max, p.unit)}。`,
  "song.input.invisible": (p) =>
    `去掉不可见字符（零宽空格、控制字符或文字方向标记）后，${fieldName[p.field]}就是空的了。请输入一些文字后再试。本次没有发送任何请求，也没有产生费用。`,
  "song.promptIgnored": () => "你同时填写了歌词和提示词。Fun-Music 会演唱歌词、忽略提示词，所以这次没有用到你的提示词。",

  // /song：进度和结果
  "song.progress.queued": (p) => `⏳ 正在排队等待空闲名额（当前排第 ${p.position} 位，已等待 ${p.elapsed}）…`,
  "song.progress.generating": (p) => `🎼 正在创作你的歌曲… 已用时 ${p.elapsed}。`,
  "song.progress.streaming": (p) => `🎼 正在创作你的歌曲… 已用时 ${p.elapsed}，已收到 ${p.audioSeconds} 秒音频。`,
  "song.progress.finishing": (p) => `📦 正在准备文件… 已用时 ${p.elapsed}。`,
  "song.untitled": () => "未命名歌曲",
  "song.embed.vocal": () => "人声",
  "song.embed.format": () => "格式",
  "song.embed.duration": () => "时长",
  "song.embed.prompt": () => "提示词",
  "song.embed.lyrics": () => "歌词",
  "song.embed.lyricsContinued": (p) => `歌词（第 ${p.part} 部分）`,
  "song.embed.noLyrics": () => "*这首歌没有返回歌词。*",
  "song.embed.footer": (p) => `request_id ${p.requestId}`,
  "song.embed.requestedBy": (p) => `点歌人：${p.user}`,
  "song.vocal.female": () => "女声",
  "song.vocal.male": () => "男声",
  "song.watermark": () => "AIGC 水印",
  "song.delivery.reencoded": (p) =>
    `原始文件超过了本服务器 ${p.limitMb} MB 的上传上限，所以这里发送的是重新编码为 ${p.bitrate} kbps 的 MP3。原始文件可以在[这里](${p.url})下载，链接${p.expires}失效。`,
  "song.delivery.linkOnly": (p) =>
    `这首歌超过了本服务器 ${p.limitMb} MB 的上传上限，而且无法压缩到足够小。请在[这里](${p.url})下载，链接${p.expires}失效。`,
  "song.delivery.fetchFailed": (p) =>
    `歌曲已经做好了，但机器人没能从 DashScope 取回文件。请在[这里](${p.url})下载，链接${p.expires}失效。`,
  "song.delivery.lost": () => "歌曲已经生成，但没能发送出来，而且 Fun-Music 没有提供下载链接。请再试一次。",
  "song.button.regenerate": () => "重新生成",
  "song.button.switchToMale": () => "换成男声",
  "song.button.switchToFemale": () => "换成女声",
  "song.button.editLyrics": () => "修改歌词",
  "song.button.analyze": () => "分析",
  "song.modal.title": () => "写一首歌",
  "song.modal.editTitle": () => "修改歌词",
  "song.modal.lyricsLabel": () => "歌词",
  "song.modal.lyricsPlaceholder": () => "[verse]\n第一段歌词…\n\n[chorus]\n副歌…",
  "song.modal.styleLabel": () => "风格（没有填写歌词时使用）",
  "song.modal.stylePlaceholder": () => "例如：清新的夏日民谣，木吉他和口琴伴奏，节奏轻快",
  "song.record.gone": () => "我已经找不到这首歌的信息了（机器人可能重启过）。请重新运行 `/song` 再做一首。",
  "song.notYours": () => "只有点这首歌的人或服务器管理员才能使用这些按钮。",
  "busy": () => "你已经有一个请求正在处理中。请等它完成后再试。",

  // 分析音频
  "analysis.noAudio": () => "这条消息里没有我能听的语音消息或音频文件。",
  "analysis.tooLarge": (p) => `这个文件有 ${p.sizeMb} MB，我最多只能分析 ${p.maxMb} MB 的文件。`,
  "analysis.noSoundTrack": (p) => `\`${p.name}\` 里没有可以听的声音。`,
  "analysis.downloadFailed": () => "无法从 Discord 下载这个文件。请稍后再试。",
  "analysis.emptyQuestion": () => "请先输入一个关于这段音频的问题。",
  "analysis.alreadyShared": () => "这条回答已经分享到频道里了。",
  "analysis.undecodable": (p) => `无法把 \`${p.name}\` 解码为音频。请确认文件完整，并且是常见的音频格式。`,
  "analysis.progress.preparing": (p) => `🎧 正在获取并准备音频… ${p.elapsed}`,
  "analysis.progress.listening": (p) => `🎧 正在聆听… ${p.elapsed}`,
  "analysis.progress.pieces": (p) => `🎧 正在聆听… 已完成 ${p.done}/${p.total} 段，${p.elapsed}`,
  "analysis.title.overview": (p) => `我在 ${p.name} 中听到的内容`,
  "analysis.title.transcribe": () => "转写",
  "analysis.title.music": () => "音乐",
  "analysis.title.emotion": () => "情绪",
  "analysis.title.translate": (p) => `翻译成${languageNameIn("zh-CN", p.language)}`,
  "analysis.title.ask": (p) => `问：${p.question}`,
  "analysis.section.Summary": () => "概要",
  "analysis.section.Transcript": () => "转写",
  "analysis.section.Language": () => "语言",
  "analysis.section.Speaker": () => "说话人",
  "analysis.section.Emotion": () => "情绪",
  "analysis.section.Sounds": () => "声音与环境",
  "analysis.section.Music": () => "音乐",
  "analysis.note.split": (p) => `这段录音（${p.duration}）超过 30 秒，所以我分成 ${p.pieces} 段来听，每段都标出了时间范围。`,
  "analysis.note.truncated": (p) => `${p.duration} 中只分析了前 ${p.analysed}。`,
  "analysis.note.failedParts": (p) => `以下片段无法分析：${p.ranges}。`,
  "analysis.note.cutShort": () => "回答达到了模型的长度上限，可能没有说完。",
  "analysis.note.otherFiles": (p) => `这条消息里还有 ${p.count} 个音频文件：在下方选择一个即可分析。`,
  "analysis.footer": (p) => `第 ${p.page}/${p.pages} 页 · ${p.model}`,
  "analysis.button.transcribe": () => "转写",
  "analysis.button.music": () => "描述音乐",
  "analysis.button.emotion": () => "情绪",
  "analysis.button.translate": (p) => `翻译成${languageNameIn("zh-CN", p.language)}`,
  "analysis.button.ask": () => "提问",
  "analysis.button.share": () => "分享到频道",
  "analysis.button.previous": () => "上一页",
  "analysis.button.next": () => "下一页",
  "analysis.select.placeholder": () => "分析这条消息里的其他音频文件",
  "analysis.modal.title": () => "关于这段音频提问",
  "analysis.modal.questionLabel": () => "你的问题",
  "analysis.modal.questionPlaceholder": () => "例如：开头是什么乐器在演奏？",
  "analysis.gone": () => `这次分析已过期（或者机器人重启过）。请对那条消息重新运行 **${analyzeAudio}**。`,
  "analysis.notYours": () => "只有发起这次分析的人才能使用这些按钮。",
  "analysis.sharedBy": (p) => `由 ${p.user} 分享`,
  "analysis.shared": () => "已分享到频道。",

  // 额度（resets 是 Discord 时间戳，显示为“3小时后”之类）
  "quota.pending": () => "本服务器的额度已被正在进行中的请求占满。请过几分钟，等它们完成后再试。",
  "quota.song-cooldown": (p) => `歌曲创作有冷却时间，你可以在${p.resets}做下一首。`,
  "quota.user-daily-songs": (p) => `你今天能做的歌曲已经用完了，额度将在${p.resets}重置。`,
  "quota.user-daily-music-seconds": (p) => `你今天的音乐时长已经用完了，将在${p.resets}重置。`,
  "quota.user-daily-analyses": (p) => `你今天的音频分析次数已经用完了，将在${p.resets}重置。`,
  "quota.guild-monthly-music-seconds": (p) =>
    `本服务器本月的音乐时长预算已经用完，将在${p.resets}重置；服务器管理员可以用 /limits 提高上限。`,
  "quota.guild-monthly-cost": (p) => `本服务器本月的费用预算已经用完，将在${p.resets}重置；服务器管理员可以用 /limits 提高上限。`,

  // 服务器设置
  "settings.saved.analysisVisibility": (p) => `从现在起，本服务器中“${analyzeAudio}”的回复默认${p.visibility}。`,
  "settings.visibility.public": () => "公开",
  "settings.visibility.private": () => "私密（只有发起的人能看到）",
  "settings.needsManageServer": () => "只有拥有“管理服务器”权限的成员才能修改这些设置。",
  "settings.guildOnly": () => "此命令只能在服务器中使用。",

  // DashScope 错误，按错误码类别
  "dashscope.invalidApiKey": () => "机器人的 DashScope API Key 被拒绝了。需要服务器管理员检查 `DASHSCOPE_API_KEY`。",
  "dashscope.accessDenied": () =>
    "机器人的 DashScope 账号没有这个模型的访问权限。需要服务器管理员在 DashScope 控制台申请开通（Fun-Music 目前是北京地域的邀测预览版）。",
  "dashscope.arrearage": () => "机器人的 DashScope 账号余额不足或已欠费。需要服务器管理员在阿里云控制台充值。",
  "dashscope.throttled": (p) => `DashScope 正在对机器人限流，请${p.wait}后再试。`,
  "wait.aMinute": () => "一分钟",
  "wait.seconds": (p) => `${p.seconds} 秒`,
  "dashscope.dataInspection": () => "这个请求没有通过 DashScope 的内容审核。请修改你发送的内容后再试。",
  "dashscope.mediaUnreadable": () => "DashScope 无法获取或读取这段音频。请再试一次；如果一直这样，请告诉服务器管理员。",
  "dashscope.invalidParameter": (p) =>
    `DashScope 认为这个请求无效，拒绝了它。请试着修改你发送的内容；如果一直这样，请把这个参考编号告诉服务器管理员：\`${p.reference}\`。`,
  "dashscope.timeout": () =>
    "DashScope 太久没有响应，机器人不再等待了。请再试一次，或者换短一些的歌词；如果一直这样，请告诉服务器管理员。",
  "dashscope.network": () => "机器人连接不上 DashScope。请稍后再试。",
  "dashscope.unavailable": () => "DashScope 内部出现了问题。请过几分钟再试。",
  "dashscope.malformed": () => "DashScope 返回了机器人无法读取的结果。请再试一次；如果一直这样，请告诉服务器管理员。",
  "dashscope.outcomeUnknown": () =>
    "请求发出后，与 DashScope 的连接中断了，机器人无法确认这次请求是否已经完成。它可能已经产生费用，所以机器人没有重新发送。如果仍然需要，请再试一次。",
  "dashscope.timeoutMaybeCharged": () =>
    "DashScope 的处理时间超过了机器人的等待上限，机器人已停止等待。这次请求可能已经产生费用，所以机器人没有重新发送。如果仍然需要，请再试一次。",
  "dashscope.streamIdle": (p) =>
    `DashScope 已经 ${formatInteger(p.seconds, "zh-CN")} 秒没有返回任何内容，机器人已停止等待。这次请求可能已经产生费用，所以机器人没有重新发送。如果仍然需要，请再试一次。`,

  // 持久化任务：排队、重启、取消、重试
  "job.progress.requeued": (p) => `⏳ 机器人已重启，你的请求仍在队列中的原位置（第 ${formatInteger(p.position, "zh-CN")} 位，已等待 ${p.elapsed}）…`,
  "job.progress.restarting": () => "⏳ 机器人正在重启。你的请求会保留在队列中的原位置，稍后继续处理。",
  "job.button.cancel": () => "取消",
  "job.button.retry": () => "重试",
  "job.cancelled": () => "✖️ 已取消，没有产生任何费用。",
  "job.cancel.running": () => "这个请求已经在生成中，无法取消：DashScope 可能已经开始计费了。",
  "job.cancel.finished": () => "这个请求已经结束了。",
  "job.gone": () => "机器人已经找不到这个请求了，请重新运行命令。",
  "job.notYours": () => "只有发起请求的人或拥有“管理服务器”权限的成员才能这样做。",
  "job.notRetryable": () => "这个请求并没有失败，无需重试。",
  "job.interrupted.restart": () => "生成过程中机器人重启了，这个请求无法恢复，但 DashScope 可能已经计费。点击 **重试** 即可重新请求。",
  "job.privateExpired": () =>
    `你的私密分析完成时，Discord 的 15 分钟回复时限已经过了，所以无法显示。请对那条消息再次运行 **${analyzeAudio}** 查看结果。`,

  // 通用
  "error.unexpected": (p) => `我这边出了点问题。如果一直这样，请把这个参考编号告诉服务器管理员：\`${p.reference}\`。`,
  "error.unknownInteraction": () => "这个按钮或命令已经失效了。请重新运行一次命令。",
  "duration.seconds": (p) => formatClock(p.seconds),
} satisfies Catalog;
