/**
 * Store sharing (issue 15): every scope of a process syncing to one store URL
 * uses the process's one store: one PostgreSQL pool and one LISTEN
 * connection, one SQLite change poller per file, whatever the number of
 * scopes; each scope's feed stays its own app's.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SQLITE_POLL_MS, runningChangePoller } from '../../persistence/stores/sqlite-poller.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { adminQuery, describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-store-sharing-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let counter = 0;

/** Scopes on `store`: two per app for apps `a` and `b`, then one for each further app up to `count`. */
async function startScopes(store: string, count: number): Promise<Array<{ scope: RunningScope; app: string }>> {
  const run = ++counter;
  const started: Array<{ scope: RunningScope; app: string }> = [];
  for (let i = 0; i < count; i++) {
    const app = i < 2 ? 'a' : i < 4 ? 'b' : `app-${i}`;
    const scope = await startScope({
      scopeKey: ['store-sharing', run, i],
      root: join(dir, `${run}-${i}`),
      watch: false,
      sync: { store, app, instanceId: `i${i}`, debounceMs: 5, backoff: { initialMs: 20, maxMs: 200 } },
    });
    started.push({ scope, app });
  }
  return started;
}

const has = async (scope: RunningScope, path: string) => (await scope.fs.listFiles('/')).includes(path);

async function expectSeparateFeeds(scopes: Array<{ scope: RunningScope; app: string }>): Promise<void> {
  const [a1, a2, b1, b2] = scopes.map((s) => s.scope) as [RunningScope, RunningScope, RunningScope, RunningScope];
  await a1.fs.writeFile('/from-a.md', 'a');
  await b1.fs.writeFile('/from-b.md', 'b');
  await waitFor(async () => (await has(a2, '/from-a.md')) && (await has(b2, '/from-b.md')), 10_000, 'each app to get its own write');
  for (const scope of [b1, b2]) expect(await has(scope, '/from-a.md')).toBe(false);
  for (const scope of [a1, a2]) expect(await has(scope, '/from-b.md')).toBe(false);
}

describe('scopes on one SQLite file', () => {
  it('share one change poller, and each app keeps its own feed', async () => {
    const file = join(dir, 'store.db');
    const scopes = await startScopes(`sqlite:${file}`, 8);
    try {
      await Promise.all(scopes.map(({ scope }) => scope.sync!.idle()));
      const poller = runningChangePoller(file, DEFAULT_SQLITE_POLL_MS);
      // One poller: a reference per scope's feed, one for the process's lock watch of the file.
      expect(poller?.referenceCount).toBe(scopes.length + 1);
      await expectSeparateFeeds(scopes);
    } finally {
      for (const { scope } of scopes) await scope.stop();
    }
    expect(runningChangePoller(file, DEFAULT_SQLITE_POLL_MS)).toBeUndefined();
  });
});

describePostgres('scopes on one PostgreSQL database', () => {
  const db = useTestDatabase('sharing');
  const connections = async (listenOnly: boolean) =>
    (
      await adminQuery<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 ${listenOnly ? "AND query ILIKE 'LISTEN%'" : ''}`,
        [db.name],
      )
    ).rows[0]!.n;

  it('use one LISTEN connection and one pool for twelve scopes, and each app keeps its own feed', async () => {
    const scopes = await startScopes(db.url, 12);
    try {
      await Promise.all(scopes.map(({ scope }) => scope.sync!.idle()));
      expect(await connections(true)).toBe(1);
      // The pool (10 at most) and the listener: not a pool and a listener per scope.
      expect(await connections(false)).toBeLessThanOrEqual(11);
      await expectSeparateFeeds(scopes);
    } finally {
      for (const { scope } of scopes) await scope.stop();
    }
    await waitFor(async () => (await connections(false)) === 0, 10_000, 'the last scope to close the pool and the listener');
  });
});
