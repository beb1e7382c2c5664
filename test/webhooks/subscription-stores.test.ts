/** The subscription tables: SQLite (the store's file) and PostgreSQL (migration 009, real), one contract. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../persistence/sql/migrate.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { openStoreWebhooks } from '../../persistence/webhooks/open-webhooks.js';
import type { WebhookTable } from '../../persistence/webhooks/types.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';

function contract(open: (app: string) => Promise<WebhookTable>): void {
  it('adds, lists per app, replaces by id and removes', async () => {
    const a = await open('app-a');
    const b = await open('app-b');
    const hook = { id: 'wh_1', url: 'https://hooks.example.com/a', events: ['file_updated'], pathGlob: '/docs/**', secret: 'secret-0123456789abcdef', createdAt: 1 };
    await a.add(hook);
    await a.add({ id: 'wh_2', url: 'https://hooks.example.com/b', events: ['*'], secret: 'secret-2-0123456789abc', createdAt: 2 });
    expect(await a.list()).toEqual([hook, { id: 'wh_2', url: 'https://hooks.example.com/b', events: ['*'], secret: 'secret-2-0123456789abc', createdAt: 2 }]);
    expect(await b.list()).toEqual([]);
    await a.add({ ...hook, url: 'https://hooks.example.com/c' });
    expect((await a.list())[0]!.url).toBe('https://hooks.example.com/c');
    expect(await a.remove('wh_1')).toBe(true);
    expect(await a.remove('wh_1')).toBe(false);
    expect((await a.list()).map((w) => w.id)).toEqual(['wh_2']);
  });

  it('reads the subscriptions of several apps in one sweep', async () => {
    const c = await open('app-c');
    const d = await open('app-d');
    await c.add({ id: 'wh_c', url: 'https://hooks.example.com/c', events: ['*'], secret: 'secret-c-0123456789abc', createdAt: 3 });
    const lists = await d.sweep!.listApps(['app-c', 'app-d']);
    expect(lists.get('app-c')!.map((w) => w.id)).toEqual(['wh_c']);
    expect(lists.has('app-d')).toBe(false);
  });
}

describe('SQLite subscription table', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  let file: string | undefined;
  contract(async (app) => {
    if (!file) {
      const dir = await mkdtemp(join(tmpdir(), 'scopefs-webhook-store-'));
      dirs.push(dir);
      file = join(dir, 'store.db');
    }
    const store = new SqliteStore({ path: file });
    await store.open();
    return openStoreWebhooks(store, app)!;
  });
});

describePostgres('PostgreSQL subscription table', () => {
  const db = useTestDatabase('webhooks');
  const stores: PostgresStore[] = [];
  afterAll(async () => Promise.all(stores.map((s) => s.close())));
  contract(async (app) => {
    if (stores.length === 0) await migrate(db.url);
    const store = new PostgresStore({ connectionString: db.url });
    await store.open();
    stores.push(store);
    return openStoreWebhooks(store, app)!;
  });
});
