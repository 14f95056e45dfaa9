import { performance } from "node:perf_hooks";
import type { Logger } from "../log.js";
import type { UploadedFile } from "./audio-types.js";
import type { DashScopeClient } from "./client.js";
import { DashScopeError } from "./errors.js";
import { buildObjectKey, buildUploadForm, errorFromOssResponse, needsFreshPolicy, OSS_UPLOAD_ENDPOINT, SUCCESS_ACTION_STATUS } from "./upload-oss.js";
import { createUploadPolicyCache, policyFromAnswer, uploadPolicyAnswerSchema, type UploadPolicy, type UploadPolicyCache } from "./upload-policy.js";

/**
 * DashScope's temporary storage: puts a local file where a model can read it, as `oss://…`.
 *
 * 1. `GET {base}/uploads?action=getPolicy&model=…` → a signed OSS PostObject policy (per model);
 * 2. a multipart POST of the file to the policy's `upload_host`, under `{upload_dir}/…`;
 * 3. the file's URL is `oss://{key}`, valid 48 h, readable only by calls to the same model with a
 *    key of the same account, and only when the call sends `X-DashScope-OssResourceResolve: enable`
 *    (`askQwenAudio` does).
 *
 * Sources: the Python SDK's `dashscope/utils/oss_utils.py` (the form, `oss://` + key) and Model
 * Studio's "上传本地文件获取临时URL" (https://help.aliyun.com/zh/model-studio/get-temporary-file-url:
 * the fields, the 48 h, the 100 QPS limit, `403 AccessDenied … Policy expired`).
 */

export { createUploadPolicyCache, type UploadPolicy, type UploadPolicyCache } from "./upload-policy.js";
export { OSS_UPLOAD_ENDPOINT, sanitizeFileName } from "./upload-oss.js";

/** The policy endpoint, relative to the base URL (`…/api/v1`). */
export const UPLOAD_POLICY_PATH = "/uploads";

/** How long temporary storage keeps a file (Model Studio: "文件上传后有效期48小时"). */
export const TEMPORARY_FILE_LIFETIME_MS = 48 * 60 * 60 * 1000;

export type UploadDeps = {
  client: DashScopeClient;
  logger: Logger;
  /**
   * Where policies are kept between uploads. Pass one from `createUploadPolicyCache()` to choose
   * its scope; without it, every upload through the same `client` shares one.
   */
  policyCache?: UploadPolicyCache | undefined;
  /** Clock for the policy's lifetime and the file's expiry; `Date.now` if absent. */
  now?: (() => number) | undefined;
};

export type UploadTemporaryFileInput = {
  /** The model that will read the file: storage binds each file to one model. */
  model: string;
  /** Used, sanitized, as the end of the object key; the name is otherwise free. */
  fileName: string;
  bytes: Buffer;
  /** Sent as `x-oss-content-type` and as the file part's type, e.g. `audio/mpeg`. */
  contentType: string;
  signal?: AbortSignal | undefined;
  /** Budget for the whole upload: policy, form POST, retries, and one policy refresh. */
  timeoutMs: number;
};

/** The file is bigger than the policy's `max_file_size_mb`; nothing was uploaded. */
export class TemporaryFileTooLargeError extends Error {
  override readonly name = "TemporaryFileTooLargeError";
  readonly bytes: number;
  readonly maxBytes: number;
  readonly model: string;

  constructor(details: { bytes: number; maxBytes: number; model: string }) {
    super(`file of ${details.bytes} bytes exceeds the ${details.maxBytes}-byte limit of temporary storage for ${details.model}`);
    this.bytes = details.bytes;
    this.maxBytes = details.maxBytes;
    this.model = details.model;
  }
}

/** The cache used when `deps.policyCache` is absent: one per client, gone with the client. */
const cachesByClient = new WeakMap<DashScopeClient, UploadPolicyCache>();

function defaultCache(client: DashScopeClient, now: () => number): UploadPolicyCache {
  let cache = cachesByClient.get(client);
  if (!cache) {
    cache = createUploadPolicyCache({ now });
    cachesByClient.set(client, cache);
  }
  return cache;
}

/**
 * Uploads one file to temporary storage and returns its `oss://` URL.
 *
 * - The policy comes from the cache while fresh, so the pieces of one audio fetch one policy.
 * - A file over the policy's `max_file_size_mb` is refused with `TemporaryFileTooLargeError`
 *   before any byte is sent.
 * - Every failure of DashScope or OSS is a `DashScopeError`; OSS's XML errors keep OSS's
 *   `<Code>` and `<RequestId>`. 429, 5xx and network failures are retried per the client's policy,
 *   other 4xx are not — except an expired policy (403) or an existing key (409), which get a fresh
 *   policy, a fresh key and one more try.
 * - No credential of the policy (signature, policy, access key id) reaches a message or a log.
 */
export async function uploadTemporaryFile(deps: UploadDeps, input: UploadTemporaryFileInput): Promise<UploadedFile> {
  const now = deps.now ?? Date.now;
  const cache = deps.policyCache ?? defaultCache(deps.client, now);
  const started = performance.now();
  const remainingMs = () => input.timeoutMs - (performance.now() - started);

  for (let round = 1; ; round++) {
    const policy = await cache.get(
      input.model,
      (signal) => fetchPolicy(deps, input.model, budgetFor(remainingMs(), input.timeoutMs), signal),
      input.signal,
    );
    if (policy.maxFileBytes !== undefined && input.bytes.length > policy.maxFileBytes) {
      throw new TemporaryFileTooLargeError({ bytes: input.bytes.length, maxBytes: policy.maxFileBytes, model: input.model });
    }
    const key = buildObjectKey(policy.uploadDir, input.fileName);
    const uploadStartedAt = now();
    try {
      const answer = await deps.client.postForm(
        policy.uploadHost,
        () => buildUploadForm(policy, key, { bytes: input.bytes, contentType: input.contentType, fileName: input.fileName }),
        {
          log: deps.logger,
          timeoutMs: budgetFor(remainingMs(), input.timeoutMs),
          signal: input.signal,
          endpoint: OSS_UPLOAD_ENDPOINT,
          api: "oss-upload",
          requestIdHeader: "x-oss-request-id",
          errorFromResponse: (response) => errorFromOssResponse(response, [policy.signature, policy.policy, policy.ossAccessKeyId]),
        },
      );
      if (String(answer.status) !== SUCCESS_ACTION_STATUS) {
        // OSS stored the file (2xx) but ignored success_action_status: worth knowing, not failing.
        deps.logger.warn({ model: input.model, status: answer.status, requestId: answer.requestId }, "temporary storage answered an unexpected success status");
      }
      const url = `oss://${key}`;
      deps.logger.info({ model: input.model, bytes: input.bytes.length, url, requestId: answer.requestId }, "temporary file uploaded");
      return { url, expiresAt: new Date(uploadStartedAt + TEMPORARY_FILE_LIFETIME_MS) };
    } catch (error) {
      if (round === 1 && error instanceof DashScopeError && needsFreshPolicy(error)) {
        cache.invalidate(input.model, policy);
        deps.logger.warn(
          { model: input.model, code: error.code, status: error.status, requestId: error.requestId },
          "temporary storage refused the policy or key; retrying with a fresh policy",
        );
        continue;
      }
      throw error;
    }
  }
}

/**
 * Fetches a policy. `signal` is the cache's, not a caller's: the request is shared by every
 * upload waiting on the cache, and aborts only when all of them have given up.
 */
async function fetchPolicy(deps: UploadDeps, model: string, timeoutMs: number, signal: AbortSignal): Promise<UploadPolicy> {
  const now = deps.now ?? Date.now;
  const requestedAt = now();
  const answer = await deps.client.getJson(UPLOAD_POLICY_PATH, {
    query: { action: "getPolicy", model },
    schema: uploadPolicyAnswerSchema,
    api: "upload-policy",
    timeoutMs,
    signal,
    log: deps.logger,
  });
  const policy = policyFromAnswer(answer.data, requestedAt, answer.requestId);
  deps.logger.debug(
    { model, requestId: policy.requestId, maxFileBytes: policy.maxFileBytes, refreshInMs: policy.refreshAfterMs - requestedAt },
    "temporary storage policy fetched",
  );
  return policy;
}

/** What is left of the upload's budget for the next call, or a `RequestTimeout` if nothing is. */
function budgetFor(remainingMs: number, timeoutMs: number): number {
  if (remainingMs <= 0) {
    throw new DashScopeError({
      code: "RequestTimeout",
      message: `no complete upload within ${timeoutMs} ms`,
      endpoint: UPLOAD_POLICY_PATH,
      method: "GET",
    });
  }
  return Math.ceil(remainingMs);
}
