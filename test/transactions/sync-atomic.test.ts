/**
 * A transaction's commit seen from another instance: A pushes it as one
 * store batch (all rows or none), and B applies it in one step, so no
 * reader on B ever sees part of it. Against the memory store and a real
 * PostgreSQL server.
 */
import { setImmediate as turn } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { PostgresStore } from '../../persistence/stores/postgres-store.js';
import { SHARED_OWNER, type SyncStore } from '../../persistence/stores/types.js';
import { sha256 } from '../../src/content.js';
import type { FsEvent } from '../../src/types.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { SyncLab, type SyncedScope } from '../helpers/sync-scopes.js';

const FILES = 100;
const GENERATIONS = 4;
const paths = Array.from({ length: FILES }, (_, i) => `/run/f-${String(i).padStart(3, '0')}.md`);
const content = (generation: number, path: string) => `generation ${generation} of ${path}\n`;

/** Which generation each file of a listing holds: one number for a consistent state, several for a mixed one. */
function generationsIn(entries: Array<{ path: string; checksum: string | undefined }>, sums: Map<string, number>): Set<number | 'unknown'> {
  return new Set(entries.filter((e) => paths.includes(e.path)).map((e) => sums.get(`${e.path} ${e.checksum}`) ?? 'unknown'));
}

function atomicVisibility(makeStore: () => SyncStore | Promise<SyncStore>) {
  let lab: SyncLab;
  afterEach(() => lab?.remove());

  it('a reader on B never sees part of a 100-file commit, and B applies each commit as one batch', async () => {
    const store = await makeStore();
    lab = await SyncLab.create(store);
    const a = await lab.start('a');
    const b = await lab.start('b');
    const sums = new Map<string, number>();
    for (let generation = 0; generation <= GENERATIONS; generation++) {
      for (const path of paths) sums.set(`${path} ${sha256(Buffer.from(content(generation, path)))}`, generation);
    }
    await a.transaction(async (tx) => {
      for (const path of paths) await tx.writeFile(path, content(0, path));
    });
    await lab.settle(a, b);

    const events: Array<Extract<FsEvent, { type: 'file_updated' }>> = [];
    b.fs.subscribe((event) => {
      if (event.type === 'file_updated' && paths.includes(event.path)) events.push(event);
    });
    const { mixed, seen, stop } = readContinuously(b, sums);
    for (let generation = 1; generation <= GENERATIONS; generation++) {
      const result = await a.transaction(async (tx) => {
        for (const path of paths) await tx.writeFile(path, content(generation, path));
      });
      expect(result.committed).toBe(true);
      await lab.settle(a, b);
    }
    await stop();

    expect(mixed).toEqual([]);
    // The reader ran throughout: it saw the first and the last generation, whole.
    expect(seen.has(0) && seen.has(GENERATIONS)).toBe(true);
    expect(await b.fs.readFile(paths[37]!)).toBe(content(GENERATIONS, paths[37]!));
    // B applied each commit as one batch of its own: 100 events under one batch id, per commit.
    const byBatch = new Map<string | undefined, number>();
    for (const event of events) byBatch.set(event.batch, (byBatch.get(event.batch) ?? 0) + 1);
    expect([...byBatch.entries()].map(([batch, count]) => [batch === undefined ? 'none' : 'batch', count])).toEqual(
      Array.from({ length: GENERATIONS }, () => ['batch', FILES]),
    );
    // In the store, the last commit's rows share one batch id.
    const rows = (await store.since('lab', [SHARED_OWNER], 0, 1000)).rows.filter((row) => paths.includes(row.path));
    expect(rows).toHaveLength(FILES);
    expect(new Set(rows.map((row) => row.batch)).size).toBe(1);
    expect(rows[0]!.batch).toBeDefined();
  }, 120_000);
}

/** Lists B's files over and over (each listing is one step of its FileSystemServer), noting every mixed state. */
function readContinuously(b: SyncedScope, sums: Map<string, number>) {
  const mixed: string[] = [];
  const seen = new Set<number | 'unknown'>();
  let reading = true;
  const loop = (async () => {
    while (reading) {
      const generations = generationsIn(await b.fs.listEntries('/run'), sums);
      for (const generation of generations) seen.add(generation);
      if (generations.size > 1) mixed.push([...generations].join(' + '));
      await turn();
    }
  })();
  return {
    mixed,
    seen,
    stop: async () => {
      reading = false;
      await loop;
    },
  };
}

describe('transaction commits at another instance (memory store)', () => {
  atomicVisibility(() => new MemoryStore());
});

describePostgres('transaction commits at another instance (PostgreSQL)', () => {
  const db = useTestDatabase('txsync');
  const stores: PostgresStore[] = [];
  afterAll(async () => {
    for (const store of stores) await store.close();
  });
  atomicVisibility(async () => {
    const store = new PostgresStore({ connectionString: db.url });
    await store.open();
    stores.push(store);
    return store;
  });
});
