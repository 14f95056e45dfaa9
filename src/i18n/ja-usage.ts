/** 使用状況レポートと上限コマンドの日本語テキスト（`en-usage.ts` と同じキー）。 */
import type { UsageCatalog } from "./en-usage.js";

export const jaUsage = {
  // 誰が何を使えるか
  "usage.guildOnly": () => "このコマンドはサーバー内でのみ使えます。",
  "usage.needsManageServer": () =>
    "このサーバーの使用状況レポートを見られるのは、**サーバー管理**権限を持つメンバーだけです。自分の使用状況は `/usage me` で確認できます。",
  "usage.ownersOnly": () => "全サーバーの使用状況を見られるのは、ボットのオーナーだけです。",
  "limits.needsManageServer": () =>
    "このサーバーの上限を確認・変更できるのは、**サーバー管理**権限を持つメンバーだけです。自分の残りは `/usage me` で確認できます。",

  // タイトル内の期間：「○○の使用状況 · 過去7日間」
  "usage.period.today": () => "今日",
  "usage.period.7d": () => "過去7日間",
  "usage.period.30d": () => "過去30日間",
  "usage.period.month": () => "今月",
  "usage.period.all": () => "全期間",

  // 音楽の長さ
  "usage.duration.seconds": (p) => `${p.seconds}秒`,
  "usage.duration.minutes": (p) => (p.seconds === 0 ? `${p.minutes}分` : `${p.minutes}分${p.seconds}秒`),
  "usage.duration.hours": (p) => (p.minutes === 0 ? `${p.hours}時間` : `${p.hours}時間${p.minutes}分`),

  // レポート（/usage server、/usage all-servers、/usage me）。数値は整形済み
  "usage.report.title.server": (p) => `${p.guild} の使用状況 · ${p.period}`,
  "usage.report.title.allServers": (p) => `全サーバーの使用状況 · ${p.period}`,
  "usage.report.title.member": (p) => `あなたの使用状況 · ${p.period}`,
  "usage.report.since": (p) => `${p.from} 以降の集計です。`,
  "usage.report.allTime": () => "これまでの全記録です。",
  "usage.report.footer": () => "費用は設定された料金から計算した概算で、Alibaba Cloud の請求額ではありません。日付は UTC 基準です。",
  "usage.report.songs": () => "曲",
  "usage.report.analyses": () => "音声分析",
  "usage.report.followUps": () => "追加の質問",
  "usage.report.calls": (p) => `呼び出し **${p.formatted}** 回`,
  "usage.report.music": (p) => `音楽 ${p.duration}`,
  "usage.report.tokens": (p) => `${p.tokens} トークン`,
  "usage.report.totals": () => "合計",
  "usage.report.tokenBreakdown": (p) => `トークン：入力 ${p.input} · 出力 ${p.output} · 音声 ${p.audio}`,
  "usage.report.cost": () => "概算費用",
  "usage.report.noPrice": (p) => `${p.models} の料金が設定されていないため、概算できません。`,
  "usage.report.unpricedModels": (p) => `料金未設定のため含まれていません：${p.models}`,
  "usage.report.failures": () => "失敗",
  "usage.report.failuresValue": (p) => `${p.calls} 回中 ${p.failures} 回（${p.percent}）`,
  "usage.report.noFailures": () => "なし",
  "usage.report.failureCode": (p) => `\`${p.code}\` × ${p.count}`,
  "usage.report.interrupted": (p) => `⚠️ 中断 ${p.count} 件：ボットが呼び出しの結果を追えなくなりました（再起動や接続の切断）。DashScope で料金が発生している可能性があります。`,
  "usage.report.topMembers": () => "よく使っているメンバー",
  "usage.report.topServers": () => "よく使っているサーバー",
  "usage.report.nobody": () => "この期間にボットを使った人はいません。",
  "usage.report.entry": (p) => `${p.rank}. ${p.who} · ${p.figures}`,
  "usage.report.andMore": (p) => `…ほか ${p.count} 件`,
  "usage.report.directMessages": () => "ダイレクトメッセージ",
  "usage.report.chartFailed": () => "今回はグラフを描けませんでしたが、数値はすべて揃っています。",
  "usage.report.csvAttached": (p) => `CSV ファイルには、この期間の全 ${p.formatted} 行が入っています。`,
  "usage.report.csvCut": (p) =>
    `CSV ファイルには全 ${p.total} 行のうち古いほうから ${p.rows} 行だけが入っています（ここで送れるファイルは ${p.limitMb} MB までです）。残りは期間を短くして出力してください。`,

  // グラフ内の文字（PNG に描画）
  "usage.chart.title": (p) => `日別の使用状況 · ${p.period}（UTC）`,
  "usage.chart.songs": () => "曲",
  "usage.chart.analyses": () => "音声分析",
  "usage.chart.requests": () => "リクエスト数",
  "usage.chart.musicSeconds": () => "音楽（秒）",
  "usage.chart.musicMinutes": () => "音楽（分）",
  "usage.chart.musicHours": () => "音楽（時間）",
  "usage.chart.tokens": () => "トークン",
  "usage.chart.noUsage": () => "この期間の使用はありません",

  // メンバーの残り（/usage me）
  "usage.quota.leftToday": () => "今日の残り",
  "usage.quota.serverThisMonth": () => "このサーバーの今月分",
  "usage.quota.songs": () => "曲",
  "usage.quota.music": () => "音楽",
  "usage.quota.analyses": () => "音声分析と追加の質問",
  "usage.quota.cost": () => "概算費用",
  "usage.quota.left": (p) => `${p.what}：残り **${p.left}** / ${p.limit}`,
  "usage.quota.noLimit": (p) => `${p.what}：上限なし（${p.used} 使用済み）`,
  "usage.quota.resets": (p) => `${p.when}にリセットされます。`,
  "usage.quota.nextSong": (p) => `次の曲は${p.when}から作れます。`,
  "usage.quota.footer": () => "上限には、完了した呼び出しと実行中の呼び出しが含まれます。失敗した呼び出しの分は戻ります。日付と月は UTC 基準です。",

  // /limits
  "limits.name.userDailySongs": () => "メンバー1人あたりの1日の曲数",
  "limits.name.userDailyMusicSeconds": () => "メンバー1人あたりの1日の音楽時間",
  "limits.name.userDailyAnalyses": () => "メンバー1人あたりの1日の音声分析数",
  "limits.name.guildMonthlyMusicSeconds": () => "サーバーごとの月間音楽時間",
  "limits.name.guildMonthlyCost": () => "サーバーごとの月間費用予算",
  "limits.name.songCooldownSeconds": () => "メンバーの曲と曲の間のクールダウン",
  "limits.title": () => "このサーバーの上限",
  "limits.description": () => "日付と月は UTC 基準です。上限は `/limits set` で変更できます。値に `default` を指定するとボットの既定値に戻ります。",
  "limits.default": () => "既定値",
  "limits.overridden": (p) => `このサーバーで設定（既定値：${p.default}）`,
  "limits.unlimited": () => "無制限",
  "limits.noCooldown": () => "クールダウンなし",
  "limits.songs": (p) => `${p.formatted} 曲`,
  "limits.analyses": (p) => `${p.formatted} 回`,
  "limits.seconds": (p) => `${p.duration}（${p.seconds} 秒）`,
  "limits.saved": (p) => `このサーバーの **${p.name}** を **${p.value}** に設定しました。`,
  "limits.savedDefault": (p) => `**${p.name}** をボットの既定値 **${p.value}** に戻しました。`,
  "limits.value.notANumber": (p) => `「${p.value}」という値は分かりません。\`20\` のような数値か、\`unlimited\`、\`default\` を指定してください。`,
  "limits.value.notWhole": (p) => `**${p.name}** は整数で指定してください。`,
  "limits.value.negative": (p) => `**${p.name}** に負の値は指定できません。`,
  "limits.value.tooLarge": (p) => `**${p.name}** は最大 ${p.max} までです。`,
  "limits.value.notUnlimited": (p) => `**${p.name}** は無制限にできません。秒数（\`0\` でクールダウンなし）か \`default\` を指定してください。`,
} satisfies UsageCatalog;
