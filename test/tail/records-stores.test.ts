/**
 * The records table on every store (memory, SQLite, PostgreSQL, Supabase
 * through the PostgREST stub): exactly once by key, seq in insertion order,
 * since/search filters, and two handles upserting the same records at once
 * store each one once with contiguous seqs.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRecords } from '../../persistence/records/memory-records.js';
import { openStoreRecords } from '../../persistence/records/open-records.js';
import { SqliteRecords } from '../../persistence/records/sqlite-records.js';
import type { RecordInput, StoreRecords } from '../../persistence/records/types.js';
import { migrate } from '../../persistence/sql/migrate.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SupabaseStore } from '../../persistence/stores/supabase-store.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { createPostgrestStub, STUB_KEYS, userJwt, type PostgrestStub } from '../helpers/postgrest-stub.js';

function record(i: number, extra: Partial<RecordInput> = {}): RecordInput {
  return { key: `k${i}`, source: 'logs', file: i % 2 ? '/a.jsonl' : '/b.jsonl', offset: i * 10, line: i, json: { i, text: `Hello ${i}` }, at: 1000 + i, ...extra };
}

function describeRecordsContract(name: string, open: () => Promise<StoreRecords>): void {
  describe(`records on ${name}`, () => {
    it('stores each key once, numbers records in order, and pages with since', async () => {
      const app = `app-${randomUUID()}`;
      const records = await open();
      expect(await records.upsert(app, [record(1), record(2), record(1)])).toEqual({ inserted: 2, head: 2 });
      expect(await records.upsert(app, [record(2), record(3, { json: undefined, raw: 'oops', error: { code: 'EPARSE', message: 'bad' } })])).toEqual({ inserted: 1, head: 3 });
      expect(await records.upsert(app, [])).toEqual({ inserted: 0, head: 3 });
      const all = await records.since(app, 0);
      expect(all.map((r) => [r.seq, r.key])).toEqual([[1, 'k1'], [2, 'k2'], [3, 'k3']]);
      expect(all[0]).toEqual({ ...record(1), seq: 1 });
      expect(all[2]).toMatchObject({ raw: 'oops', error: { code: 'EPARSE', message: 'bad' } });
      expect(all[2]!.json).toBeUndefined();
      expect((await records.since(app, 1, { limit: 1 })).map((r) => r.key)).toEqual(['k2']);
      expect((await records.since(app, 0, { file: '/a.jsonl' })).map((r) => r.key)).toEqual(['k1', 'k3']);
      expect((await records.since(app, 0, { source: 'other' }))).toEqual([]);
      expect(await records.head(app)).toBe(3);
      expect(await records.since(`${app}-other`, 0)).toEqual([]);
      await records.upsert(app, [record(4, { json: null })]); // a line that was `null`: JSON null, not "did not parse"
      expect((await records.since(app, 3))[0]).toMatchObject({ key: 'k4', json: null });
    });

    it('searches the line text, case-insensitive, newest first', async () => {
      const app = `app-${randomUUID()}`;
      const records = await open();
      await records.upsert(app, [record(1), record(2, { json: { text: 'bye 100%' } }), record(3, { json: undefined, raw: 'HELLO raw' })]);
      expect((await records.search(app, { text: 'hello' })).map((r) => r.key)).toEqual(['k3', 'k1']);
      expect((await records.search(app, { text: '100%' })).map((r) => r.key)).toEqual(['k2']);
      expect((await records.search(app, { text: 'hello', limit: 1 })).map((r) => r.key)).toEqual(['k3']);
      await expect(records.search(app, { text: '' })).rejects.toMatchObject({ code: 'EINVAL' });
    });

    it('two handles upserting the same records at once store each once, seqs contiguous', async () => {
      const app = `app-${randomUUID()}`;
      const [a, b] = [await open(), await open()];
      const batch = Array.from({ length: 50 }, (_, i) => record(i + 1));
      await Promise.all([a.upsert(app, batch.slice(0, 30)), b.upsert(app, batch.slice(10)), a.upsert(app, batch.slice(20, 40)), b.upsert(app, batch)]);
      const all = await a.since(app, 0);
      expect(all.length).toBe(50);
      expect(new Set(all.map((r) => r.key)).size).toBe(50);
      expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'scopefs-records-'));
const opened: StoreRecords[] = [];
afterAll(async () => {
  for (const records of opened.splice(0)) await records.close();
  await rm(dir, { recursive: true, force: true });
});

const memory = new MemoryRecords();
describeRecordsContract('memory', async () => memory);
describeRecordsContract('sqlite', async () => {
  const records = new SqliteRecords(join(dir, 'store.db'));
  opened.push(records);
  return records;
});

describePostgres('records on PostgreSQL and Supabase', () => {
  const db = useTestDatabase('records');
  const stores: Array<PostgresStore | SupabaseStore> = [];
  let stub: PostgrestStub;
  beforeAll(async () => {
    await migrate(db.url);
    stub = createPostgrestStub(db.url);
  });
  afterAll(async () => {
    for (const store of stores.splice(0)) await store.close();
    await stub?.close();
  });
  describeRecordsContract('postgres', async () => {
    const store = new PostgresStore({ connectionString: db.url });
    await store.open();
    stores.push(store);
    return openStoreRecords(store);
  });
  async function openSupabase(accessToken?: string): Promise<StoreRecords> {
    const key = accessToken ? STUB_KEYS.publishable : STUB_KEYS.secret;
    const store = new SupabaseStore({ url: 'https://stub.supabase.co', key, accessToken, fetch: stub.fetch, realtime: false });
    await store.open();
    stores.push(store);
    return openStoreRecords(store);
  }
  describeRecordsContract('supabase (service role)', () => openSupabase());

  it('a signed-in member of the app reads and adds its records; an outsider can neither see nor add them', async () => {
    const app = `app-${randomUUID()}`;
    const member = await openSupabase(userJwt({ sub: 'u1', app_metadata: { apps: [app] } }));
    expect(await member.upsert(app, [record(1)])).toEqual({ inserted: 1, head: 1 });
    expect((await member.since(app, 0)).map((r) => r.key)).toEqual(['k1']);
    const outsider = await openSupabase(userJwt({ sub: 'u2' }));
    expect(await outsider.since(app, 0)).toEqual([]);
    expect(await outsider.search(app, { text: 'hello' })).toEqual([]);
    await expect(outsider.upsert(app, [record(2)])).rejects.toMatchObject({ code: 'EACCES' });
    expect((await (await openSupabase()).since(app, 0)).map((r) => r.key)).toEqual(['k1']);
  });
});
