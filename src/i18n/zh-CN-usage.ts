/** 用量报告和额度命令的简体中文文本（与 `en-usage.ts` 一一对应）。 */
import type { UsageCatalog } from "./en-usage.js";

export const zhCNUsage = {
  // 谁可以用什么
  "usage.guildOnly": () => "此命令只能在服务器中使用。",
  "usage.needsManageServer": () =>
    "只有拥有**管理服务器**权限的成员才能查看本服务器的用量报告。用 `/usage me` 可以查看你自己的用量。",
  "usage.ownersOnly": () => "只有机器人的所有者才能查看所有服务器的用量。",
  "limits.needsManageServer": () =>
    "只有拥有**管理服务器**权限的成员才能查看或修改本服务器的限额。用 `/usage me` 可以查看你自己还剩多少额度。",

  // 标题中的时间段：“某服务器的用量 · 最近 7 天”
  "usage.period.today": () => "今天",
  "usage.period.7d": () => "最近 7 天",
  "usage.period.30d": () => "最近 30 天",
  "usage.period.month": () => "本月",
  "usage.period.all": () => "全部时间",

  // 音乐时长
  "usage.duration.seconds": (p) => `${p.seconds} 秒`,
  "usage.duration.minutes": (p) => (p.seconds === 0 ? `${p.minutes} 分钟` : `${p.minutes} 分 ${p.seconds} 秒`),
  "usage.duration.hours": (p) => (p.minutes === 0 ? `${p.hours} 小时` : `${p.hours} 小时 ${p.minutes} 分`),

  // 报告（/usage server、/usage all-servers、/usage me）；数字已格式化
  "usage.report.title.server": (p) => `${p.guild} 的用量 · ${p.period}`,
  "usage.report.title.allServers": (p) => `所有服务器的用量 · ${p.period}`,
  "usage.report.title.member": (p) => `你的用量 · ${p.period}`,
  "usage.report.since": (p) => `统计自 ${p.from} 起。`,
  "usage.report.allTime": () => "迄今为止的全部记录。",
  "usage.report.footer": () => "费用是按配置的价格估算的，并非阿里云的实际账单。日期按 UTC 计算。",
  "usage.report.songs": () => "歌曲",
  "usage.report.analyses": () => "音频分析",
  "usage.report.followUps": () => "追问",
  "usage.report.calls": (p) => `**${p.formatted}** 次调用`,
  "usage.report.music": (p) => `音乐 ${p.duration}`,
  "usage.report.tokens": (p) => `${p.tokens} Token`,
  "usage.report.totals": () => "合计",
  "usage.report.tokenBreakdown": (p) => `Token：输入 ${p.input} · 输出 ${p.output} · 音频 ${p.audio}`,
  "usage.report.cost": () => "估算费用",
  "usage.report.noPrice": (p) => `${p.models} 没有配置价格，因此无法估算费用。`,
  "usage.report.unpricedModels": (p) => `未计入（没有配置价格）：${p.models}`,
  "usage.report.failures": () => "失败",
  "usage.report.failuresValue": (p) => `${p.calls} 次调用中失败 ${p.failures} 次（${p.percent}）`,
  "usage.report.noFailures": () => "无",
  "usage.report.failureCode": (p) => `\`${p.code}\` × ${p.count}`,
  "usage.report.interrupted": (p) => `⚠️ ${p.count} 次中断：机器人失去了对调用的跟踪（重启或连接中断），DashScope 可能已经计费。`,
  "usage.report.topMembers": () => "用量最多的成员",
  "usage.report.topServers": () => "用量最多的服务器",
  "usage.report.nobody": () => "这段时间内没有人使用机器人。",
  "usage.report.entry": (p) => `${p.rank}. ${p.who} · ${p.figures}`,
  "usage.report.andMore": (p) => `…还有 ${p.count} 个`,
  "usage.report.directMessages": () => "私信",
  "usage.report.chartFailed": () => "这次没能画出图表，不过数据是完整的。",
  "usage.report.csvAttached": (p) => `CSV 导出文件包含这段时间的全部 ${p.formatted} 行记录。`,
  "usage.report.csvCut": (p) =>
    `CSV 导出文件只包含最早的 ${p.rows} 行（共 ${p.total} 行）：这里的单个文件最大 ${p.limitMb} MB。其余记录请选择更短的时间段导出。`,

  // 图表中的文字（画在 PNG 里）
  "usage.chart.title": (p) => `每日用量 · ${p.period}（UTC）`,
  "usage.chart.songs": () => "歌曲",
  "usage.chart.analyses": () => "音频分析",
  "usage.chart.requests": () => "请求数",
  "usage.chart.musicSeconds": () => "音乐（秒）",
  "usage.chart.musicMinutes": () => "音乐（分钟）",
  "usage.chart.musicHours": () => "音乐（小时）",
  "usage.chart.tokens": () => "Token",
  "usage.chart.noUsage": () => "这段时间内没有用量",

  // 成员的剩余额度（/usage me）
  "usage.quota.leftToday": () => "今日剩余",
  "usage.quota.serverThisMonth": () => "本服务器本月",
  "usage.quota.songs": () => "歌曲",
  "usage.quota.music": () => "音乐时长",
  "usage.quota.analyses": () => "音频分析和追问",
  "usage.quota.cost": () => "估算费用",
  "usage.quota.left": (p) => `${p.what}：剩余 **${p.left}**，上限 ${p.limit}`,
  "usage.quota.noLimit": (p) => `${p.what}：不限（已用 ${p.used}）`,
  "usage.quota.resets": (p) => `${p.when}重置。`,
  "usage.quota.nextSong": (p) => `你可以在${p.when}开始下一首歌。`,
  "usage.quota.footer": () => "额度计入已完成和正在进行的调用；失败的调用会退还额度。日期和月份按 UTC 计算。",

  // /limits
  "limits.name.userDailySongs": () => "每位成员每天的歌曲数",
  "limits.name.userDailyMusicSeconds": () => "每位成员每天的音乐时长",
  "limits.name.userDailyAnalyses": () => "每位成员每天的音频分析次数",
  "limits.name.guildMonthlyMusicSeconds": () => "每个服务器每月的音乐时长",
  "limits.name.guildMonthlyCost": () => "每个服务器每月的费用预算",
  "limits.name.songCooldownSeconds": () => "成员两首歌之间的冷却时间",
  "limits.title": () => "本服务器的限额",
  "limits.description": () => "日期和月份按 UTC 计算。用 `/limits set` 修改限额；值填 `default` 即恢复为机器人的默认值。",
  "limits.default": () => "默认值",
  "limits.overridden": (p) => `本服务器自定义（默认值：${p.default}）`,
  "limits.unlimited": () => "不限",
  "limits.noCooldown": () => "无冷却",
  "limits.songs": (p) => `${p.formatted} 首歌`,
  "limits.analyses": (p) => `${p.formatted} 次分析`,
  "limits.seconds": (p) => `${p.duration}（${p.seconds} 秒）`,
  "limits.saved": (p) => `本服务器的 **${p.name}** 已设为 **${p.value}**。`,
  "limits.savedDefault": (p) => `**${p.name}** 已恢复为机器人的默认值：**${p.value}**。`,
  "limits.value.notANumber": (p) => `我看不懂“${p.value}”这个值。请填写数字（例如 \`20\`），或者 \`unlimited\`、\`default\`。`,
  "limits.value.notWhole": (p) => `**${p.name}** 必须是整数。`,
  "limits.value.negative": (p) => `**${p.name}** 不能是负数。`,
  "limits.value.tooLarge": (p) => `**${p.name}** 最大为 ${p.max}。`,
  "limits.value.notUnlimited": (p) => `**${p.name}** 不能设为不限：请填写秒数（\`0\` 表示关闭冷却），或者 \`default\`。`,
} satisfies UsageCatalog;
