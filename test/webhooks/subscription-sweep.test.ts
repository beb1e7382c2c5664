import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteWebhookTable } from '../../persistence/webhooks/sqlite-webhooks.js';
import { joinSweep, SWEEP_MS, type SweepMember, type SweepSource } from '../../src/webhooks/subscription-sweep.js';
import type { Webhook } from '../../src/webhooks/types.js';

const hook = (id: string): Webhook => ({ id, url: `http://127.0.0.1:9/${id}`, events: ['file_updated'], secret: 's'.repeat(16), createdAt: 1 });

/** A store's table that counts its reads; `lists` is what the store holds per app. */
function countingSource(key: object, app: string, lists: Map<string, Webhook[]>, reads: string[][]): SweepSource {
  return {
    key,
    app,
    listApps: async (apps) => {
      reads.push([...apps]);
      return new Map([...lists].filter(([name]) => apps.includes(name)));
    },
  };
}

function member(source: SweepSource, heard: Webhook[][]): SweepMember {
  return { source, heard: (rows) => heard.push(rows), failed: (err) => { throw err; } };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the subscription sweep', () => {
  it('reads a store once per period for all its scopes, and each scope hears its own app', async () => {
    vi.useFakeTimers();
    const store = {};
    const lists = new Map([['app-0', [hook('a')]], ['app-1', [hook('b'), hook('c')]]]);
    const reads: string[][] = [];
    const heard = Array.from({ length: 50 }, () => [] as Webhook[][]);
    const leave = heard.map((got, i) => joinSweep(member(countingSource(store, `app-${i % 5}`, lists, reads), got)));

    await vi.advanceTimersByTimeAsync(SWEEP_MS * 3);
    expect(reads).toHaveLength(3); // not 150: one read per period for the 50 scopes
    expect(new Set(reads[0])).toEqual(new Set(['app-0', 'app-1', 'app-2', 'app-3', 'app-4']));
    expect(heard[0]!.at(-1)!.map((w) => w.id)).toEqual(['a']);
    expect(heard[6]!.at(-1)!.map((w) => w.id)).toEqual(['b', 'c']);
    expect(heard[2]!.at(-1)).toEqual([]); // an app with no subscription hears an empty list

    for (const off of leave) off();
    await vi.advanceTimersByTimeAsync(SWEEP_MS * 3);
    expect(reads).toHaveLength(3); // the last to leave stopped it
  });

  it('keeps reading through the tables still open when the first one has left', async () => {
    vi.useFakeTimers();
    const store = {};
    const firstReads: string[][] = [];
    const secondReads: string[][] = [];
    const lists = new Map([['app', [hook('a')]]]);
    const leaveFirst = joinSweep(member(countingSource(store, 'app', lists, firstReads), []));
    const heard: Webhook[][] = [];
    const leaveSecond = joinSweep(member(countingSource(store, 'app', lists, secondReads), heard));
    leaveFirst();
    await vi.advanceTimersByTimeAsync(SWEEP_MS);
    expect(firstReads).toHaveLength(0);
    expect(secondReads).toHaveLength(1);
    expect(heard).toHaveLength(1);
    leaveSecond();
  });

  it('reads every app of a SQLite store file in one statement', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scopefs-sweep-'));
    const file = join(dir, 'store.db');
    const tables = ['one', 'two', 'three'].map((app) => new SqliteWebhookTable(file, app));
    try {
      await tables[0]!.add(hook('x'));
      await tables[1]!.add(hook('y'));
      const lists = await tables[2]!.sweep.listApps(['one', 'two', 'three']);
      expect(lists.get('one')!.map((w) => w.id)).toEqual(['x']);
      expect(lists.get('two')!.map((w) => w.id)).toEqual(['y']);
      expect(lists.get('three')).toBeUndefined();
      expect(new Set(tables.map((t) => t.sweep.key)).size).toBe(1);
    } finally {
      for (const table of tables) table.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
