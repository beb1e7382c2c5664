import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { listMigrations, migrate } from '../../persistence/sql/migrate.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SCHEMA_VERSION } from '../../persistence/sql/sql-store-mapping.js';
import { adminQuery, describePostgres, useTestDatabase } from '../helpers/postgres.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => null, (err: unknown) => err);
}

async function recordedVersions(url: string): Promise<number[]> {
  const result = await adminQuery<{ version: number }>('SELECT version FROM scopefs.schema_migrations ORDER BY version', [], url);
  return result.rows.map((row) => row.version);
}

it('SCHEMA_VERSION is the newest migration file, and versions are contiguous from 1', async () => {
  const versions = (await listMigrations()).map((m) => m.version);
  expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
  expect(versions.at(-1)).toBe(SCHEMA_VERSION);
});

describePostgres('migrate()', () => {
  const fresh = useTestDatabase('migrate_fresh');
  const concurrent = useTestDatabase('migrate_concurrent');
  const newer = useTestDatabase('migrate_newer');
  const untouched = useTestDatabase('migrate_untouched');
  const older = useTestDatabase('migrate_older');

  it('applies pending migrations once, reports progress, and is idempotent', async () => {
    const progress: Array<[number, number]> = [];
    const first = await migrate(fresh.url, { onProgress: (done, total) => progress.push([done, total]) });
    expect(first).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(progress).toEqual([[0, SCHEMA_VERSION], ...Array.from({ length: SCHEMA_VERSION }, (_, i): [number, number] => [i + 1, SCHEMA_VERSION])]);
    expect(await recordedVersions(fresh.url)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));

    const again: Array<[number, number]> = [];
    expect(await migrate(fresh.url, { onProgress: (done, total) => again.push([done, total]) })).toEqual({
      from: SCHEMA_VERSION,
      to: SCHEMA_VERSION,
    });
    expect(again).toEqual([[0, 0]]);
  });

  it('is safe under concurrent callers: one applies, the others wait and find it done', async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate(concurrent.url)));
    expect(results.filter((r) => r.from === 0)).toHaveLength(1);
    expect(results.every((r) => r.to === SCHEMA_VERSION)).toBe(true);
    expect(await recordedVersions(concurrent.url)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('refuses a database whose schema is newer than this build, in migrate() and in the store', async () => {
    await migrate(newer.url);
    await adminQuery("INSERT INTO scopefs.schema_migrations (version, name) VALUES (99, 'from the future')", [], newer.url);
    for (const attempt of [
      () => migrate(newer.url),
      () => new PostgresStore({ connectionString: newer.url }).open(),
      () => new PostgresStore({ connectionString: newer.url, autoMigrate: false }).open(),
    ]) {
      const err = await rejection(attempt());
      expect(isScopeFsError(err, 'ESCHEMA'), String(err)).toBe(true);
      expect(String(err)).toMatch(/schema version 99, newer than the \d+ this scopefs build knows/);
    }
  });

  it('with autoMigrate false, refuses an unmigrated database and creates nothing', async () => {
    const store = new PostgresStore({ connectionString: untouched.url, autoMigrate: false });
    const err = await rejection(store.open());
    expect(isScopeFsError(err, 'ESCHEMA'), String(err)).toBe(true);
    expect(String(err)).toContain('scopefs migrate');
    const tables = await adminQuery("SELECT to_regclass('scopefs.files') AS files", [], untouched.url);
    expect(tables.rows[0]?.files).toBeNull();
    await store.close();
  });

  it('upgrades a database applied by hand up to an older version, which the store refuses until then', async () => {
    // The first two files pasted into an SQL console, as on Supabase.
    for (const migration of (await listMigrations()).slice(0, 2)) {
      await adminQuery(await readFile(migration.file, 'utf8'), [], older.url);
    }
    expect(await recordedVersions(older.url)).toEqual([1, 2]);
    const err = await rejection(new PostgresStore({ connectionString: older.url, autoMigrate: false }).open());
    expect(isScopeFsError(err, 'ESCHEMA'), String(err)).toBe(true);
    expect(String(err)).toContain(`schema version 2, this scopefs build needs ${SCHEMA_VERSION}; run \`scopefs migrate\``);

    expect(await migrate(older.url)).toEqual({ from: 2, to: SCHEMA_VERSION });
    const store = new PostgresStore({ connectionString: older.url, autoMigrate: false });
    await store.open();
    expect(await store.head('app')).toBe(0);
    await store.close();
  });

  it('fails with EIO when the server is unreachable', async () => {
    const err = await rejection(migrate('postgres://nobody:pw@127.0.0.1:1/none'));
    expect(isScopeFsError(err, 'EIO'), String(err)).toBe(true);
    expect(String(err)).not.toContain(':pw@');
  });
});
