/**
 * The lock window (issue 14, gap of the store-backed mirror): how long after
 * one instance takes a lock in the store another instance's mirror holds it,
 * so its plain writes are refused. Measured in one run, on one store, for a
 * mirror on the timer alone (the store's change hints hidden: the old
 * behaviour, a refresh at most 1 s apart) and one on the change hints
 * (SQLite: the process's change poller of the file; PostgreSQL: NOTIFY).
 *   node --import tsx bench/lock-window.ts   (LOCKS_WINDOW_N=15, LOCKS_PG=0 skips PostgreSQL)
 */
import { join } from 'node:path';
import { openStoreLocks } from '../persistence/locks/open-locks.js';
import type { StoreLocks } from '../persistence/locks/types.js';
import { PostgresStore } from '../persistence/stores/postgres-store.js';
import { SqliteStore } from '../persistence/stores/sqlite-store.js';
import type { SyncStore } from '../persistence/stores/types.js';
import { LockTable } from '../src/coordination/locks.js';
import { StoreBackedLocks } from '../src/coordination/store-backed-locks.js';
import { withScratchDatabase } from './pg-scratch.js';
import { percentile, runIfMain, withTempDir, type BenchRow } from './lib.js';

const N = Number(process.env.LOCKS_WINDOW_N ?? 20);

/** The store's locks with their change hints hidden: the mirror falls back to its timer. */
function timerOnly(locks: StoreLocks): StoreLocks {
  return new Proxy(locks, {
    get: (target, property) => (property === 'watchChanges' ? undefined : bound(target, property)),
  });
}

function bound(target: StoreLocks, property: string | symbol): unknown {
  const value = Reflect.get(target, property) as unknown;
  return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}

/** Waits (checking every ms) until `done`; returns the ms it took. */
async function timeUntil(done: () => boolean, since: number): Promise<number> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 1));
  return performance.now() - since;
}

/** p50/p99/max ms from a lock taken through `taker` until the mirror over `watcher` holds it. */
async function windowOf(watcher: StoreLocks, taker: StoreLocks, app: string): Promise<number[]> {
  const table = new LockTable();
  const mirror = new StoreBackedLocks(table, watcher, app);
  await mirror.refresh();
  await new Promise((resolve) => setTimeout(resolve, 200)); // the hint subscription settles
  const times: number[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const started = performance.now();
      const answer = await taker.acquire(app, { target: `/w/${i}`, owner: 'other-instance', ttlMs: 60_000 });
      if (!answer.acquired) throw new Error('the bench lock was refused');
      times.push(await timeUntil(() => table.list().length === 1, started));
      await taker.release(app, answer.lock.token);
      await timeUntil(() => table.list().length === 0, performance.now());
      // Apart in time from the last refresh, as a real lock would be.
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
    }
  } finally {
    await mirror.close();
  }
  return times.sort((a, b) => a - b);
}

async function rowsFor(label: string, open: () => Promise<SyncStore>): Promise<BenchRow[]> {
  const [a, b] = [await open(), await open()];
  try {
    const rows: BenchRow[] = [];
    for (const [mode, watcher] of [['timer only (before)', timerOnly(openStoreLocks(a))], ['change hints (after)', openStoreLocks(a)]] as const) {
      const t = await windowOf(watcher, openStoreLocks(b), `window-${mode.startsWith('timer') ? 'timer' : 'hints'}`);
      const value = `p50 ${percentile(t, 0.5).toFixed(1)} ms, p99 ${percentile(t, 0.99).toFixed(1)} ms, max ${t.at(-1)!.toFixed(1)} ms (n=${N})`;
      rows.push({ bench: 'locks', metric: `${label}: lock taken elsewhere → mirror holds it, ${mode}`, value });
    }
    return rows;
  } finally {
    await a.close();
    await b.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows = await withTempDir('lock-window', (dir) =>
    rowsFor('SQLite', async () => {
      const store = new SqliteStore({ path: join(dir, 'store.db') });
      await store.open();
      return store;
    }),
  );
  if (process.env.LOCKS_PG === '0') return rows;
  return [
    ...rows,
    ...(await withScratchDatabase('lockwin', (url) =>
      rowsFor('PostgreSQL', async () => {
        const store = new PostgresStore({ connectionString: url, poolSize: 2 });
        await store.open();
        return store;
      }),
    )),
  ];
}

await runIfMain(import.meta.url, run);
