import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openStoreTombstones } from '../../persistence/history/open-history.js';
import type { TombstonePurger } from '../../persistence/history/tombstones.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SHARED_OWNER } from '../../persistence/stores/types.js';
import { TombstoneKeeper } from '../../src/sync/tombstone-keeper.js';
import { SyncLab } from '../helpers/sync-scopes.js';

/** A purger that records its calls; `fail` makes every call reject. */
function recordingPurger(fail = false): TombstonePurger & { calls: string[] } {
  const calls: string[] = [];
  const answer = async <T>(call: string, value: T): Promise<T> => {
    calls.push(call);
    if (fail) throw new Error('store refused');
    return value;
  };
  return {
    calls,
    noteCursor: (app, instance, cursor) => answer(`note ${app} ${instance} ${cursor}`, undefined),
    purgeTombstones: (app, olderThanMs) => answer(`purge ${app} ${olderThanMs}`, { purged: 0, horizon: 0 }),
    tombstoneHorizon: () => answer('horizon', 0),
    close: async () => undefined,
  };
}

describe('TombstoneKeeper: an instance reports the cursor it applied', () => {
  it('reports on a full pass and then at most once per interval; purges once per purge interval', async () => {
    let now = 1_000;
    const purger = recordingPurger();
    const keeper = new TombstoneKeeper({ purger: () => purger, app: 'app', instanceId: 'a', now: () => now, noteEveryMs: 100, purgeEveryMs: 1_000, tombstoneAgeMs: 5_000 });
    expect(keeper.due(true)).toBe(true);
    await keeper.afterPass(7);
    expect(keeper.due(false)).toBe(false);
    now += 100;
    expect(keeper.due(false)).toBe(true);
    await keeper.afterPass(9);
    now += 1_000;
    await keeper.afterPass(12);
    expect(purger.calls).toEqual(['note app a 7', 'note app a 9', 'note app a 12', 'purge app 5000']);
  });

  it('a store that refuses never fails the pass, and is asked again only after the interval', async () => {
    let now = 0;
    const purger = recordingPurger(true);
    const keeper = new TombstoneKeeper({ purger: () => purger, app: 'app', instanceId: 'a', now: () => now, noteEveryMs: 100 });
    await expect(keeper.afterPass(3)).resolves.toBeUndefined();
    expect(keeper.due(false)).toBe(false);
    now += 100;
    expect(keeper.due(false)).toBe(true);
  });

  it('skips a first report at cursor 0 (nothing to guard yet), and reports cursor 0 from then on', async () => {
    let now = 0;
    const purger = recordingPurger();
    const keeper = new TombstoneKeeper({ purger: () => purger, app: 'app', instanceId: 'a', now: () => now, noteEveryMs: 100 });
    await keeper.afterPass(0);
    expect(purger.calls).toEqual([]);
    expect(keeper.due(false)).toBe(false);
    now += 100;
    await keeper.afterPass(0);
    await keeper.afterPass(4);
    expect(purger.calls).toEqual(['note app a 0', 'note app a 4']);
  });

  it('does nothing for a store without purging', async () => {
    const keeper = new TombstoneKeeper({ purger: () => null, app: 'app', instanceId: 'a', now: Date.now });
    await expect(keeper.afterPass(3)).resolves.toBeUndefined();
  });
});

describe('sync: tombstones go once every instance seen recently has applied them', () => {
  let lab: SyncLab | undefined;
  afterEach(async () => {
    await lab?.remove();
    lab = undefined;
  });

  it('instances report their cursors, a purge removes the seen delete, and nothing comes back', async () => {
    const store = new MemoryStore();
    lab = await SyncLab.create(store);
    let a = await lab.start('a');
    let b = await lab.start('b');
    await a.fs.writeFile('/gone.md', 'soon deleted');
    await a.fs.writeFile('/kept.md', 'stays');
    await lab.settle(a, b);
    await a.fs.deleteFile('/gone.md');
    await lab.settle(a, b);
    expect(await b.fs.fileExists('/gone.md')).toBe(false);

    const ageMs = 1_000;
    await sleep(ageMs + 50); // the tombstone must be older than the purge's age
    // A restart's first pass is full, so each instance reports the cursor it applied.
    await a.stop();
    await b.stop();
    a = await lab.start('a');
    b = await lab.start('b');
    await lab.settle(a, b);

    const purger = openStoreTombstones(store);
    const head = await store.head('lab');
    const { purged, horizon } = await purger.purgeTombstones('lab', ageMs);
    expect(purged).toBe(1);
    expect(horizon).toBe(head);
    const rows = (await store.since('lab', [SHARED_OWNER], 0)).rows;
    expect(rows.map((r) => r.path)).toEqual(['/kept.md']);

    // A full pass after the purge: the deleted file stays deleted everywhere.
    await a.stop();
    a = await lab.start('a');
    await lab.settle(a, b);
    expect(await a.fs.listFiles()).toEqual(expect.not.arrayContaining(['/gone.md']));
    expect(await b.fs.fileExists('/gone.md')).toBe(false);
    expect(await a.fs.readFile('/kept.md')).toBe('stays');
  });
});
