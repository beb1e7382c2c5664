/**
 * SupabaseStore against the real PostgreSQL functions. No real Supabase is
 * reachable here, so HTTP goes through a fetch stub that checks PostgREST's
 * request shape and runs each call in the database the way PostgREST does
 * (role and JWT claims included); Realtime is a fake WebSocket transport fed
 * by the database's NOTIFYs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { isScopeFsError, type ErrorCode } from '../../src/errors.js';
import { migrate } from '../../persistence/sql/migrate.js';
import { openStore } from '../../persistence/stores/open-store.js';
import { SHARED_OWNER, type PushChange } from '../../persistence/stores/types.js';
import { SupabaseStore, type SupabaseStoreOptions } from '../../persistence/stores/supabase-store.js';
import { startFakeRealtime, type FakeRealtime } from '../helpers/fake-realtime.js';
import { hintCollector } from '../helpers/hints.js';
import { adminQuery, describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';
import { createPostgrestStub, STUB_KEYS, userJwt, type PostgrestStub } from '../helpers/postgrest-stub.js';
import { describeStoreContract } from './store-contract.js';

const PROJECT = 'https://stub.supabase.co';
let apps = 0;
const freshApp = () => `sb-${process.pid}-${++apps}`;

function change(path: string, content: string, baseRevision = 0, owner = SHARED_OWNER): PushChange {
  const bytes = new Uint8Array(Buffer.from(content));
  return { owner, path, baseRevision, content: bytes, hash: sha256(bytes) };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => null, (err: unknown) => err);
}

function expectCode(err: unknown, code: ErrorCode): void {
  expect(isScopeFsError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
}

describePostgres('SupabaseStore', () => {
  const db = useTestDatabase('supabase');
  const bare = useTestDatabase('supabase_bare');
  let stub: PostgrestStub;
  const stores: SupabaseStore[] = [];

  const make = (options: SupabaseStoreOptions = {}) => {
    const store = new SupabaseStore({ url: PROJECT, key: STUB_KEYS.secret, fetch: stub.fetch, pollIntervalMs: 50, ...options });
    stores.push(store);
    return store;
  };
  const open = async (options: SupabaseStoreOptions = {}) => {
    const store = make(options);
    await store.open();
    return store;
  };

  beforeAll(async () => {
    await migrate(db.url);
    stub = createPostgrestStub(db.url);
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await stub.close();
  });

  describeStoreContract('supabase (service role, via the PostgREST stub)', () => make());

  describe('HTTP mapping', () => {
    it('sends PostgREST RPC requests: POST /rest/v1/rpc/<fn>, named JSON args, key headers, base64 content', async () => {
      const store = await open({ key: STUB_KEYS.publishable, accessToken: userJwt({ sub: 'u1' }) });
      const app = freshApp();
      stub.requests.length = 0;
      await store.push(app, 'instance-1', [change('/a.md', 'hello', 0, 'u1')]);
      await store.since(app, ['u1'], 0, 10);
      const [push, since] = stub.requests;
      expect(push).toMatchObject({
        url: `${PROJECT}/rest/v1/rpc/scopefs_push`,
        method: 'POST',
        status: 200,
        role: 'authenticated',
        body: {
          p_app: app,
          p_instance: 'instance-1',
          p_changes: [{ owner: 'u1', path: '/a.md', base_revision: 0, content: Buffer.from('hello').toString('base64'), hash: sha256('hello') }],
        },
      });
      expect(push!.headers).toMatchObject({
        apikey: STUB_KEYS.publishable,
        authorization: `Bearer ${userJwt({ sub: 'u1' })}`,
        'content-type': 'application/json',
      });
      expect(since).toMatchObject({ url: `${PROJECT}/rest/v1/rpc/scopefs_since`, body: { p_app: app, p_owners: ['u1'], p_cursor: 0, p_limit: 10 } });
    });

    it('names the store by project URL only', () => {
      expect(make().url).toBe(`supabase:${PROJECT}`);
      expect(make().url).not.toContain(STUB_KEYS.secret);
    });
  });

  describe('row-level security through the API', () => {
    it("shows a signed-in user their own and their app's shared files, never another user's", async () => {
      const app = freshApp();
      await adminQuery('INSERT INTO scopefs.members (app, user_id) VALUES ($1, $2)', [app, 'member'], db.url);
      const admin = await open();
      await admin.push(app, 'seed', [change('/shared.md', 's'), change('/theirs.md', 't', 0, 'other')]);
      const member = await open({ key: STUB_KEYS.publishable, accessToken: userJwt({ sub: 'member' }) });

      expect((await member.push(app, 'm', [change('/mine.md', 'm', 0, 'member')]))[0]?.status).toBe('ok');
      const page = await member.since(app, [SHARED_OWNER, 'member', 'other'], 0);
      expect(page.rows.map((row) => `${row.owner}:${row.path}`)).toEqual(['_shared:/shared.md', 'member:/mine.md']);
      expect(await member.get(app, 'other', '/theirs.md')).toBeNull();

      const err = await rejection(member.push(app, 'm', [change('/theirs.md', 'overwrite', 0, 'other')]));
      expectCode(err, 'EACCES');
      expect(String(err)).toContain('permission denied');
      expect(stub.requests.at(-1)?.status).toBe(403);
    });

    it('gives the publishable key alone (anon) no data access', async () => {
      const anon = await open({ key: STUB_KEYS.publishable });
      const err = await rejection(anon.head(freshApp()));
      expectCode(err, 'EACCES');
      expect(String(err)).toContain('permission denied');
      expect(stub.requests.at(-1)).toMatchObject({ role: 'anon', status: 401 });
    });
  });

  describe('schema checks', () => {
    it('refuses a database without the scopefs schema (PGRST202) and a newer schema, with ESCHEMA', async () => {
      const bareStub = createPostgrestStub(bare.url);
      try {
        const err = await rejection(make({ fetch: bareStub.fetch }).open());
        expectCode(err, 'ESCHEMA');
        expect(String(err)).toContain('scopefs migrate');
        expect(bareStub.requests.at(-1)?.status).toBe(404);

        await migrate(bare.url);
        await adminQuery("INSERT INTO scopefs.schema_migrations (version, name) VALUES (42, 'future')", [], bare.url);
        const newer = await rejection(make({ fetch: bareStub.fetch }).open());
        expectCode(newer, 'ESCHEMA');
        expect(String(newer)).toContain('schema version 42, newer');
      } finally {
        await bareStub.close();
      }
    });
  });

  describe('outages and polling', () => {
    it('rejects with EIO while the API is unreachable, and hints a catch-up when polling recovers', async () => {
      const store = await open({ realtime: false });
      const writer = await open();
      const app = freshApp();
      const hints = hintCollector();
      const stop = await store.watch(app, hints.listener);
      const [outcome] = await writer.push(app, 'w', [change('/a.md', 'a')]);
      expect(await hints.next()).toEqual({ head: outcome?.status === 'ok' ? outcome.revision : -1 });

      stub.setDown(true);
      try {
        expectCode(await rejection(store.since(app, [SHARED_OWNER], 0)), 'EIO');
        // Let a poll fail, so the watcher knows it was cut off.
        const failedPolls = store.queryCount!;
        await waitFor(() => store.queryCount! > failedPolls + 1, 10_000, 'a failed poll');
      } finally {
        stub.setDown(false);
      }
      expect(await hints.next()).toEqual({ reconnected: true });
      await stop();
    });

    it('polls only while watching, one scopefs_head per interval', async () => {
      const store = await open({ realtime: false, pollIntervalMs: 20 });
      const app = freshApp();
      const stop = await store.watch(app, () => undefined);
      const before = stub.requests.length;
      await waitFor(() => stub.requests.length >= before + 3, 10_000, 'three polls');
      expect(stub.requests.slice(before).every((r) => r.url.endsWith('/rpc/scopefs_head'))).toBe(true);
      await stop();
      const after = store.queryCount!;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(store.queryCount).toBe(after);
    });
  });

  describe('Realtime', () => {
    let realtime: FakeRealtime;
    beforeAll(async () => {
      realtime = await startFakeRealtime(db.url);
    });
    afterAll(() => realtime.close());

    it('takes hints from Realtime without polling, catches up after (re)subscribing, and polls while it is down', async () => {
      const store = await open({ realtime: true, webSocket: realtime.WebSocket, pollIntervalMs: 50 });
      const writer = await open();
      const app = freshApp();
      const hints = hintCollector();
      const stop = await store.watch(app, hints.listener);
      expect(await hints.next()).toEqual({ reconnected: true });
      expect(store.usingRealtime(app)).toBe(true);
      expect(realtime.joins).toContain(`realtime:scopefs-heads:${app}`);

      const queries = store.queryCount!;
      const [first] = await writer.push(app, 'w', [change('/rt.md', 'one')]);
      expect(await hints.next()).toEqual({ head: first?.status === 'ok' ? first.revision : -1 });
      expect(store.queryCount).toBe(queries);

      realtime.setAvailable(false);
      await waitFor(() => !store.usingRealtime(app), 10_000, 'Realtime to drop');
      const [second] = await writer.push(app, 'w', [change('/poll.md', 'two')]);
      expect(await hints.next()).toEqual({ head: second?.status === 'ok' ? second.revision : -1 });
      expect(store.queryCount!).toBeGreaterThan(queries);

      realtime.setAvailable(true);
      expect(await hints.next(20_000)).toEqual({ reconnected: true });
      expect(store.usingRealtime(app)).toBe(true);
      await stop();
    }, 60_000);
  });

  describe('configuration', () => {
    it('reads SUPABASE_URL and the keys from the environment, publishable key first', async () => {
      const env = { SUPABASE_URL: PROJECT, SUPABASE_SERVICE_ROLE_KEY: STUB_KEYS.secret };
      const legacy = await open({ url: undefined, key: undefined, env });
      stub.requests.length = 0;
      await legacy.head(freshApp());
      expect(stub.requests[0]?.headers.apikey).toBe(STUB_KEYS.secret);

      const both = await open({ url: undefined, key: undefined, env: { ...env, SUPABASE_PUBLISHABLE_KEY: STUB_KEYS.publishable } });
      await rejection(both.head(freshApp()));
      expect(stub.requests.at(-1)?.headers.apikey).toBe(STUB_KEYS.publishable);

      const anonKey = make({ url: undefined, key: undefined, env: { SUPABASE_URL: PROJECT, SUPABASE_ANON_KEY: 'sb_anon' } });
      expect(anonKey.url).toBe(`supabase:${PROJECT}`);
    });

    it('refuses to start without a URL or key, with EINVAL naming the variables', () => {
      expect(() => new SupabaseStore({ env: {} })).toThrow(/SUPABASE_URL and SUPABASE_PUBLISHABLE_KEY/);
      expect(() => new SupabaseStore({ env: { SUPABASE_URL: PROJECT } })).toThrow(/SUPABASE_ANON_KEY/);
    });

    it('opens supabase: URLs from the scheme table, with credentials from the environment', async () => {
      const saved = { url: process.env.SUPABASE_URL, key: process.env.SUPABASE_SERVICE_ROLE_KEY, fetch: globalThis.fetch };
      process.env.SUPABASE_URL = PROJECT;
      process.env.SUPABASE_SERVICE_ROLE_KEY = STUB_KEYS.secret;
      // supabase-js uses the global fetch when given none: route it to the stub.
      globalThis.fetch = stub.fetch;
      try {
        for (const url of ['supabase:', 'supabase://stub.supabase.co', `supabase:${PROJECT}`]) {
          const store = await openStore(url);
          stores.push(store as SupabaseStore);
          expect(store).toBeInstanceOf(SupabaseStore);
          expect(store.url).toBe(`supabase:${PROJECT}`);
          expect(await store.head(freshApp())).toBe(0);
        }
        expectCode(await rejection(openStore('supabase:not a url')), 'EINVAL');
      } finally {
        globalThis.fetch = saved.fetch;
        for (const [name, value] of [['SUPABASE_URL', saved.url], ['SUPABASE_SERVICE_ROLE_KEY', saved.key]] as const) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
    });
  });
});
