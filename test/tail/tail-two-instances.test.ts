/**
 * Two instances (separate OS processes, separate roots) tail one JSONL file
 * into one store while a writer appends to it: each line is one record,
 * whichever instance read it first, on SQLite and on real PostgreSQL.
 */
import { mkdtempSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreRecords } from '../../persistence/records/open-records.js';
import type { StoreRecords } from '../../persistence/records/types.js';
import { migrate } from '../../persistence/sql/migrate.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';
import { startTailChild, startWriter } from './tail-processes.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-tail-two-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function twoInstancesOneStore(name: string, store: string, records: StoreRecords): Promise<void> {
  const logs = join(dir, name, 'logs');
  mkdirSync(logs, { recursive: true });
  const file = join(logs, 'shared.jsonl');
  const writer = startWriter();
  const expected: string[] = [];
  const write = async (from: number, count: number) => {
    for (let i = from; i < from + count; i++) {
      const line = JSON.stringify({ i, text: `event ${i}` });
      expected.push(line);
      await writer.write(file, `${line}\n`);
    }
  };
  await write(0, 100); // already there when both start: both backfill it
  const config = (root: string) => ({ root: join(dir, name, root), glob: `${logs}/*.jsonl`, store, app: 'tail-two' });
  const [a, b] = await Promise.all([startTailChild(config('a')), startTailChild(config('b'))]);
  try {
    await write(100, 300);
    await waitFor(async () => (await records.head('tail-two')) >= expected.length, 45_000, `${expected.length} records`);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
    await writer.close();
  }
  const stored = await records.since('tail-two', 0, { limit: 10_000 });
  expect(stored.map((r) => JSON.stringify(r.json))).toEqual(expected);
  expect(stored.map((r) => r.seq)).toEqual(expected.map((_, i) => i + 1));
}

describe('two instances tailing one file into one store', () => {
  it('SQLite: no duplicates, in order', async () => {
    const url = `sqlite:${join(dir, 'store.db')}`;
    const store = new SqliteStore({ path: url.slice('sqlite:'.length) });
    await store.open();
    const records = openStoreRecords(store);
    try {
      await twoInstancesOneStore('sqlite', url, records);
    } finally {
      await records.close();
      await store.close();
    }
  }, 90_000);
});

describePostgres('two instances tailing one file into one PostgreSQL store', () => {
  const db = useTestDatabase('tail_two');
  beforeAll(async () => {
    await migrate(db.url);
  });
  it('PostgreSQL: no duplicates, in order', async () => {
    const store = new PostgresStore({ connectionString: db.url });
    await store.open();
    try {
      await twoInstancesOneStore('postgres', db.url, openStoreRecords(store));
    } finally {
      await store.close();
    }
  }, 90_000);
});
