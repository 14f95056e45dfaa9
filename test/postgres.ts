import pg from "pg";

/**
 * The PostgreSQL the tests use: TEST_DATABASE_URL, or this machine's (trust auth on 127.0.0.1).
 * Tests that need it skip, saying why, when it does not answer.
 */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

/** Why PostgreSQL can't be used (`null` when it answers). */
export async function whyPostgresIsUnavailable(url: string = TEST_POSTGRES_URL): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Prints why a file's PostgreSQL tests are skipped, without the URL's credentials. */
export function warnPostgresSkipped(suite: string, reason: string): void {
  console.warn(
    `[${suite}] PostgreSQL tests skipped: ${TEST_POSTGRES_URL.replace(/\/\/[^@/]*@/, "//…@")} is not reachable ` +
      `(${reason}). Set TEST_DATABASE_URL to a reachable database to run them.`,
  );
}

/** Drops a schema made for one test. */
export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}
