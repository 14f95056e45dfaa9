import { z } from "zod";
import { httpUrl, numberish } from "./schema-parts.js";

/**
 * The upload policy of DashScope's temporary storage: what `GET {base}/uploads?action=getPolicy&model=…`
 * answers, and a cache so the pieces of one audio share one policy.
 *
 * Sources: the official Python SDK (`dashscope/utils/oss_utils.py`, `OssUtils.get_upload_certificate`
 * and `OssUtils.upload`) and Model Studio's "上传本地文件获取临时URL" page
 * (https://help.aliyun.com/zh/model-studio/get-temporary-file-url), whose field table types
 * `expire_in_seconds`, `max_file_size_mb` and `capacity_limit_mb` as strings while its own
 * example answers numbers; both are accepted.
 */

/** Form values that OSS reads as text; a JSON boolean is taken as its text. */
const formText = z.union([z.string(), z.boolean().transform(String)]);

export const uploadPolicyAnswerSchema = z.object({
  request_id: z.string().optional(),
  data: z.object({
    policy: z.string().min(1),
    signature: z.string().min(1),
    upload_dir: z.string().min(1),
    upload_host: httpUrl,
    expire_in_seconds: numberish,
    max_file_size_mb: numberish.nullish(),
    capacity_limit_mb: numberish.nullish(),
    oss_access_key_id: z.string().min(1),
    x_oss_object_acl: formText,
    x_oss_forbid_overwrite: formText,
  }),
});

export type UploadPolicyAnswer = z.infer<typeof uploadPolicyAnswerSchema>;

/** A policy as we use it: the answer's fields, and when we stop trusting it. */
export type UploadPolicy = {
  policy: string;
  signature: string;
  /** `upload_dir` without trailing slashes. */
  uploadDir: string;
  uploadHost: string;
  ossAccessKeyId: string;
  objectAcl: string;
  forbidOverwrite: string;
  /** `max_file_size_mb` in bytes (MiB, as the SDK's tools count), if the answer said. */
  maxFileBytes: number | undefined;
  /** Daily upload capacity of the account, in MB: informative only, we cannot see what is used. */
  capacityLimitMb: number | undefined;
  /** Clock time (ms) after which the cache fetches a new policy. */
  refreshAfterMs: number;
  requestId: string | undefined;
};

/**
 * How long before its stated expiry we stop using a policy: a minute, or half its lifetime if it
 * is short. OSS checks the expiry when the form arrives, and a 10 MB upload takes a while; a
 * policy that expires mid-upload costs a 403 and a second upload.
 */
export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs / 2);
}

/**
 * Turns a validated answer into a policy. `requestedAtMs` is when we sent the request (not when
 * the answer came), so the lifetime is never overestimated.
 */
export function policyFromAnswer(answer: UploadPolicyAnswer, requestedAtMs: number, requestId: string | undefined): UploadPolicy {
  const { data } = answer;
  const lifetimeMs = data.expire_in_seconds * 1000;
  return {
    policy: data.policy,
    signature: data.signature,
    uploadDir: data.upload_dir.replace(/\/+$/, ""),
    uploadHost: data.upload_host,
    ossAccessKeyId: data.oss_access_key_id,
    objectAcl: data.x_oss_object_acl,
    forbidOverwrite: data.x_oss_forbid_overwrite,
    maxFileBytes: data.max_file_size_mb == null ? undefined : Math.floor(data.max_file_size_mb * 1024 * 1024),
    capacityLimitMb: data.capacity_limit_mb ?? undefined,
    refreshAfterMs: requestedAtMs + lifetimeMs - refreshMarginMs(lifetimeMs),
    requestId: answer.request_id ?? requestId,
  };
}

/**
 * Policies per model, shared by concurrent uploads: one `getPolicy` serves every piece of an
 * audio (the SDK reuses one "upload certificate" across a message's files the same way), and
 * concurrent uploads that find the cache empty wait for the same request instead of each
 * sending one (the endpoint is limited to 100 QPS per account and model).
 */
export type UploadPolicyCache = {
  /**
   * The cached policy for `model` if still fresh, else the result of `fetch`, shared by every
   * caller while in flight. A caller whose `signal` aborts stops waiting (rejecting with the
   * signal's reason); the shared request is aborted only once no caller waits for it.
   */
  get(model: string, fetch: (signal: AbortSignal) => Promise<UploadPolicy>, signal?: AbortSignal | undefined): Promise<UploadPolicy>;
  /** Forgets `policy` (expired, or refused by OSS) unless a newer one has replaced it already. */
  invalidate(model: string, policy: UploadPolicy): void;
};

type PendingPolicy = { promise: Promise<UploadPolicy>; controller: AbortController; waiters: number };

export function createUploadPolicyCache(options: { now?: (() => number) | undefined } = {}): UploadPolicyCache {
  const now = options.now ?? Date.now;
  const fresh = new Map<string, UploadPolicy>();
  const inFlight = new Map<string, PendingPolicy>();

  function start(model: string, fetch: (signal: AbortSignal) => Promise<UploadPolicy>): PendingPolicy {
    const controller = new AbortController();
    const pending: PendingPolicy = { promise: Promise.resolve().then(() => fetch(controller.signal)), controller, waiters: 0 };
    pending.promise = pending.promise.then(
      (policy) => {
        if (inFlight.get(model) === pending) inFlight.delete(model);
        fresh.set(model, policy);
        return policy;
      },
      (error: unknown) => {
        if (inFlight.get(model) === pending) inFlight.delete(model);
        throw error;
      },
    );
    // Nobody may be left to read a failure of an abandoned request.
    pending.promise.catch(() => {});
    inFlight.set(model, pending);
    return pending;
  }

  return {
    async get(model, fetch, signal) {
      const cached = fresh.get(model);
      if (cached && now() < cached.refreshAfterMs) return cached;
      if (signal?.aborted) throw signal.reason;
      const pending = inFlight.get(model) ?? start(model, fetch);
      pending.waiters++;
      if (!signal) return pending.promise;
      return new Promise<UploadPolicy>((resolve, reject) => {
        const onAbort = () => {
          reject(signal.reason as unknown);
          if (--pending.waiters === 0) {
            if (inFlight.get(model) === pending) inFlight.delete(model);
            pending.controller.abort(signal.reason);
          }
        };
        signal.addEventListener("abort", onAbort, { once: true });
        pending.promise.then(
          (policy) => {
            signal.removeEventListener("abort", onAbort);
            resolve(policy);
          },
          (error: unknown) => {
            signal.removeEventListener("abort", onAbort);
            reject(error);
          },
        );
      });
    },
    invalidate(model, policy) {
      if (fresh.get(model) === policy) fresh.delete(model);
    },
  };
}
