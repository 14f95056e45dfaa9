import { TimestampStyles, time } from "discord.js";
import { billingStateCodes, DashScopeError, DashScopeOutcomeUnknownError } from "../dashscope/errors.js";
import { UserError } from "../errors.js";
import type { MessageKey, MessageParams } from "../i18n/index.js";
import { DownloadError } from "../net/download.js";
import { QuotaRefusedError } from "../usage/metering.js";

/** A translator already bound to the user's locale. */
export type LocalTranslate = <K extends MessageKey>(key: K, ...params: MessageParams<K> extends undefined ? [] : [MessageParams<K>]) => string;

export type FailureDescription = {
  text: string;
  /** How loudly to log it: a user's own mistake is routine, an unknown failure is an error. */
  level: "info" | "warn" | "error";
};

/**
 * The one place that turns any failure into what the user reads. Users see what happened and
 * what they (or an admin) can do; unexpected failures get a reference id that matches the log line.
 */
export function describeFailure(error: unknown, t: LocalTranslate, reference: string): FailureDescription {
  if (error instanceof UserError) {
    return { text: (t as (key: MessageKey, params?: unknown) => string)(error.messageKey, error.params), level: "info" };
  }
  if (error instanceof QuotaRefusedError && error.pending) return { text: t("quota.pending"), level: "info" };
  if (error instanceof QuotaRefusedError) {
    const resets = time(Math.ceil(error.resetsAt.getTime() / 1000), TimestampStyles.RelativeTime);
    return { text: t(`quota.${error.limit}`, { resets }), level: "info" };
  }
  if (error instanceof DashScopeError) {
    return describeDashScopeError(error, t, reference);
  }
  if (error instanceof DownloadError) {
    // Songs keep their link when their file can't be fetched, so a download failing here is an attachment's.
    return { text: t("analysis.downloadFailed"), level: "warn" };
  }
  return { text: t("error.unexpected", { reference }), level: "error" };
}

/**
 * By code first, then by status: an error can arrive over a 4xx/5xx, in an SSE error frame, or in
 * a 200 body (status 200), and the user reads the same text for the same code in all three.
 */
function describeDashScopeError(error: DashScopeError, t: LocalTranslate, reference: string): FailureDescription {
  const code = error.code;
  if (error instanceof DashScopeOutcomeUnknownError) {
    if (error.reason === "stream-idle" && error.idleMs !== undefined) {
      return { text: t("dashscope.streamIdle", { seconds: Math.max(1, Math.round(error.idleMs / 1000)) }), level: "warn" };
    }
    if (error.reason === "timed-out") return { text: t("dashscope.timeoutMaybeCharged"), level: "warn" };
    return { text: t("dashscope.outcomeUnknown"), level: "warn" };
  }
  if (code === "InvalidApiKey" || error.status === 401) return { text: t("dashscope.invalidApiKey"), level: "error" };
  if (code === "Arrearage" || billingStateCodes.has(code)) return { text: t("dashscope.arrearage"), level: "error" };
  if (code.includes("AccessDenied") || code.startsWith("AllocationQuota") || error.status === 403) return { text: t("dashscope.accessDenied"), level: "error" };
  if (code.startsWith("Throttling") || error.status === 429) {
    const seconds = error.retryAfterSeconds === undefined ? undefined : Math.ceil(error.retryAfterSeconds);
    const wait = seconds === undefined || seconds >= 60 ? t("wait.aMinute") : t("wait.seconds", { seconds: Math.max(1, seconds) });
    return { text: t("dashscope.throttled", { wait }), level: "warn" };
  }
  // Despite its name, this is what DashScope answers when it can't fetch or decode a media URL.
  if (code === "InvalidParameter.DataInspection") return { text: t("dashscope.mediaUnreadable"), level: "warn" };
  if (code === "DataInspectionFailed" || code === "data_inspection_failed") return { text: t("dashscope.dataInspection"), level: "info" };
  if (code === "RequestTimeout" || code === "ResponseTimeout" || code === "InternalError.Timeout") return { text: t("dashscope.timeout"), level: "warn" };
  if (code === "NetworkError") return { text: t("dashscope.network"), level: "warn" };
  if (code === "MalformedResponse") return { text: t("dashscope.malformed"), level: "error" };
  if (code.startsWith("InvalidParameter") || code.startsWith("BadRequest") || code === "InvalidURL" || code === "UnsupportedOperation" || error.status === 400) {
    return { text: t("dashscope.invalidParameter", { reference }), level: "error" };
  }
  const serviceFailure = ["ServiceUnavailable", "ModelUnavailable", "SystemError", "ModelServiceFailed"];
  if (code.startsWith("InternalError") || serviceFailure.includes(code) || (error.status ?? 0) >= 500) {
    return { text: t("dashscope.unavailable"), level: "warn" };
  }
  return { text: t("error.unexpected", { reference }), level: "error" };
}
