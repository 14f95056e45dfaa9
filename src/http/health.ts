import { sql, type Kysely } from "kysely";

/**
 * Readiness as `/healthz` reports it: a list of named checks, all of which must pass. The list is
 * built in main.ts, so "every shard is connected" becomes one more entry when sharding arrives.
 */
export type HealthCheck = {
  /** Shown in the answer's body, e.g. `discord`, `database`. */
  name: string;
  /** True when healthy; false or a throw (or no answer in time) means unhealthy. */
  check: () => boolean | Promise<boolean>;
};

export type CheckState = "ok" | "failing" | "timeout";

export type HealthReport = {
  healthy: boolean;
  checks: Record<string, CheckState>;
};

/** A check that takes longer is reported as `timeout`: a load balancer should not wait on a hung database. */
export const HEALTH_CHECK_TIMEOUT_MS = 2000;

/** Runs every check at once; a throw is a failure and is passed to `onError` (for a log line). */
export async function runHealthChecks(
  checks: readonly HealthCheck[],
  options: { timeoutMs?: number; onError?: (name: string, error: unknown) => void } = {},
): Promise<HealthReport> {
  const timeoutMs = options.timeoutMs ?? HEALTH_CHECK_TIMEOUT_MS;
  const states = await Promise.all(
    checks.map(async ({ name, check }): Promise<[string, CheckState]> => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      try {
        const result = await Promise.race([Promise.resolve().then(check), timedOut]);
        return [name, result === "timeout" ? "timeout" : result ? "ok" : "failing"];
      } catch (error) {
        options.onError?.(name, error);
        return [name, "failing"];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { healthy: states.every(([, state]) => state === "ok"), checks: Object.fromEntries(states) };
}

/** The database answers a trivial query. */
export function databaseCheck(db: Kysely<any>): HealthCheck {
  return {
    name: "database",
    async check() {
      await sql`select 1`.execute(db);
      return true;
    },
  };
}
