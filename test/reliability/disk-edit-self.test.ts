/**
 * The harness checks disk edits like any other operation: an edit another
 * program saved on one instance's disk reaches every instance, and a token
 * it added that disappears behind the oracle's back is reported LOST.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../persistence/stores/open-store.js';
import type { SyncStore } from '../../persistence/stores/types.js';
import { Cluster } from './harness/cluster.js';
import { token } from './harness/content.js';
import { editOnDisk, type DiskEditHow } from './harness/disk-edit.js';
import { Oracle } from './harness/oracle.js';
import { verifyConvergence } from './harness/verify.js';

describe('disk edits in the harness', () => {
  let dir: string;
  let store: SyncStore;
  let cluster: Cluster;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scopefs-rel-disk-'));
    store = await openStore(`sqlite:${join(dir, 'store.db')}`);
    cluster = await Cluster.start(3);
  }, 60_000);

  afterAll(async () => {
    await cluster.shutdown();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  async function run(app: string, how: DiskEditHow, sabotage: boolean): Promise<string[]> {
    await cluster.begin({ dir: join(dir, app), store: `sqlite:${join(dir, 'store.db')}`, view: store, app });
    try {
      const oracle = new Oracle();
      const written = oracle.begin('w1', [token(1)]);
      await cluster.mutate(0, { kind: 'write', path: '/log.jsonl', tokens: [token(1)], pick: 0 }, written);
      await cluster.settle();
      await cluster.call(2, 'snapshot', { flush: true }); // on c's disk before another program edits it there
      const edit = oracle.begin(`disk ${how}`, [token(2)]);
      const result = await editOnDisk(cluster.rootOf(2), '/log.jsonl', how, [token(2)]);
      expect(result.applied).toBe(true);
      edit.acked(result.removed);
      await cluster.call(2, 'checkDisk', { path: '/log.jsonl' });
      await cluster.settle();
      if (sabotage) await cluster.call(1, 'mutate', { mutation: { kind: 'write', path: '/log.jsonl', tokens: [token(3)], pick: 0 } });
      return (await verifyConvergence(cluster, oracle, store, app)).problems;
    } finally {
      await cluster.end();
    }
  }

  it.each<DiskEditHow>(['write', 'rename'])('an outside %s on one instance reaches all, and verifies', async (how) => {
    expect(await run(`honest-${how}`, how, false)).toEqual([]);
  }, 60_000);

  it('reports a token a disk edit added that disappeared', async () => {
    const problems = await run('sabotaged', 'write', true);
    expect(problems.some((p) => p.startsWith(`LOST ${token(2)}`))).toBe(true);
  }, 60_000);
});
