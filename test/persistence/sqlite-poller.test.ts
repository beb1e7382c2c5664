import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteConnection } from '../../persistence/sql/sqlite-connection.js';
import { runningChangePoller } from '../../persistence/stores/sqlite-poller.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import type { StoreHint } from '../../persistence/stores/types.js';
import { change, withDeadline } from './store-contract-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-sqlite-poller-'));
const POLL_MS = 5;
let fileCount = 0;
const freshFile = () => join(dir, `poller-${++fileCount}.db`);

afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => vi.useRealTimers());

/** Hints to one listener, awaited one at a time. */
function hintQueue() {
  const received: StoreHint[] = [];
  const waiting: Array<(hint: StoreHint) => void> = [];
  return {
    listener: (hint: StoreHint) => {
      const wake = waiting.shift();
      if (wake) wake(hint);
      else received.push(hint);
    },
    next: (what: string) =>
      withDeadline(
        new Promise<StoreHint>((resolve) => {
          const hint = received.shift();
          if (hint) resolve(hint);
          else waiting.push(resolve);
        }),
        what,
      ),
  };
}

async function openStores(path: string, count: number, pollMs = POLL_MS): Promise<SqliteStore[]> {
  const stores = Array.from({ length: count }, () => new SqliteStore({ path, pollMs }));
  await Promise.all(stores.map((store) => store.open()));
  return stores;
}

describe('the SQLite change poller is shared by the stores on one file', () => {
  it('gives two stores on one file their hints from one poller, including each other\'s pushes', async () => {
    const path = freshFile();
    const [a, b, writer] = (await openStores(path, 3)) as [SqliteStore, SqliteStore, SqliteStore];
    const hintsA = hintQueue();
    const hintsB = hintQueue();
    await a.watch('app', hintsA.listener);
    await b.watch('app', hintsB.listener);
    expect(runningChangePoller(path, POLL_MS)?.referenceCount).toBe(2);

    await writer.push('app', 'w', [change('/x.md', 'one')]);
    expect(await hintsA.next('a hint of the writer\'s push to a')).toEqual({ head: 1 });
    expect(await hintsB.next('a hint of the writer\'s push to b')).toEqual({ head: 1 });

    await a.push('app', 'a', [change('/y.md', 'two')]);
    expect(await hintsA.next('a hint of a\'s own push')).toEqual({ head: 2 });
    expect(await hintsB.next('a hint of a\'s push to b')).toEqual({ head: 2 });
    await Promise.all([a.close(), b.close(), writer.close()]);
  });

  it('keeps hinting the other store after one closes, and stops the poll at the last close', async () => {
    const path = freshFile();
    const [a, b, writer] = (await openStores(path, 3)) as [SqliteStore, SqliteStore, SqliteStore];
    await a.watch('app', () => undefined);
    const hintsB = hintQueue();
    const unwatchB = await b.watch('app', hintsB.listener);
    await a.close();
    expect(runningChangePoller(path, POLL_MS)?.referenceCount).toBe(1);

    await writer.push('app', 'w', [change('/x.md', 'one')]);
    expect(await hintsB.next('a hint after the other store closed')).toEqual({ head: 1 });

    await unwatchB();
    expect(runningChangePoller(path, POLL_MS)).toBeUndefined();
    await Promise.all([b.close(), writer.close()]);
  });

  it('runs one timer and one statement per idle poll for fifty watching stores', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const path = freshFile();
    const stores = await openStores(path, 50, 10);
    const timersBefore = vi.getTimerCount();
    for (const [i, store] of stores.entries()) await store.watch(`app-${i % 5}`, () => undefined);
    expect(vi.getTimerCount() - timersBefore).toBe(1);

    const poller = runningChangePoller(path, 10)!;
    const idleStart = poller.queryCount;
    vi.advanceTimersByTime(10 * 20);
    expect(poller.queryCount - idleStart).toBe(20);

    await Promise.all(stores.map((store) => store.close()));
    expect(vi.getTimerCount()).toBe(timersBefore);
    expect(runningChangePoller(path, 10)).toBeUndefined();
  });

  it('polls less often once quiet, at the full rate again after a local push, and hears other connections either way', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const path = freshFile();
    const [store] = await openStores(path, 1, 10);
    const hints = hintQueue();
    await store!.watch('app', hints.listener);
    const poller = runningChangePoller(path, 10)!;
    const polls = (ms: number) => {
      const before = poller.queryCount;
      vi.advanceTimersByTime(ms);
      return poller.queryCount - before;
    };
    expect(polls(400)).toBe(40);
    polls(1_000); // quiet for a second: backing off
    expect(poller.currentDelayMs).toBe(40);
    expect(polls(400)).toBeLessThanOrEqual(11); // 40 at the full rate

    // Another connection commits: heard within the longer delay, and the full rate is back.
    const other = new SqliteStore({ path, pollMs: 10 });
    await other.open();
    try {
      await other.push('app', 'b', [change('/x.md', 'x')]);
      polls(40);
      expect((await hints.next('the other connection\'s commit')).head).toBe(1);
      expect(poller.currentDelayMs).toBe(10);
      polls(1_500);
      expect(poller.currentDelayMs).toBe(40);
      // A push of this process wakes the poller at once.
      await store!.push('app', 'a', [change('/y.md', 'y')]);
      expect((await hints.next('the local push')).head).toBe(2);
      expect(poller.currentDelayMs).toBe(10);
      expect(polls(100)).toBeGreaterThanOrEqual(9);
    } finally {
      await other.close();
      await store!.close();
    }
  });

  it('reads every head in one statement when many apps are watched, and hints only the apps that moved', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const path = freshFile();
    const [watcher] = (await openStores(path, 1, 10)) as [SqliteStore];
    // Another process's commit: only the poll sees it (a store of this process would hint at once).
    const other = new SqliteConnection(path, { busyTimeoutMs: 1_000 });
    const hints = Array.from({ length: 12 }, () => [] as StoreHint[]);
    for (const [i, got] of hints.entries()) await watcher.watch(`app-${i}`, (hint) => got.push(hint));
    const poller = runningChangePoller(path, 10)!;
    other.write(() => other.setHead('app-3', 5));
    const before = poller.queryCount;
    vi.advanceTimersByTime(10);
    expect(poller.queryCount - before).toBe(2); // data_version, then all heads
    await Promise.resolve(); // hints are delivered in a microtask
    expect(hints.map((got) => got.length)).toEqual(hints.map((_, i) => (i === 3 ? 1 : 0)));
    expect(hints[3]).toEqual([{ head: 5 }]);
    other.close();
    await watcher.close();
  });

  it('starts a fresh poller for a file after the last one stopped, and hints a watcher that subscribes again', async () => {
    const path = freshFile();
    const [a, writer] = (await openStores(path, 2)) as [SqliteStore, SqliteStore];
    const unwatch = await a.watch('app', () => undefined);
    const first = runningChangePoller(path, POLL_MS);
    await unwatch();
    const hints = hintQueue();
    await a.watch('app', hints.listener);
    expect(runningChangePoller(path, POLL_MS)).not.toBe(first);
    await writer.push('app', 'w', [change('/x.md', 'one')]);
    expect(await hints.next('a hint through the new poller')).toEqual({ head: 1 });
    await Promise.all([a.close(), writer.close()]);
  });
});
