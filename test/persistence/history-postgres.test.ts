import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { isScopeFsError } from '../../src/errors.js';
import { migrate } from '../../persistence/sql/migrate.js';
import { SupabaseStore } from '../../persistence/stores/supabase-store.js';
import { createPostgrestStub, STUB_KEYS, userJwt, type PostgrestStub } from '../helpers/postgrest-stub.js';
import { openStoreHistory, openStoreTombstones } from '../../persistence/history/open-history.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SHARED_OWNER } from '../../persistence/stores/types.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { describeHistoryContract, freshScope, version } from './history-contract.js';
import { change, freshApp, revisionOf } from './store-contract-helpers.js';

describePostgres('history on PostgreSQL', () => {
  const db = useTestDatabase('history');
  const stores: PostgresStore[] = [];

  async function openPostgres(): Promise<PostgresStore> {
    const store = new PostgresStore({ connectionString: db.url });
    await store.open();
    stores.push(store);
    return store;
  }

  describeHistoryContract('postgres', async () => openStoreHistory(await openPostgres()), {
    shared: true,
    cleanup: async () => {
      for (const store of stores.splice(0)) await store.close();
    },
  });

  describe('store side', () => {
    afterAll(async () => {
      for (const store of stores.splice(0)) await store.close();
    });

    it('two stores on one database see one history', async () => {
      const [a, b] = [await openPostgres(), await openPostgres()];
      const scope = freshScope();
      await (await openStoreHistory(a)).record(scope, [version('/a.md', 'from a', 1, { instance: 'a' })]);
      expect(await (await openStoreHistory(b)).versions(scope, '/a.md')).toMatchObject([{ instance: 'a', revision: 1 }]);
    });

    it('purges a tombstone once every instance seen recently has passed it', async () => {
      const store = await openPostgres();
      const purger = openStoreTombstones(store);
      const app = freshApp();
      const created = revisionOf((await store.push(app, 'a', [change('/gone.md', 'x')]))[0]);
      const tombstone = revisionOf((await store.push(app, 'a', [change('/gone.md', null, created)]))[0]);
      const now = Date.now() + 60_000;
      await purger.noteCursor(app, 'a', tombstone, now);
      await purger.noteCursor(app, 'b', created, now);
      expect(await purger.purgeTombstones(app, 1_000, now)).toEqual({ purged: 0, horizon: 0 });
      await purger.noteCursor(app, 'b', tombstone, now);
      expect(await purger.purgeTombstones(app, 1_000, now)).toEqual({ purged: 1, horizon: tombstone });
      expect(await store.get(app, SHARED_OWNER, '/gone.md')).toBeNull();
      expect(await purger.tombstoneHorizon(app)).toBe(tombstone);
    });
  });
});

describePostgres('history on Supabase (service role, via the PostgREST stub)', () => {
  const db = useTestDatabase('history_supabase');
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

  describeHistoryContract('supabase', async () => openStoreHistory(await openSupabase()), { shared: true });

  it('a signed-in user reads the history of an app they are a member of, and not of another', async () => {
    const scope = freshScope();
    await (await openStoreHistory(await openSupabase())).record(scope, [version('/a.md', 'shared')]);
    const member = await openStoreHistory(await openSupabase(userJwt({ sub: 'u1', app_metadata: { apps: [scope] } })));
    expect(await member.versions(scope, '/a.md')).toHaveLength(1);
    const files = [{ path: '/a.md', hash: sha256('shared'), size: 6 }];
    await member.saveCheckpoint(scope, { name: 'by a member', prefix: '/', at: 1, files });
    expect((await member.checkpoint(scope, 'by a member'))?.files).toEqual(files);
    const outsider = await openStoreHistory(await openSupabase(userJwt({ sub: 'u2' })));
    expect(await outsider.versions(scope, '/a.md')).toEqual([]);
    const refused = await outsider.record(scope, [version('/a.md', 'intrusion')]).then(() => null, (err: unknown) => err);
    expect(isScopeFsError(refused, 'EACCES'), String(refused)).toBe(true);
  });

  it('the service role purges tombstones; a signed-in user may report cursors but not purge', async () => {
    const store = await openSupabase();
    const app = freshApp();
    const created = revisionOf((await store.push(app, 'a', [change('/gone.md', 'x')]))[0]);
    const tombstone = revisionOf((await store.push(app, 'a', [change('/gone.md', null, created)]))[0]);
    const now = Date.now() + 60_000;
    const member = openStoreTombstones(await openSupabase(userJwt({ sub: 'u1', app_metadata: { apps: [app] } })));
    await member.noteCursor(app, 'member-instance', tombstone, now);
    const refused = await member.purgeTombstones(app, 1_000, now).then(() => null, (err: unknown) => err);
    expect(isScopeFsError(refused, 'EACCES'), String(refused)).toBe(true);
    expect(await openStoreTombstones(store).purgeTombstones(app, 1_000, now)).toEqual({ purged: 1, horizon: tombstone });
    expect(await member.tombstoneHorizon(app)).toBe(tombstone);
  });
});
