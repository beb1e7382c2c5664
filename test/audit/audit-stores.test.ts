/**
 * The AuditLog contract over the store tables: SQLite (schema 4), real
 * PostgreSQL and Supabase (migration 006's table, migration 010's functions;
 * Supabase through the PostgREST stub over the same real database), opened
 * the way a syncing scope opens them (openStoreAudit).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStoreAudit } from '../../persistence/audit/open-audit.js';
import { SqliteAuditLog } from '../../persistence/audit/sqlite-audit.js';
import { migrate } from '../../persistence/sql/migrate.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SupabaseStore } from '../../persistence/stores/supabase-store.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { createPostgrestStub, STUB_KEYS, userJwt, type PostgrestStub } from '../helpers/postgrest-stub.js';
import { auditLogContract, entry } from './audit-contract.js';

let scopes = 0;

auditLogContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scopefs-audit-sqlite-'));
  const log = new SqliteAuditLog(join(dir, 'store.db'), `app-${++scopes}`);
  return { log, close: async () => (log.close(), rm(dir, { recursive: true, force: true })) };
});

describePostgres('audit log on PostgreSQL', () => {
  const db = useTestDatabase('audit');
  let store: PostgresStore;
  beforeAll(async () => {
    store = new PostgresStore({ connectionString: db.url, poolSize: 2 });
    await store.open();
  });
  afterAll(() => store?.close());
  auditLogContract('postgres', async () => ({ log: openStoreAudit(store, `app-${++scopes}`)!.log, close: async () => undefined }));
});

describePostgres('audit log on Supabase (via the PostgREST stub)', () => {
  const db = useTestDatabase('audit_supabase');
  let stub: PostgrestStub;
  const stores: SupabaseStore[] = [];
  beforeAll(async () => {
    await migrate(db.url);
    stub = createPostgrestStub(db.url);
  });
  afterAll(async () => {
    for (const store of stores.splice(0)) await store.close();
    await stub?.close();
  });
  async function openSupabase(accessToken?: string): Promise<SupabaseStore> {
    const key = accessToken ? STUB_KEYS.publishable : STUB_KEYS.secret;
    const store = new SupabaseStore({ url: 'https://stub.supabase.co', key, accessToken, fetch: stub.fetch, realtime: false });
    await store.open();
    stores.push(store);
    return store;
  }

  auditLogContract('supabase (service role)', async () => ({ log: openStoreAudit(await openSupabase(), `app-${++scopes}`)!.log, close: async () => undefined }));

  it('a member of the app adds and reads its entries but prunes nothing; an outsider sees none and adds none', async () => {
    const app = `app-${++scopes}`;
    const member = openStoreAudit(await openSupabase(userJwt({ sub: 'u1', app_metadata: { apps: [app] } })), app)!.log;
    await member.append([entry(1), entry(2)]);
    expect((await member.query()).map((e) => e.id)).toEqual(['t-2', 't-1']);
    expect(await member.prune({ maxEntries: 0 })).toBe(0);
    const operator = openStoreAudit(await openSupabase(), app)!.log;
    expect(await operator.query()).toHaveLength(2);
    const outsider = openStoreAudit(await openSupabase(userJwt({ sub: 'u2' })), app)!.log;
    expect(await outsider.query()).toEqual([]);
    await expect(outsider.append([entry(3)])).rejects.toThrow();
    expect(await operator.prune({ maxEntries: 1 })).toBe(1);
    expect((await operator.query()).map((e) => e.id)).toEqual(['t-2']);
  });
});
