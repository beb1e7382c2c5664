import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { isScopeFsError, type ErrorCode } from '../../src/errors.js';
import { openStore } from '../../persistence/stores/open-store.js';
import { redactConnectionString } from '../../persistence/sql/pg-connection.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SHARED_OWNER, type PushChange, type StoreHint, type SyncStore } from '../../persistence/stores/types.js';
import { hintCollector } from '../helpers/hints.js';
import { adminQuery, describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { describeStoreContract } from './store-contract.js';

const text = (content: Uint8Array | null) => (content === null ? null : Buffer.from(content).toString('utf8'));
let apps = 0;
const freshApp = () => `pg-store-${process.pid}-${++apps}`;

function change(path: string, content: string | null, baseRevision = 0, owner = SHARED_OWNER): PushChange {
  const bytes = content === null ? null : new Uint8Array(Buffer.from(content));
  return { owner, path, baseRevision, content: bytes, hash: bytes && sha256(bytes) };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => null, (err: unknown) => err);
}

function expectCode(err: unknown, code: ErrorCode): void {
  expect(isScopeFsError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
}

/** The pid of the LISTEN connection of the store whose connection string set `application_name`. */
async function listenerPid(applicationName: string): Promise<number | undefined> {
  const result = await adminQuery<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'",
    [applicationName],
  );
  return result.rows[0]?.pid;
}

describePostgres('PostgresStore', () => {
  const db = useTestDatabase('store');
  const stores: SyncStore[] = [];
  const open = async (options: ConstructorParameters<typeof PostgresStore>[0] = {}) => {
    const store = new PostgresStore({ connectionString: db.url, ...options });
    stores.push(store);
    await store.open();
    return store;
  };
  afterAll(async () => {
    for (const store of stores) await store.close();
  });

  describeStoreContract('postgres', () => new PostgresStore({ connectionString: db.url }));

  describe('history', () => {
    afterEach(async () => {
      await adminQuery("UPDATE scopefs.settings SET value = '20' WHERE name = 'history_retention'", [], db.url);
    });

    it('keeps earlier versions newest first, up to the retention setting', async () => {
      await adminQuery("UPDATE scopefs.settings SET value = '3' WHERE name = 'history_retention'", [], db.url);
      const store = await open();
      const app = freshApp();
      let revision = 0;
      for (let version = 1; version <= 6; version++) {
        const [outcome] = await store.push(app, `writer-${version}`, [change('/h.md', `v${version}`, revision)]);
        revision = outcome?.status === 'ok' ? outcome.revision : -1;
      }
      const history = await store.history(app, SHARED_OWNER, '/h.md');
      expect(history.map((row) => text(row.content))).toEqual(['v6', 'v5', 'v4', 'v3']);
      expect(history.map((row) => row.updatedBy)).toEqual(['writer-6', 'writer-5', 'writer-4', 'writer-3']);
      expect(history[1]).toMatchObject({ hash: sha256('v5'), size: 2, deleted: false, app, owner: SHARED_OWNER });
      expect((await store.history(app, SHARED_OWNER, '/h.md', 2)).map((row) => text(row.content))).toEqual(['v6', 'v5']);
      expect(await store.history(app, SHARED_OWNER, '/missing.md')).toEqual([]);
    });

    it('keeps the content a delete replaced', async () => {
      const store = await open();
      const app = freshApp();
      const [created] = await store.push(app, 'a', [change('/gone.md', 'last words')]);
      await store.push(app, 'b', [change('/gone.md', null, created?.status === 'ok' ? created.revision : -1)]);
      const [tombstone, before] = await store.history(app, SHARED_OWNER, '/gone.md');
      expect(tombstone).toMatchObject({ deleted: true, content: null, updatedBy: 'b' });
      expect(text(before!.content)).toBe('last words');
    });

    it('keeps nothing with retention 0', async () => {
      await adminQuery("UPDATE scopefs.settings SET value = '0' WHERE name = 'history_retention'", [], db.url);
      const store = await open();
      const app = freshApp();
      const [created] = await store.push(app, 'a', [change('/x.md', 'one')]);
      await store.push(app, 'a', [change('/x.md', 'two', created?.status === 'ok' ? created.revision : -1)]);
      expect((await store.history(app, SHARED_OWNER, '/x.md')).map((row) => text(row.content))).toEqual(['two']);
    });
  });

  describe('notifications', () => {
    it('hints another store with {head} only, fast, also for large content', async () => {
      const [writer, reader] = [await open(), await open()];
      const app = freshApp();
      const hints = hintCollector((hint) => hint.head !== undefined);
      const stop = await reader.watch(app, hints.listener);
      const started = Date.now();
      const [outcome] = await writer.push(app, 'w', [change('/big.txt', 'x'.repeat(200_000))]);
      const hint = await hints.next();
      const latency = Date.now() - started;
      expect(hint).toEqual({ head: outcome?.status === 'ok' ? outcome.revision : -1 });
      expect(latency).toBeLessThan(2_000);
      await stop();
    });

    it('does not hint other apps, and costs no queries while waiting', async () => {
      const [writer, reader] = [await open(), await open()];
      const [watched, other] = [freshApp(), freshApp()];
      const hints = hintCollector();
      const stop = await reader.watch(watched, hints.listener);
      const queriesBefore = reader.queryCount!;
      await writer.push(other, 'w', [change('/a.md', 'elsewhere')]);
      const [outcome] = await writer.push(watched, 'w', [change('/a.md', 'here')]);
      expect(await hints.next()).toEqual({ head: outcome?.status === 'ok' ? outcome.revision : -1 });
      expect(hints.seen).toHaveLength(1);
      expect(reader.queryCount).toBe(queriesBefore);
      await stop();
    });

    it('keeps NOTIFY payloads small: app names up to 1,000 bytes, longer ones rejected with EINVAL', async () => {
      const [writer, reader] = [await open(), await open()];
      const longest = `${freshApp()}-`.padEnd(1_000, 'x');
      const hints = hintCollector();
      const stop = await reader.watch(longest, hints.listener);
      const [outcome] = await writer.push(longest, 'w', [change('/a.md', 'a')]);
      expect(await hints.next()).toEqual({ head: outcome?.status === 'ok' ? outcome.revision : -1 });
      await stop();
      const err = await rejection(writer.push(`${longest}y`, 'w', [change('/a.md', 'a')]));
      expectCode(err, 'EINVAL');
      expect(String(err)).toContain('app must be a non-empty string of at most 1000 bytes');
    });

    it('reconnects the LISTEN connection after its backend is terminated and says so', async () => {
      const name = `scopefs-listen-test-${process.pid}`;
      const reader = await open({ connectionString: `${db.url}?application_name=${name}`, reconnectDelayMs: 20 });
      const writer = await open();
      const app = freshApp();
      const hints = hintCollector();
      const stop = await reader.watch(app, hints.listener);
      const pid = await listenerPid(name);
      expect(pid).toBeDefined();
      await adminQuery('SELECT pg_terminate_backend($1)', [pid]);
      // First the loss (a watcher must not take the silence for "nothing changed"), then the way back.
      expect((await hints.next()).error).toMatch(/the LISTEN connection to .* was lost/);
      expect(await hints.next()).toEqual({ reconnected: true });
      const [outcome] = await writer.push(app, 'w', [change('/after.md', 'still hinted')]);
      expect(await hints.next()).toEqual({ head: outcome?.status === 'ok' ? outcome.revision : -1 });
      expect(await listenerPid(name)).not.toBe(pid);
      await stop();
    });
  });

  describe('outages', () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      const target = new URL(db.url);
      proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    });
    afterAll(() => proxy.close());

    const viaProxy = () => {
      const url = new URL(db.url);
      url.port = String(proxy.port);
      url.password = 'hunter2';
      return url.toString();
    };

    it('rejects with EIO while the server is away, then recovers and hints a reconnect', async () => {
      const store = await open({ connectionString: viaProxy(), reconnectDelayMs: 20 });
      const app = freshApp();
      const hints = hintCollector();
      const stop = await store.watch(app, hints.listener);
      await store.push(app, 'w', [change('/before.md', 'x')]);
      await hints.next();

      await proxy.stop();
      const err = await rejection(store.push(app, 'w', [change('/during.md', 'x')]));
      expectCode(err, 'EIO');
      expect(String(err)).not.toContain('hunter2');
      expectCode(await rejection(store.since(app, [SHARED_OWNER], 0)), 'EIO');

      await proxy.start();
      const lost = await hints.next();
      expect(lost.error).toMatch(/the LISTEN connection to .* was lost/);
      expect(lost.error).not.toContain('hunter2');
      expect(await hints.next()).toEqual({ reconnected: true });
      await waitFor(async () => (await rejection(store.head(app))) === null, 10_000, 'queries to work again');
      expect((await store.push(app, 'w', [change('/after.md', 'y')]))[0]?.status).toBe('ok');
      const page = await store.since(app, [SHARED_OWNER], 0);
      expect(page.rows.map((row) => row.path)).toEqual(['/before.md', '/after.md']);
      await stop();
    });

    it('fails open with EIO against an unreachable server, without leaking the password', async () => {
      const store = new PostgresStore({ connectionString: 'postgres://scopefs:s3cret@127.0.0.1:1/nothing' });
      const err = await rejection(store.open());
      expectCode(err, 'EIO');
      expect(String(err)).not.toContain('s3cret');
      expect(store.url).toBe('postgres://scopefs:***@127.0.0.1:1/nothing');
      await store.close();
    });
  });

  describe('lifecycle and configuration', () => {
    it('rejects calls before open with EIO, closes idempotently and reopens', async () => {
      const store = new PostgresStore({ connectionString: db.url });
      expectCode(await rejection(store.head('x')), 'EIO');
      await store.open();
      await store.open();
      expect(await store.head(freshApp())).toBe(0);
      await store.close();
      await store.close();
      expectCode(await rejection(store.head('x')), 'EIO');
      await store.open();
      expect(await store.head(freshApp())).toBe(0);
      await store.close();
    });

    it('counts one query per call', async () => {
      const store = await open();
      const app = freshApp();
      const before = store.queryCount!;
      await store.push(app, 'w', [change('/a', 'a'), change('/b', 'b')]);
      await store.since(app, [SHARED_OWNER], 0);
      await store.head(app);
      expect(store.queryCount! - before).toBe(3);
    });

    it('takes the connection string from DATABASE_URL, or refuses with EINVAL', () => {
      const saved = process.env.DATABASE_URL;
      try {
        process.env.DATABASE_URL = 'postgres://me:pw@db.example:5432/app';
        expect(new PostgresStore().url).toBe('postgres://me:***@db.example:5432/app');
        delete process.env.DATABASE_URL;
        expect(() => new PostgresStore()).toThrow(/DATABASE_URL/);
      } finally {
        if (saved === undefined) delete process.env.DATABASE_URL;
        else process.env.DATABASE_URL = saved;
      }
    });

    it('masks passwords in URLs and libpq strings', () => {
      expect(redactConnectionString('postgresql://u:p%40ss@h/db?sslmode=require')).toBe('postgresql://u:***@h/db?sslmode=require');
      expect(redactConnectionString('postgres://h/db?password=secret')).toBe('postgres://h/db?password=***');
      expect(redactConnectionString("host=h password='a b' user=u")).toBe('host=h password=*** user=u');
      expect(redactConnectionString('postgres://u@h/db')).toBe('postgres://u@h/db');
    });

    it('opens postgres:// and postgresql:// URLs from the scheme table', async () => {
      for (const scheme of ['postgres', 'postgresql']) {
        const store = await openStore(db.url.replace(/^postgres(ql)?:/, `${scheme}:`));
        stores.push(store);
        expect(store).toBeInstanceOf(PostgresStore);
        expect(await store.head(freshApp())).toBe(0);
      }
    });
  });
});
