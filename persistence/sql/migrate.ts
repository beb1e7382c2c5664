/**
 * Applies the versioned SQL files in persistence/sql/migrations (`NNN_name.sql`)
 * to a PostgreSQL database (self-hosted, RDS, Neon or Supabase's database).
 * Idempotent, records each version in scopefs.schema_migrations, and safe
 * under concurrent callers: they queue on an advisory lock.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ScopeFsError, errorMessage } from '../../src/errors.js';
import { CONNECTION_DEFAULTS, isConnectionError, pgError, redactConnectionString } from './pg-connection.js';
import { SCHEMA_VERSION } from './sql-store-mapping.js';

export interface Migration {
  version: number;
  name: string;
  file: string;
}

export interface MigrateOptions {
  /** Called with (0, pending) before the first migration and after each one. */
  onProgress?: (done: number, total: number) => void;
}

// pg_advisory_lock key for migrations (any constant; advisory locks are per database).
const MIGRATION_LOCK_KEY = 0x5c0_9ef5;

const MIGRATION_FILE = /^(\d+)_([\w-]+)\.sql$/;

/** The migrations directory: beside this module in the sources, or at the package root from dist/. */
export function migrationsDir(): string {
  const candidates = [new URL('./migrations/', import.meta.url), new URL('../../../persistence/sql/migrations/', import.meta.url)];
  const found = candidates.map((url) => fileURLToPath(url)).find((dir) => existsSync(dir));
  if (!found) throw new ScopeFsError('ESCHEMA', 'the scopefs SQL migrations directory is missing from this installation');
  return found;
}

/** The migration files, ascending by version. */
export async function listMigrations(dir = migrationsDir()): Promise<Migration[]> {
  const migrations: Migration[] = [];
  for (const file of await readdir(dir)) {
    const match = MIGRATION_FILE.exec(file);
    if (match) migrations.push({ version: Number(match[1]), name: match[2]!, file: `${dir}${file}` });
  }
  return migrations.sort((a, b) => a.version - b.version);
}

/** Brings the database to SCHEMA_VERSION. Throws ESCHEMA when it is already newer than this build. */
export async function migrate(connectionString: string, options: MigrateOptions = {}): Promise<{ from: number; to: number }> {
  const url = redactConnectionString(connectionString);
  const client = new pg.Client({ connectionString, ...CONNECTION_DEFAULTS });
  // A connection lost mid-migration surfaces as the failing query's error.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await applyPending(client, url, options);
  } catch (err) {
    throw pgError(err, url);
  } finally {
    // Closing the session also releases the advisory lock.
    await client.end().catch(() => {});
  }
}

async function applyPending(client: pg.Client, url: string, options: MigrateOptions): Promise<{ from: number; to: number }> {
  const from = await readSchemaVersion(client);
  if (from > SCHEMA_VERSION) {
    throw new ScopeFsError(
      'ESCHEMA',
      `store ${url} has schema version ${from}, newer than the ${SCHEMA_VERSION} this scopefs build knows; upgrade scopefs`,
    );
  }
  const pending = (await listMigrations()).filter((m) => m.version > from && m.version <= SCHEMA_VERSION);
  options.onProgress?.(0, pending.length);
  for (const [index, migration] of pending.entries()) {
    await applyMigration(client, migration);
    options.onProgress?.(index + 1, pending.length);
  }
  return { from, to: pending.at(-1)?.version ?? from };
}

/** The recorded schema version, 0 for a database scopefs has never touched. */
async function readSchemaVersion(client: pg.ClientBase): Promise<number> {
  const table = await client.query<{ exists: boolean }>(
    "SELECT to_regclass('scopefs.schema_migrations') IS NOT NULL AS exists",
  );
  if (!table.rows[0]?.exists) return 0;
  const result = await client.query<{ version: number }>(
    'SELECT coalesce(max(version), 0)::integer AS version FROM scopefs.schema_migrations',
  );
  return result.rows[0]?.version ?? 0;
}

/** One migration in one transaction, so a failure leaves the previous version intact. */
async function applyMigration(client: pg.Client, migration: Migration): Promise<void> {
  const sql = await readFile(migration.file, 'utf8');
  await client.query('BEGIN');
  try {
    await client.query(sql);
    await client.query(
      'INSERT INTO scopefs.schema_migrations (version, name) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING',
      [migration.version, migration.name],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    if (isConnectionError(err)) throw err;
    throw new ScopeFsError('ESCHEMA', `migration ${migration.version}_${migration.name} failed: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}
