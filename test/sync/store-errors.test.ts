/**
 * An error from the store on any call (head, since, push, the hint channel),
 * inside a sync pass or outside one, moves the lifecycle to `backing_off`
 * with the reason in status; once the store answers again the instance
 * catches up and is live. Includes a real SQLite store whose WAL is
 * overwritten under two running instances.
 */
import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import type { SyncEvent, SyncState } from '../../src/sync/types.js';
import { adminQuery, describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { SyncLab, type SyncedScope } from '../helpers/sync-scopes.js';
import { FailingCallsStore } from './fixtures/failing-calls-store.js';


const WAIT_MS = 10_000;
let lab: SyncLab | undefined;
afterEach(() => lab?.remove());

/** The next sync_state event (after now) entering `state`; fails after WAIT_MS. */
function entering(scope: SyncedScope, state: SyncState): Promise<Extract<SyncEvent, { type: 'sync_state' }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`${scope.key} did not enter ${state} within ${WAIT_MS} ms (status ${JSON.stringify(scope.events.at(-1))})`));
    }, WAIT_MS);
    const unsubscribe = scope.sync!.subscribe((event) => {
      if (event.type !== 'sync_state' || event.state !== state) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}

/** Waits for backing_off caused by `trigger`, checks the reason in status, heals, waits for live. */
async function expectBackOffAndRecovery(scope: SyncedScope, trigger: () => unknown, reason: RegExp, heal: () => unknown): Promise<void> {
  const backingOff = entering(scope, 'backing_off');
  trigger();
  const event = await backingOff;
  expect(event.reason).toMatch(reason);
  const status = await scope.sync!.status();
  expect(status.state === 'backing_off' || status.state === 'connecting', JSON.stringify(status)).toBe(true);
  expect(status.connected).toBe(false);
  expect(status.error).toMatch(reason);
  const live = entering(scope, 'live');
  heal();
  await live;
  await scope.sync!.idle({ timeoutMs: WAIT_MS });
  expect((await scope.sync!.status()).error).toBeUndefined();
}

describe('a store call that fails moves sync to backing_off, and it recovers', () => {
  async function start(): Promise<{ a: SyncedScope; b: SyncedScope; store: FailingCallsStore }> {
    const inner = new MemoryStore();
    lab = await SyncLab.create(inner);
    const store = new FailingCallsStore(inner);
    const a = await lab.start('a', { store });
    const b = await lab.start('b');
    await lab.settle(a, b);
    return { a, b, store };
  }

  it('head, asked by the idle check while nothing else runs', async () => {
    const { a, store } = await start();
    await expectBackOffAndRecovery(a, () => {
      store.fail('head');
      void a.sync!.idle({ timeoutMs: WAIT_MS }).catch(() => undefined);
    }, /head failed/, () => store.heal());
  });

  it('the hint channel (a lost LISTEN connection, a failing poll)', async () => {
    const { a, b, store } = await start();
    await expectBackOffAndRecovery(a, () => store.breakHints('the change listener lost its connection'), /change listener lost its connection/, () => undefined);
    // Live again means hints flow again: a write on b reaches a without anything local happening.
    await b.fs.writeFile('/after.md', 'written after the hints came back');
    await lab!.settle(b, a);
    expect(await a.fs.readFile('/after.md')).toBe('written after the hints came back');
  });

  it('since, in a pass', async () => {
    const { a, store } = await start();
    await expectBackOffAndRecovery(a, () => {
      store.fail('since');
      void a.fs.writeFile('/local.md', 'a local change starts a pass');
    }, /since failed/, () => store.heal());
  });

  it('push, in a pass', async () => {
    const { a, b, store } = await start();
    await expectBackOffAndRecovery(a, () => {
      store.fail('push');
      void a.fs.writeFile('/pushed.md', 'pushed once the store takes it');
    }, /push failed/, () => store.heal());
    await lab!.settle(a, b);
    expect(await b.fs.readFile('/pushed.md')).toBe('pushed once the store takes it');
  });
});

describe('a real SQLite store whose WAL is overwritten under two running instances', () => {
  it('the instance that can no longer read it reports backing_off, and catches up once the WAL is back', async () => {
    lab = await SyncLab.create();
    const file = join(lab.dir, 'store.db');
    const url = `sqlite:${file}`;
    const a = await lab.start('a', { store: url });
    const b = await lab.start('b', { store: url });
    await a.fs.writeFile('/one.md', 'before the corruption');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/one.md')).toBe('before the corruption');

    // The WAL header and the start of its first frame, overwritten by another program.
    const wal = await open(`${file}-wal`, 'r+');
    const saved = Buffer.alloc(4096);
    await wal.read(saved, 0, saved.byteLength, 0);
    const backingOff = entering(b, 'backing_off');
    await wal.write(randomBytes(saved.byteLength), 0, saved.byteLength, 0);
    // b, which does nothing itself, must notice through its hint channel (the
    // change poller a and b share in this process); a's write is journaled
    // and reaches b once the WAL is back.
    await a.fs.writeFile('/two.md', 'written while the WAL was broken');
    const event = await backingOff;
    expect(event.reason).toMatch(/not a database|malformed|corrupt|disk I\/O/i);
    const status = await b.sync!.status();
    expect(status.state).not.toBe('live');
    expect(status.connected).toBe(false);
    expect(status.error).toMatch(/sqlite store/);

    const live = entering(b, 'live');
    await wal.write(saved, 0, saved.byteLength, 0);
    await wal.close();
    await live;
    await lab.settle(a, b);
    expect(await b.fs.readFile('/two.md')).toBe('written while the WAL was broken');
    await a.fs.writeFile('/three.md', 'after the WAL came back');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/three.md')).toBe('after the WAL came back');
    expect((await b.sync!.status()).state).toBe('live');
  });
});

describePostgres('PostgreSQL: the LISTEN connection of a live instance is terminated', () => {
  const db = useTestDatabase('sync_store_errors');

  it('reports backing_off with the reason until LISTEN is back, then receives hints again', async () => {
    lab = await SyncLab.create();
    const name = `scopefs-sync-listen-${process.pid}`;
    const a = await lab.start('a', { store: `${db.url}?application_name=${name}` });
    const b = await lab.start('b', { store: db.url });
    await lab.settle(a, b);
    const pids = await adminQuery<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'",
      [name],
    );
    expect(pids.rows).toHaveLength(1);
    await expectBackOffAndRecovery(
      a,
      () => void adminQuery('SELECT pg_terminate_backend($1)', [pids.rows[0]!.pid]),
      /LISTEN connection .* was lost/,
      () => undefined,
    );
    await b.fs.writeFile('/hinted.md', 'reaches a through a hint');
    await lab.settle(b, a);
    expect(await a.fs.readFile('/hinted.md')).toBe('reaches a through a hint');
  });
});
