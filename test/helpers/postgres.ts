/**
 * The real PostgreSQL server for tests (default
 * postgres://postgres@127.0.0.1:5432/postgres, override with
 * SCOPEFS_TEST_POSTGRES_URL). Each test file gets its own database, created
 * and dropped around it, so files running in parallel never see each other.
 *
 * Policy when the server is unreachable: with CI=true the suites FAIL (their
 * beforeAll throws); otherwise they are skipped with a message saying why.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';

export const ADMIN_URL = process.env.SCOPEFS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const isCI = process.env.CI === 'true' || process.env.CI === '1';

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const unreachable = await probe();
const unreachableMessage = `PostgreSQL at ${ADMIN_URL} is unreachable (${unreachable}); set SCOPEFS_TEST_POSTGRES_URL`;

if (unreachable !== null && !isCI) {
  console.warn(`[scopefs tests] SKIPPING PostgreSQL suites: ${unreachableMessage}. With CI=true they fail instead.`);
}

/** `describe` for suites that need the server: skipped locally without it, failing in CI. */
export function describePostgres(name: string, body: () => void): void {
  describe.skipIf(unreachable !== null && !isCI)(name, () => {
    if (unreachable !== null) {
      beforeAll(() => {
        throw new Error(`CI=true and ${unreachableMessage}`);
      });
    }
    body();
  });
}

export interface TestDatabase {
  /** Connection string of the fresh database (set in beforeAll). */
  url: string;
  name: string;
}

/** A connection string for `database` on the test server. */
export function databaseUrl(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs SQL as the admin user against `url` (default: the admin database). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  sql: string,
  values: unknown[] = [],
  url = ADMIN_URL,
): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query<R>(sql, values);
  } finally {
    await client.end();
  }
}

/**
 * Creates `scopefs_test_<prefix>_<random>` before the suite and drops it
 * (forcibly closing leftover connections) after. Call inside describePostgres.
 */
export function useTestDatabase(prefix: string): TestDatabase {
  const db: TestDatabase = { url: '', name: '' };
  beforeAll(async () => {
    db.name = `scopefs_test_${prefix}_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${pg.escapeIdentifier(db.name)}`);
    db.url = databaseUrl(db.name);
  });
  afterAll(async () => {
    if (db.name) await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(db.name)} WITH (FORCE)`);
  });
  return db;
}

/** Opens a client on `url`; the caller ends it. */
export async function connectClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Polls `condition` until it holds or `timeoutMs` passes (for state with no event to await). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
