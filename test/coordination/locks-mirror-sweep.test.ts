/**
 * Idle lock mirrors cost O(1) store queries per safety period, not O(N): no
 * mirror keeps an idle timer; the one shared sweep per store per process
 * (lock-signatures.ts) reads every app's lock signature in one query and wakes
 * only the apps that moved. Queries are counted through a wrapped
 * better-sqlite3 prepare() and a PostgresStore whose queryRows() counts.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCK_SAFETY_SWEEP } from '../../persistence/locks/lock-signatures.js';
import { watchNotifiedLockChanges } from '../../persistence/locks/notified-lock-changes.js';
import { openStoreLocks } from '../../persistence/locks/open-locks.js';
import { SqliteLocks } from '../../persistence/locks/sqlite-locks.js';
import type { StoreLocks } from '../../persistence/locks/types.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { LockTable } from '../../src/coordination/locks.js';
import { StoreBackedLocks } from '../../src/coordination/store-backed-locks.js';
import { adminQuery, connectClient, describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';

const MIRRORS = 40;
const SWEEPS = 4;
const dir = mkdtempSync(join(tmpdir(), 'scopefs-locks-sweep-'));
const defaultPeriod = LOCK_SAFETY_SWEEP.periodMs;
beforeAll(() => {
  LOCK_SAFETY_SWEEP.periodMs = 100; // before any watch opens: its timer reads the period
});
afterAll(async () => {
  LOCK_SAFETY_SWEEP.periodMs = defaultPeriod;
  await rm(dir, { recursive: true, force: true });
});

/** Store locks counting the mirror's live() refreshes. */
function counted(base: StoreLocks): StoreLocks & { liveCalls: number } {
  const locks = Object.create(base) as StoreLocks & { liveCalls: number };
  locks.liveCalls = 0;
  locks.live = (app) => ((locks.liveCalls += 1), base.live(app));
  return locks;
}

interface Mirror { locks: ReturnType<typeof counted>; table: LockTable; backed: StoreBackedLocks }

async function openMirrors(open: () => StoreLocks, app: string): Promise<Mirror[]> {
  const mirrors: Mirror[] = [];
  for (let i = 0; i < MIRRORS; i++) {
    const locks = counted(open());
    const table = new LockTable();
    const backed = new StoreBackedLocks(table, locks, app);
    mirrors.push({ locks, table, backed });
    await backed.refresh();
  }
  return mirrors;
}

const liveCalls = (mirrors: Mirror[]) => mirrors.reduce((sum, m) => sum + m.locks.liveCalls, 0);

describe('idle lock mirrors on one SQLite store', () => {
  it(`${MIRRORS} mirrors over 5 (fake) minutes: one signature query per 30 s period in all, no refresh of their own; a lock still reaches all`, async () => {
    const file = join(dir, 'store.db');
    const store = new SqliteStore({ path: file });
    await store.open();
    let signatureReads = 0;
    const prepare = Database.prototype.prepare;
    const spy = vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (this: Database.Database, source: string) {
      if (source.includes('GROUP BY app')) signatureReads += 1;
      return prepare.call(this, source);
    });
    // Fake clocks before any mirror or watch exists, so every timer they set runs on them.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    LOCK_SAFETY_SWEEP.periodMs = 30_000;
    let mirrors: Mirror[] = [];
    const other = new SqliteLocks(file);
    try {
      mirrors = await openMirrors(() => new SqliteLocks(file), 'app');
      const [reads, refreshes] = [signatureReads, liveCalls(mirrors)];
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      // 10 periods: the shared sweep's 10 reads (whatever MIRRORS is), and not one mirror refreshed.
      expect(signatureReads - reads).toBe(10);
      expect(liveCalls(mirrors)).toBe(refreshes);

      const answer = await other.acquire('app', { target: '/docs', owner: 'elsewhere', ttlMs: 30_000 });
      expect(answer.acquired).toBe(true);
      for (let i = 0; i < 200 && !mirrors.every((m) => m.table.list().length === 1); i++) await vi.advanceTimersByTimeAsync(50);
      expect(mirrors.filter((m) => m.table.list().length === 1)).toHaveLength(MIRRORS);
    } finally {
      for (const m of mirrors) await m.backed.close();
      vi.useRealTimers();
      LOCK_SAFETY_SWEEP.periodMs = 100;
      spy.mockRestore();
      await other.close();
      await store.close();
    }
  });
});

/** A PostgresStore counting its statements: the sweep's signature reads and the lock mirrors' live() calls. */
class CountingStore extends PostgresStore {
  signatureReads = 0;
  liveQueries = 0;
  override async queryRows(text: string, values: readonly unknown[]) {
    if (text.includes('GROUP BY app')) this.signatureReads += 1;
    if (text.includes('scopefs_lock_live')) this.liveQueries += 1;
    return super.queryRows(text, values);
  }
}

describePostgres('idle lock mirrors on one PostgreSQL store', () => {
  const db = useTestDatabase('locks_sweep');
  const name = `scopefs-lock-sweep-${process.pid}`;
  let mine: CountingStore;
  let theirs: PostgresStore;
  beforeAll(async () => {
    mine = new CountingStore({ connectionString: `${db.url}?application_name=${name}`, poolSize: 2, reconnectDelayMs: 20 });
    theirs = new PostgresStore({ connectionString: db.url, poolSize: 2 });
    await mine.open();
    await theirs.open();
  });
  afterAll(async () => {
    await mine?.close();
    await theirs?.close();
  });

  async function setTrigger(enabled: boolean): Promise<void> {
    const client = await connectClient(db.url);
    try {
      await client.query(`ALTER TABLE scopefs.locks ${enabled ? 'ENABLE' : 'DISABLE'} TRIGGER locks_changed`);
    } finally {
      await client.end();
    }
  }

  it(`${MIRRORS} mirrors: one signature query per period in all; a lock by NOTIFY, and one whose NOTIFY is lost by the sweep`, async () => {
    const mirrors = await openMirrors(() => openStoreLocks(mine), 'pg-app');
    const other = openStoreLocks(theirs);
    try {
      // Each mirror refreshes once when its LISTEN holds (`reconnected`); then they are idle.
      await waitFor(() => liveCalls(mirrors) >= 2 * MIRRORS, 10_000, 'the refreshes once the LISTEN holds');
      const [reads, queries] = [mine.signatureReads, mine.liveQueries];
      await waitFor(() => mine.signatureReads >= reads + SWEEPS, 10_000, `${SWEEPS} safety sweeps`);
      expect(mine.liveQueries).toBe(queries);

      const held = await other.acquire('pg-app', { target: '/docs', owner: 'elsewhere', ttlMs: 30_000 });
      await waitFor(() => mirrors.every((m) => m.table.list().length === 1), 10_000, 'every mirror to hear the lock by NOTIFY');
      if (held.acquired) await other.release('pg-app', held.lock.token);
      await waitFor(() => mirrors.every((m) => m.table.list().length === 0), 10_000, 'every mirror to hear the release');

      await setTrigger(false); // no NOTIFY: only the shared sweep can tell
      try {
        await other.acquire('pg-app', { target: '/silent', owner: 'elsewhere', ttlMs: 30_000 });
        await waitFor(() => mirrors.every((m) => m.table.list().length === 1), 10_000, 'the sweep to wake every mirror');
        expect(mirrors[0]!.table.list()[0]).toMatchObject({ path: '/silent', owner: 'elsewhere' });
      } finally {
        await setTrigger(true);
      }
    } finally {
      for (const m of mirrors) await m.backed.close();
    }
  });

  it('a mirror refreshes when its LISTEN connection is lost and again once it is back, then goes idle', async () => {
    const changes: string[] = [];
    const base = openStoreLocks(mine);
    const locks = counted(base);
    locks.watchChanges = (app, listener) =>
      base.watchChanges!(app, (change) => {
        changes.push(change.error ? 'error' : change.reconnected ? 'reconnected' : 'change');
        listener(change);
      });
    const table = new LockTable();
    const mirror = new StoreBackedLocks(table, locks, 'pg-lost');
    const other = openStoreLocks(theirs);
    try {
      await waitFor(() => changes.includes('reconnected') && locks.liveCalls >= 1, 10_000, 'the LISTEN to hold');
      const pid = (await adminQuery<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'", [name],
      )).rows[0]?.pid;
      expect(pid).toBeDefined();
      changes.length = 0;
      const before = locks.liveCalls;
      await adminQuery('SELECT pg_terminate_backend($1)', [pid]);
      await waitFor(() => changes.includes('error') && locks.liveCalls > before, 10_000, 'a refresh on the loss');
      const atLoss = locks.liveCalls;
      await waitFor(() => changes.includes('reconnected') && locks.liveCalls > atLoss, 10_000, 'a refresh once it is back');
      expect(changes.indexOf('error')).toBeLessThan(changes.lastIndexOf('reconnected'));

      // Hearing again: a lock arrives by hint, and with nothing live the mirror sends no more queries.
      const held = await other.acquire('pg-lost', { target: '/after', owner: 'elsewhere', ttlMs: 30_000 });
      await waitFor(() => table.list().length === 1, 10_000, 'the lock after the reconnect');
      if (held.acquired) await other.release('pg-lost', held.lock.token);
      await waitFor(() => table.list().length === 0, 10_000, 'the release after the reconnect');
      // The next completed sweep sees the lock come and go too, and may wake the mirror once more: let it pass.
      const settled = mine.signatureReads;
      await waitFor(() => mine.signatureReads >= settled + 2, 10_000, 'a completed sweep after the release');
      const idle = locks.liveCalls;
      const reads = mine.signatureReads;
      await waitFor(() => mine.signatureReads >= reads + SWEEPS, 10_000, `${SWEEPS} safety sweeps`);
      expect(locks.liveCalls).toBe(idle);
    } finally {
      await mirror.close();
    }
  });
});

describe('a mirror whose hint channel fails (a poller error, a lost LISTEN)', () => {
  it('refreshes at once on the error, polls while it lasts, refreshes on reconnect, then keeps no timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    let tell: (change: { error?: string; reconnected?: boolean }) => void = () => undefined;
    const store: StoreLocks = {
      acquire: () => Promise.reject(new Error('unused')),
      renew: async () => null,
      release: async () => false,
      live: async () => [],
      check: async () => null,
      watchChanges: (_app, listener) => ((tell = listener), () => undefined),
      close: async () => undefined,
    };
    const locks = counted(store);
    const mirror = new StoreBackedLocks(new LockTable(), locks, 'app');
    try {
      await mirror.refresh();
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect(locks.liveCalls).toBe(1); // hearing, nothing live: no timer
      tell({ error: 'the poll failed' });
      await vi.advanceTimersByTimeAsync(0);
      expect(locks.liveCalls).toBe(2); // at once: a hint may have been missed
      await vi.advanceTimersByTimeAsync(3_000);
      expect(locks.liveCalls).toBeGreaterThanOrEqual(4); // silence proves nothing: at most 1 s apart
      tell({ reconnected: true });
      await vi.advanceTimersByTimeAsync(0);
      const back = locks.liveCalls;
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect(locks.liveCalls).toBe(back);
    } finally {
      await mirror.close();
      vi.useRealTimers();
    }
  });
});

describe('lock hints whose subscription fails (the LISTEN connection is down at start)', () => {
  it('say `error` once, retry with backoff, and say `reconnected` once the subscription holds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let attempts = 0;
    const source = {
      watchLocks: async () => {
        attempts += 1;
        if (attempts < 4) throw new Error('the LISTEN connection is down');
        return () => undefined;
      },
    };
    const changes: string[] = [];
    const stop = watchNotifiedLockChanges(source, 'app', (c) => changes.push(c.error ? 'error' : c.reconnected ? 'reconnected' : 'change'));
    try {
      await vi.advanceTimersByTimeAsync(10_000);
      expect(attempts).toBe(4);
      expect(changes).toEqual(['error', 'reconnected']);
    } finally {
      stop();
      vi.useRealTimers();
    }
  });
});
