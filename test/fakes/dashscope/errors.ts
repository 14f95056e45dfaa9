/**
 * DashScope error codes with their HTTP status and English message, as the real service sends them.
 *
 * Sources (see the fake's README section in index.ts):
 * - Model Studio / DashScope "status codes" pages (help.aliyun.com/zh/dashscope/response-status-codes,
 *   alibabacloud.com/help/en/model-studio/developer-reference/error-code);
 * - the Qwen Cloud "Error messages" page (docs.qwencloud.com/api-reference/preparation/error-messages),
 *   which also lists the Fun-Music specific messages;
 * - live captures quoted in public code (Arrearage wording, missing-key wording);
 * - dashscope-sdk-python `common/constants.py` for the 503 wording.
 */

/**
 * An error the fake answers with: HTTP status, DashScope code, English message.
 *
 * `inStream` says how the error reaches an SSE call. Two behaviours are documented in the wild:
 * - before the stream (gateway: key, account, path, model routing): the HTTP response itself has
 *   the error's status and its body is one `event:error` frame (new-api's production capture of
 *   Arrearage: "non-2xx response, SSE event"; dashscope-sdk-python reads SSE bodies of non-200
 *   answers in `_handle_http_failed_response`);
 * - inside the stream (the model service: parameter checks, moderation, throttling, algorithm
 *   errors): HTTP 200, then an `event:error` frame whose `:HTTP_STATUS/<n>` line carries the
 *   status (a live probe of DashScope's qwen-audio TTS got `InvalidParameter` inside a 200 stream;
 *   qwen-code notes DashScope sends `:HTTP_STATUS/429` inside 200 streams when throttling; the
 *   Python SDK falls back to status 400 for in-stream errors because the HTTP status says 200).
 * Plain (non-SSE) calls always get the error's own status.
 */
export type ApiError = {
  status: number;
  code: string;
  message: string;
  inStream?: boolean;
};

type CatalogEntry = { status: number; message: string; inStream?: boolean };

export const DASHSCOPE_ERRORS = {
  InvalidParameter: { status: 400, message: "Required parameter(s) missing or invalid, please check the request parameters.", inStream: true },
  "InvalidParameter.DataInspection": { status: 400, message: "The media format is not supported or incorrect for the data inspection.", inStream: true },
  DataInspectionFailed: { status: 400, message: "Input or output data may contain inappropriate content.", inStream: true },
  "BadRequest.EmptyInput": { status: 400, message: "Required input parameter missing from request." },
  "BadRequest.EmptyParameters": { status: 400, message: 'Required parameter "parameters" missing from request.' },
  "BadRequest.EmptyModel": { status: 400, message: 'Required parameter "model" missing from request.' },
  "BadRequest.TooLarge": { status: 413, message: "Payload Too Large." },
  InvalidURL: { status: 400, message: "Invalid URL provided in your request." },
  // Live capture (new-api test "exact wire shape observed from DashScope/Bailian in production").
  // Older docs spell it "plesase"; the Qwen Cloud page drops "please".
  Arrearage: { status: 400, message: "Access denied, please make sure your account is in good standing." },
  UnsupportedOperation: { status: 400, message: "The operation is unsupported on the referee object." },
  InvalidApiKey: { status: 401, message: "Invalid API-key provided." },
  AccessDenied: { status: 403, message: "Access denied." },
  "AccessDenied.Unpurchased": { status: 403, message: "Access to model denied. Please make sure you are eligible for using the model." },
  "Model.AccessDenied": { status: 403, message: "Model access denied." },
  "Workspace.AccessDenied": { status: 403, message: "Workspace access denied." },
  "AllocationQuota.FreeTierOnly": {
    status: 403,
    message:
      'The free tier of the model has been exhausted. If you want to continue access the model on a paid basis, please disable the "use free tier only" mode.',
  },
  ModelNotFound: { status: 404, message: "Model can not be found." },
  NotFound: { status: 404, message: "Request path not found." },
  RequestTimeOut: { status: 408, message: "Request timed out, please try again later." },
  Throttling: { status: 429, message: "Requests throttling triggered.", inStream: true },
  "Throttling.RateQuota": { status: 429, message: "Requests rate limit exceeded, please try again later.", inStream: true },
  "Throttling.AllocationQuota": { status: 429, message: "Allocated quota exceeded, please increase your quota limit.", inStream: true },
  "Throttling.BurstRate": {
    status: 429,
    message:
      "Request rate increased too quickly. To ensure system stability, please adjust your client logic to scale requests more smoothly over time.",
    inStream: true,
  },
  InternalError: { status: 500, message: "An internal error has occured, please try again later or contact service support.", inStream: true },
  "InternalError.Algo": {
    status: 500,
    message: "An internal error has occured during execution, please try again later or contact service support.",
    inStream: true,
  },
  "InternalError.Timeout": {
    status: 500,
    message: "An internal timeout error has occured during execution, please try again later or contact service support.",
    inStream: true,
  },
  // Fun-Music specific (Qwen Cloud error page): an internal timeout while streaming.
  ResponseTimeout: { status: 500, message: "Response stream timeout", inStream: true },
  SystemError: { status: 500, message: "An system error has occured, try again later." },
  ModelServiceFailed: { status: 500, message: "Failed to request model service.", inStream: true },
  ModelUnavailable: { status: 503, message: "Model is unavailable, try again later." },
  // Wording from dashscope-sdk-python SERVICE_503_MESSAGE; the code name itself is not in the docs.
  ServiceUnavailable: { status: 503, message: "Service temporarily unavailable, possibly overloaded or not ready." },
} as const satisfies Record<string, CatalogEntry>;

export type KnownErrorCode = keyof typeof DASHSCOPE_ERRORS;

/** Fun-Music messages quoted on the Qwen Cloud error page, for scripting realistic faults. */
export const FUN_MUSIC_MESSAGES = {
  /** 400 InvalidParameter when neither field is given. */
  lyricsOrPromptRequired: "At least one of 'lyrics' or 'prompt' must be provided.",
  /** 400 InvalidParameter when moderation rejects the lyrics. */
  lyricsIllegal: "Lyrics content is illegal and cannot be used for music generation.",
  /** 500 InternalError.Algo when the music backend is over its concurrency limit. */
  backendBusy: "[music]Receive batching backend response failed!",
  /** 500 InternalError.Algo for anything else. */
  otherServerError: "Other kinds of server error.",
} as const;

/** The error for `code`, with the catalog's status, message and stream behaviour unless overridden. */
export function dashScopeError(code: KnownErrorCode, message?: string): ApiError {
  const entry: CatalogEntry = DASHSCOPE_ERRORS[code];
  return { status: entry.status, code, message: message ?? entry.message, inStream: entry.inStream ?? false };
}

/** The same error raised by the gateway, before any stream starts (e.g. a body that is not JSON). */
export function beforeStream(error: ApiError): ApiError {
  return { ...error, inStream: false };
}

/** A scripted error: catalog message and stream behaviour for known codes; unknown codes are gateway errors. */
export function scriptedError(status: number, code: string, message: string | undefined): ApiError {
  const entry = (DASHSCOPE_ERRORS as Record<string, CatalogEntry | undefined>)[code];
  return { status, code, message: message ?? entry?.message ?? `${code} (scripted by the fake DashScope)`, inStream: entry?.inStream ?? false };
}

/**
 * The flat error body. Key order follows live captures (`request_id` first: a 401 probe of the
 * Fun-Music endpoint and the new-api production trace); the docs print `code` first. JSON readers
 * must not care.
 */
export function errorBody(requestId: string, error: ApiError): { request_id: string; code: string; message: string } {
  return { request_id: requestId, code: error.code, message: error.message };
}
