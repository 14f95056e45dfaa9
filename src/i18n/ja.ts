/**
 * 日本語テキスト：`en.ts` のすべてのキーに対応（`satisfies Catalog` で型チェック）。Fun-Music の用語は
 * Alibaba Cloud の日本語ドキュメントに合わせる：プロンプト、歌詞、ボーカル、AIGC ウォーターマーク。
 */
import { commandWords } from "./commands.js";
import type { Catalog } from "./en.js";
import { formatClock, formatInteger } from "./format.js";
import { jaUsage } from "./ja-usage.js";
import { languageNameIn } from "./locales.js";

type LimitUnit = Parameters<Catalog["song.input.tooShort"]>[0]["unit"];

/** Fun-Music のリファレンスどおりの数え方：中国語は漢字の文字数、英語の歌詞は文字数か語数。 */
function counted(count: number, unit: LimitUnit): string {
  const n = formatInteger(count, "ja");
  switch (unit) {
    case "chinese-characters":
      return `漢字${n}文字`;
    case "english-words":
      return `英単語${n}語`;
    case "english-characters":
    case "characters":
      return `${n}文字`;
  }
}

const fieldName = { lyrics: "歌詞", prompt: "プロンプト" } as const;
const analyzeAudio = commandWords("analyzeAudio.name", "ja");

export const ja = {
  ...jaUsage,
  // /song：入力の問題
  "song.input.missing": () => "**プロンプト**（どんな曲にしたいかの説明）か、歌ってほしい**歌詞**を入力してください。",
  "song.input.tooShort": (p) =>
    `${fieldName[p.field]}が短すぎます。現在は${counted(p.actual, p.unit)}ですが、Fun-Music には${counted(p.min, p.unit)}以上必要です。あと${counted(p.min - p.actual, p.unit)}追加してください。`,
  "song.input.tooLong": (p) =>
    `${fieldName[p.field]}が長すぎます。現在は${counted(p.actual, p.unit)}ですが、Fun-Music が受け付けるのは${counted(p.max, p.unit)}までです。${counted(p.actual - p.max, p.unit)}減らしてください。`,
  "song.input.invisible": (p) =>
    `見えない文字（ゼロ幅スペース、制御文字、文字方向の制御記号）を取り除くと、${fieldName[p.field]}が空になります。文字を入力してから、もう一度お試しください。何も送信されておらず、料金も発生していません。`,
  "song.promptIgnored": () =>
    "歌詞とプロンプトの両方が指定されました。Fun-Music は歌詞を歌い、プロンプトは無視するため、今回プロンプトは使われていません。",

  // /song：進行状況と結果
  "song.progress.queued": (p) => `⏳ 空きを待っています（${p.position} 番目、待ち時間 ${p.elapsed}）…`,
  "song.progress.generating": (p) => `🎼 作曲中です… 経過 ${p.elapsed}`,
  "song.progress.streaming": (p) => `🎼 作曲中です… 経過 ${p.elapsed}、これまでに音声 ${p.audioSeconds} 秒分を受信しました。`,
  "song.progress.finishing": (p) => `📦 ファイルを準備しています… 経過 ${p.elapsed}`,
  "song.untitled": () => "無題の曲",
  "song.embed.vocal": () => "ボーカル",
  "song.embed.format": () => "形式",
  "song.embed.duration": () => "長さ",
  "song.embed.prompt": () => "プロンプト",
  "song.embed.lyrics": () => "歌詞",
  "song.embed.lyricsContinued": (p) => `歌詞（パート ${p.part}）`,
  "song.embed.noLyrics": () => "*この曲には歌詞が返ってきませんでした。*",
  "song.embed.footer": (p) => `request_id ${p.requestId}`,
  "song.embed.requestedBy": (p) => `リクエスト：${p.user}`,
  "song.vocal.female": () => "女性ボーカル",
  "song.vocal.male": () => "男性ボーカル",
  "song.watermark": () => "AIGC ウォーターマーク",
  "song.delivery.reencoded": (p) =>
    `元のファイルがこのサーバーのアップロード上限（${p.limitMb} MB）を超えているため、${p.bitrate} kbps で再エンコードした MP3 を送ります。元のファイルは[こちら](${p.url})からダウンロードできます（${p.expires}に期限切れ）。`,
  "song.delivery.linkOnly": (p) =>
    `この曲はこのサーバーのアップロード上限（${p.limitMb} MB）を超えていて、十分に小さくできませんでした。[こちら](${p.url})からダウンロードしてください（${p.expires}に期限切れ）。`,
  "song.delivery.fetchFailed": (p) =>
    `曲はできあがりましたが、DashScope からファイルを取得できませんでした。[こちら](${p.url})からダウンロードしてください（${p.expires}に期限切れ）。`,
  "song.delivery.lost": () => "曲は生成されましたが投稿できず、Fun-Music からダウンロードリンクも返ってきませんでした。もう一度お試しください。",
  "song.button.regenerate": () => "作り直す",
  "song.button.switchToMale": () => "男性ボーカルにする",
  "song.button.switchToFemale": () => "女性ボーカルにする",
  "song.button.editLyrics": () => "歌詞を編集",
  "song.button.analyze": () => "分析",
  "song.modal.title": () => "曲を作る",
  "song.modal.editTitle": () => "歌詞を編集",
  "song.modal.lyricsLabel": () => "歌詞",
  "song.modal.lyricsPlaceholder": () => "[verse]\n最初のフレーズ…\n\n[chorus]\nサビ…",
  "song.modal.styleLabel": () => "スタイル（歌詞がないときに使います）",
  "song.modal.stylePlaceholder": () => "例：爽やかな夏のフォーク、アコースティックギターとハーモニカ、軽快なテンポ",
  "song.record.gone": () => "この曲の情報はもう残っていません（ボットが再起動した可能性があります）。もう一度 `/song` を実行して新しく作ってください。",
  "song.notYours": () => "これらのボタンを使えるのは、この曲をリクエストした人かサーバー管理者だけです。",
  "busy": () => "実行中のリクエストがあります。終わってからもう一度お試しください。",

  // 音声を分析
  "analysis.noAudio": () => "このメッセージには、聞き取れるボイスメッセージや音声ファイルがありません。",
  "analysis.tooLarge": (p) => `このファイルは ${p.sizeMb} MB です。分析できるのは ${p.maxMb} MB までのファイルです。`,
  "analysis.noSoundTrack": (p) => `\`${p.name}\` には音声が入っていません。`,
  "analysis.downloadFailed": () => "Discord からファイルをダウンロードできませんでした。少し待ってからもう一度お試しください。",
  "analysis.emptyQuestion": () => "先に、音声についての質問を入力してください。",
  "analysis.alreadyShared": () => "この回答はすでにチャンネルに共有されています。",
  "analysis.undecodable": (p) => `\`${p.name}\` を音声としてデコードできませんでした。ファイルが欠けていないか、一般的な音声形式かを確認してください。`,
  "analysis.progress.preparing": (p) => `🎧 音声を取得して準備しています… ${p.elapsed}`,
  "analysis.progress.listening": (p) => `🎧 聞いています… ${p.elapsed}`,
  "analysis.progress.pieces": (p) => `🎧 聞いています… ${p.total} パート中 ${p.done} パート完了、${p.elapsed}`,
  "analysis.title.overview": (p) => `${p.name} から聞こえること`,
  "analysis.title.transcribe": () => "文字起こし",
  "analysis.title.music": () => "音楽",
  "analysis.title.emotion": () => "感情",
  "analysis.title.translate": (p) => `${languageNameIn("ja", p.language)}への翻訳`,
  "analysis.title.ask": (p) => `Q：${p.question}`,
  "analysis.section.Summary": () => "概要",
  "analysis.section.Transcript": () => "文字起こし",
  "analysis.section.Language": () => "言語",
  "analysis.section.Speaker": () => "話者",
  "analysis.section.Emotion": () => "感情",
  "analysis.section.Sounds": () => "音と環境",
  "analysis.section.Music": () => "音楽",
  "analysis.note.split": (p) =>
    `この録音（${p.duration}）は 30 秒を超えていたため、${p.pieces} パートに分けて聞きました。各パートには時間の範囲を付けています。`,
  "analysis.note.truncated": (p) => `${p.duration} のうち、最初の ${p.analysed} だけを分析しました。`,
  "analysis.note.failedParts": (p) => `次のパートは分析できませんでした：${p.ranges}`,
  "analysis.note.cutShort": () => "回答がモデルの長さの上限に達したため、途中で終わっているかもしれません。",
  "analysis.note.otherFiles": (p) => `このメッセージには、ほかに ${p.count} 件の音声ファイルがあります。下で選ぶと分析できます。`,
  "analysis.footer": (p) => `${p.page}/${p.pages} ページ · ${p.model}`,
  "analysis.button.transcribe": () => "文字起こし",
  "analysis.button.music": () => "音楽を説明",
  "analysis.button.emotion": () => "感情",
  "analysis.button.translate": (p) => `${languageNameIn("ja", p.language)}に翻訳`,
  "analysis.button.ask": () => "質問する",
  "analysis.button.share": () => "チャンネルに共有",
  "analysis.button.previous": () => "前へ",
  "analysis.button.next": () => "次へ",
  "analysis.select.placeholder": () => "このメッセージの別の音声ファイルを分析",
  "analysis.modal.title": () => "この音声について質問",
  "analysis.modal.questionLabel": () => "質問",
  "analysis.modal.questionPlaceholder": () => "例：冒頭で鳴っている楽器は何？",
  "analysis.gone": () => `この分析は期限切れです（またはボットが再起動しました）。メッセージに対してもう一度 **${analyzeAudio}** を実行してください。`,
  "analysis.notYours": () => "これらのボタンを使えるのは、この分析をリクエストした人だけです。",
  "analysis.sharedBy": (p) => `${p.user} さんが共有`,
  "analysis.shared": () => "チャンネルに共有しました。",

  // 利用上限（resets は Discord のタイムスタンプで、「3時間後」のように表示される）
  "quota.pending": () => "このサーバーの上限は、いま処理中のリクエストで埋まっています。数分後、それらが終わってからもう一度お試しください。",
  "quota.song-cooldown": (p) => `曲の作成にはクールダウンがあります。次の曲は${p.resets}から作れます。`,
  "quota.user-daily-songs": (p) => `今日作れる曲数の上限に達しました。${p.resets}にリセットされます。`,
  "quota.user-daily-music-seconds": (p) => `今日の音楽時間を使い切りました。${p.resets}にリセットされます。`,
  "quota.user-daily-analyses": (p) => `今日の音声分析の回数を使い切りました。${p.resets}にリセットされます。`,
  "quota.guild-monthly-music-seconds": (p) =>
    `このサーバーは今月の音楽時間の予算を使い切りました。${p.resets}にリセットされます。サーバー管理者は /limits で上限を引き上げられます。`,
  "quota.guild-monthly-cost": (p) =>
    `このサーバーは今月の費用予算に達しました。${p.resets}にリセットされます。サーバー管理者は /limits で上限を引き上げられます。`,

  // サーバー設定
  "settings.saved.analysisVisibility": (p) => `このサーバーでは、「${analyzeAudio}」の返信がデフォルトで${p.visibility}になりました。`,
  "settings.visibility.public": () => "公開",
  "settings.visibility.private": () => "非公開（実行した本人だけに表示）",
  "settings.needsManageServer": () => "これらの設定を変更できるのは、サーバー管理権限を持つメンバーだけです。",
  "settings.guildOnly": () => "このコマンドはサーバー内でのみ使えます。",

  // DashScope のエラー（エラーコードの種類ごと）
  "dashscope.invalidApiKey": () => "ボットの DashScope API キーが拒否されました。サーバー管理者が `DASHSCOPE_API_KEY` を確認する必要があります。",
  "dashscope.accessDenied": () =>
    "ボットの DashScope アカウントには、このモデルへのアクセス権がありません。サーバー管理者が DashScope コンソールでアクセスを申請する必要があります（Fun-Music は中国 (北京) リージョンの招待プレビュー段階です）。",
  "dashscope.arrearage": () =>
    "ボットの DashScope アカウントの残高が不足しているか、支払いが滞っています。サーバー管理者が Alibaba Cloud コンソールでチャージする必要があります。",
  "dashscope.throttled": (p) => `DashScope がいまボットのリクエストを制限しています。${p.wait}後にもう一度お試しください。`,
  "wait.aMinute": () => "1分",
  "wait.seconds": (p) => `${p.seconds}秒`,
  "dashscope.dataInspection": () => "DashScope のコンテンツチェックで、このリクエストは拒否されました。内容を変えてもう一度お試しください。",
  "dashscope.mediaUnreadable": () => "DashScope が音声を取得または読み込めませんでした。もう一度お試しください。何度も起きる場合はサーバー管理者に伝えてください。",
  "dashscope.invalidParameter": (p) =>
    `DashScope がこのリクエストを無効として拒否しました。送った内容を変えてみてください。何度も起きる場合は、この参照番号をサーバー管理者に伝えてください：\`${p.reference}\``,
  "dashscope.timeout": () =>
    "DashScope の応答に時間がかかりすぎたため、待つのをやめました。もう一度お試しください（歌詞を短くするとうまくいくことがあります）。何度も起きる場合はサーバー管理者に伝えてください。",
  "dashscope.network": () => "ボットが DashScope に接続できませんでした。少し待ってからもう一度お試しください。",
  "dashscope.unavailable": () => "DashScope で内部エラーが発生しました。数分後にもう一度お試しください。",
  "dashscope.malformed": () => "DashScope から読み取れない応答が返ってきました。もう一度お試しください。何度も起きる場合はサーバー管理者に伝えてください。",
  "dashscope.outcomeUnknown": () =>
    "リクエストの送信後に DashScope との接続が切れたため、処理されたかどうかを確認できません。料金が発生している可能性があるので、再送信はしていません。必要であれば、もう一度お試しください。",
  "dashscope.timeoutMaybeCharged": () =>
    "DashScope の処理がボットの待機時間の上限を超えたため、待機を打ち切りました。料金が発生している可能性があるので、再送信はしていません。必要であれば、もう一度お試しください。",
  "dashscope.streamIdle": (p) =>
    `DashScope から ${formatInteger(p.seconds, "ja")} 秒間何も届かなかったため、待機を打ち切りました。料金が発生している可能性があるので、再送信はしていません。必要であれば、もう一度お試しください。`,

  // 永続ジョブ：待機、再起動、キャンセル、再試行
  "job.progress.requeued": (p) => `⏳ ボットが再起動しました。リクエストの順番はそのまま保たれています（キューの ${formatInteger(p.position, "ja")} 番目、待ち時間 ${p.elapsed}）…`,
  "job.progress.restarting": () => "⏳ ボットを再起動しています。リクエストはキュー内の順番を保ったまま、まもなく再開します。",
  "job.button.cancel": () => "キャンセル",
  "job.button.retry": () => "もう一度試す",
  "job.cancelled": () => "✖️ キャンセルしました。料金はかかっていません。",
  "job.cancel.running": () => "このリクエストはすでに生成中のため、キャンセルできません。DashScope ですでに課金が始まっている可能性があります。",
  "job.cancel.finished": () => "このリクエストはすでに終了しています。",
  "job.gone": () => "このリクエストの記録はボットに残っていません。コマンドをもう一度実行してください。",
  "job.notYours": () => "これを操作できるのは、リクエストした本人か「サーバー管理」権限を持つメンバーだけです。",
  "job.notRetryable": () => "このリクエストは失敗していないので、再試行の必要はありません。",
  "job.interrupted.restart": () =>
    "生成中にボットが再起動したため、このリクエストを復旧できませんでした。DashScope 側では料金が発生している可能性があります。**もう一度試す** を押すと、もう一度リクエストできます。",
  "job.privateExpired": () =>
    `非公開の分析が完了したときには Discord の 15 分の返信期限が過ぎていたため、表示できません。結果を見るには、メッセージに対してもう一度 **${analyzeAudio}** を実行してください。`,

  // 共通
  "error.unexpected": (p) => `こちら側で問題が起きました。何度も起きる場合は、この参照番号をサーバー管理者に伝えてください：\`${p.reference}\``,
  "error.unknownInteraction": () => "このボタンまたはコマンドはもう使えません。コマンドをもう一度実行してください。",
  "duration.seconds": (p) => formatClock(p.seconds),
} satisfies Catalog;
