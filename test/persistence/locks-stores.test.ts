import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { openStoreLocks } from '../../persistence/locks/open-locks.js';
import { migrate } from '../../persistence/sql/migrate.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { SupabaseStore } from '../../persistence/stores/supabase-store.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { createPostgrestStub, STUB_KEYS, userJwt, type PostgrestStub } from '../helpers/postgrest-stub.js';
import { freshApp } from './store-contract-helpers.js';
import { describeLocksContract } from './store-contract-locks.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-locks-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const memory = new MemoryStore();
describeLocksContract('memory', async () => openStoreLocks(memory));

const sqliteStores: SqliteStore[] = [];
afterAll(async () => {
  for (const store of sqliteStores.splice(0)) await store.close();
});
describeLocksContract('sqlite', async () => {
  // A new store object (a new connection) each time: two instances on one machine.
  const store = new SqliteStore({ path: join(dir, 'locks.db') });
  await store.open();
  sqliteStores.push(store);
  return openStoreLocks(store);
});

describe('store locks placement', () => {
  it('the SQLite store keeps its locks inside its own database file (schema 5)', async () => {
    const file = join(dir, 'placement.db');
    const store = new SqliteStore({ path: file });
    await store.open();
    const locks = openStoreLocks(store);
    try {
      const answer = await locks.acquire('app', { target: '/a', owner: 'o', ttlMs: 10_000 });
      const db = new Database(file, { readonly: true });
      expect(db.prepare('SELECT target, owner FROM scopefs_locks').all()).toEqual([{ target: '/a', owner: 'o' }]);
      db.close();
      expect(answer.acquired).toBe(true);
    } finally {
      await locks.close();
      await store.close();
    }
  });

  it('scopes sharing one memory store share its locks', async () => {
    const app = freshApp();
    const lock = await openStoreLocks(memory).acquire(app, { target: '/m', owner: 'o', ttlMs: 10_000 });
    expect(await openStoreLocks(memory).live(app)).toEqual([lock.acquired && lock.lock]);
    expect((await openStoreLocks(new MemoryStore()).live(app))).toEqual([]);
  });
});

describePostgres('store locks on PostgreSQL', () => {
  const db = useTestDatabase('locks');
  const stores: PostgresStore[] = [];
  afterAll(async () => {
    for (const store of stores.splice(0)) await store.close();
  });
  describeLocksContract('postgres', async () => {
    const store = new PostgresStore({ connectionString: db.url });
    await store.open();
    stores.push(store);
    return openStoreLocks(store);
  });
});

describePostgres('store locks on Supabase (via the PostgREST stub)', () => {
  const db = useTestDatabase('locks_supabase');
  let stub: PostgrestStub;
  const stores: SupabaseStore[] = [];
  beforeAll(async () => {
    await migrate(db.url);
    stub = createPostgrestStub(db.url);
  });
  afterAll(async () => {
    for (const store of stores.splice(0)) await store.close();
    await stub.close();
  });
  async function openSupabase(accessToken?: string): Promise<SupabaseStore> {
    const key = accessToken ? STUB_KEYS.publishable : STUB_KEYS.secret;
    const store = new SupabaseStore({ url: 'https://stub.supabase.co', key, accessToken, fetch: stub.fetch, realtime: false });
    await store.open();
    stores.push(store);
    return store;
  }

  describeLocksContract('supabase (service role)', async () => openStoreLocks(await openSupabase()));

  it('a signed-in member of the app shares its locks; an outsider can neither see nor take them', async () => {
    const app = freshApp();
    const member = openStoreLocks(await openSupabase(userJwt({ sub: 'u1', app_metadata: { apps: [app] } })));
    const held = await member.acquire(app, { target: '/m', owner: 'u1', ttlMs: 10_000 });
    expect(held.acquired).toBe(true);
    expect(await openStoreLocks(await openSupabase()).live(app)).toHaveLength(1);
    const outsider = openStoreLocks(await openSupabase(userJwt({ sub: 'u2' })));
    expect(await outsider.live(app)).toEqual([]);
    const refused = await outsider.acquire(app, { target: '/other', owner: 'u2', ttlMs: 10_000 }).then(() => null, (err: unknown) => err);
    expect(isScopeFsError(refused, 'EACCES'), String(refused)).toBe(true);
  });
});
