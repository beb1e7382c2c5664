/**
 * The lock mirror of a scope on a memory store hears the store's lock
 * changes directly; on a PostgreSQL store it hears them by
 * NOTIFY (migration 10's trigger, on the store's one LISTEN connection): a
 * lock another instance takes or releases reaches it without a poll (the
 * mirror keeps no timer while nothing is live; lost hints are caught by the
 * store's one shared safety sweep, locks-mirror-sweep.test.ts).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MemoryLocks } from '../../persistence/locks/memory-locks.js';
import { openStoreLocks } from '../../persistence/locks/open-locks.js';
import type { StoreLocks } from '../../persistence/locks/types.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { LockTable } from '../../src/coordination/locks.js';
import { StoreBackedLocks } from '../../src/coordination/store-backed-locks.js';
import { describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';

it('a mirror on the memory store holds another instance\'s lock once the store tells it, with no timer of its own', async () => {
  const store = new MemoryLocks();
  const table = new LockTable();
  const mirror = new StoreBackedLocks(table, store, 'memory-app');
  try {
    await mirror.refresh();
    const held = await store.acquire('memory-app', { target: '/docs', owner: 'elsewhere', ttlMs: 30_000 });
    await waitFor(async () => table.list().length === 1, 10_000, 'the mirror to hear the lock');
    if (held.acquired) await store.release('memory-app', held.lock.token);
    await waitFor(async () => table.list().length === 0, 10_000, 'the mirror to hear the release');
  } finally {
    await mirror.close();
  }
});

describePostgres('lock mirrors on PostgreSQL hear NOTIFY', () => {
  const db = useTestDatabase('locks_notify');
  const stores: PostgresStore[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const store = new PostgresStore({ connectionString: db.url, poolSize: 2 });
      await store.open();
      stores.push(store);
    }
  });
  afterAll(async () => {
    for (const store of stores.splice(0)) await store.close();
  });

  it('a listener hears a lock taken and released through another store handle, and only its app', async () => {
    const [mine, theirs] = [openStoreLocks(stores[0]!), openStoreLocks(stores[1]!)];
    const changes: string[] = [];
    let heard: () => void = () => undefined;
    const stop = mine.watchChanges!('notify-app', (change) => {
      changes.push(change.error ? 'error' : change.reconnected ? 'reconnected' : 'change');
      heard();
    });
    const next = () => new Promise<void>((resolve) => (heard = resolve));
    try {
      await waitFor(async () => changes.includes('reconnected'), 10_000, 'the LISTEN to hold');
      await theirs.acquire('notify-other', { target: '/x', owner: 'o', ttlMs: 30_000 });
      let change = next();
      const held = await theirs.acquire('notify-app', { target: '/docs', owner: 'elsewhere', ttlMs: 30_000 });
      expect(held.acquired).toBe(true);
      await change;
      change = next();
      if (held.acquired) await theirs.release('notify-app', held.lock.token);
      await change;
      expect(changes).toEqual(['reconnected', 'change', 'change']);
    } finally {
      stop();
    }
  });

  it('a mirror gets another instance\'s lock without polling: one refresh per change', async () => {
    let liveCalls = 0;
    const base = openStoreLocks(stores[0]!);
    const counted: StoreLocks = Object.assign(Object.create(base) as StoreLocks, {
      live: (app: string) => ((liveCalls += 1), base.live(app)),
    });
    const table = new LockTable();
    const mirror = new StoreBackedLocks(table, counted, 'mirror-app');
    const other = openStoreLocks(stores[1]!);
    try {
      await waitFor(async () => liveCalls >= 1, 10_000, 'the refresh once the LISTEN holds');
      const before = liveCalls;
      const held = await other.acquire('mirror-app', { target: '/notes', owner: 'elsewhere', ttlMs: 30_000 });
      await waitFor(async () => table.list().length === 1, 10_000, 'the mirror to hear the lock');
      expect(table.list()[0]).toMatchObject({ path: '/notes', owner: 'elsewhere' });
      if (held.acquired) await other.release('mirror-app', held.lock.token);
      await waitFor(async () => table.list().length === 0, 10_000, 'the mirror to hear the release');
      // The lock's own refresh timer (half its TTL) is far away: the refreshes were the hints'.
      expect(liveCalls - before).toBeLessThanOrEqual(3);
    } finally {
      await mirror.close();
    }
  });
});
