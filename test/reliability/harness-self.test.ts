/**
 * The harness checks itself: the oracle and the generator in isolation, and
 * one end-to-end run where data is destroyed behind the oracle's back, which
 * the verifier must report. A harness that cannot fail proves nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../persistence/stores/open-store.js';
import type { SyncStore } from '../../persistence/stores/types.js';
import { Cluster } from './harness/cluster.js';
import { kindOf, render, token, tokensIn, union } from './harness/content.js';
import { DEFAULT_WEIGHTS, programFor } from './harness/model.js';
import { Oracle } from './harness/oracle.js';
import { verifyConvergence } from './harness/verify.js';

describe('oracle', () => {
  it('requires acknowledged tokens and excuses what an operation saw and replaced', () => {
    const oracle = new Oracle();
    oracle.begin('w1', ['#k1#', '#k2#']).acked([]);
    oracle.begin('w2', ['#k3#']).acked(['#k1#']);
    expect(oracle.lost(new Set(['#k2#', '#k3#']))).toEqual([]);
    expect(oracle.lost(new Set(['#k3#'])).map((l) => l.token)).toEqual(['#k2#']);
  });

  it('does not require the tokens of a killed operation, and excuses what it announced', () => {
    const oracle = new Oracle();
    oracle.begin('w1', ['#k1#']).acked([]);
    const killed = oracle.begin('w2', ['#k2#']);
    killed.intent(['#k1#']);
    killed.unknown();
    expect(oracle.lost(new Set())).toEqual([]);
  });

  it('does not excuse what a failed operation announced', () => {
    const oracle = new Oracle();
    oracle.begin('w1', ['#k1#']).acked([]);
    const failed = oracle.begin('w2', ['#k2#']);
    failed.intent(['#k1#']);
    failed.failed();
    expect(oracle.lost(new Set()).map((l) => l.token)).toEqual(['#k1#']);
  });
});

describe('content and generator', () => {
  it('renders every kind so its tokens can be read back, and unions keep both sides', () => {
    for (const path of ['/a.md', '/a.jsonl', '/a.json', '/a.bin']) {
      const kind = kindOf(path);
      const tokens = [token(1), token(2)];
      expect(tokensIn(render(kind, tokens))).toEqual(tokens);
      expect(tokensIn(union(kind, render(kind, [token(1)]), render(kind, [token(3), token(1)])))).toEqual([token(1), token(3)]);
    }
    expect(JSON.parse(Buffer.from(render('json', [token(1)])).toString())).toEqual({ [token(1)]: 0 });
  });

  it('gives the same program for the same seed', () => {
    const shape = { minSteps: 5, maxSteps: 10, weights: DEFAULT_WEIGHTS, maxPaddingBytes: 0 };
    expect(programFor(42, shape)).toEqual(programFor(42, shape));
    expect(programFor(42, shape)).not.toEqual(programFor(43, shape));
  });
});

describe('verifier', () => {
  let dir: string;
  let store: SyncStore;
  let cluster: Cluster;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scopefs-rel-self-'));
    store = await openStore(`sqlite:${join(dir, 'store.db')}`);
    cluster = await Cluster.start(3);
  }, 60_000);

  afterAll(async () => {
    await cluster.shutdown();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  async function run(app: string, sabotage: boolean): Promise<string[]> {
    await cluster.begin({ dir: join(dir, app), store: `sqlite:${join(dir, 'store.db')}`, view: store, app });
    try {
      const oracle = new Oracle();
      await cluster.mutate(0, { kind: 'write', path: '/notes.md', tokens: [token(1)], pick: 0 }, oracle.begin('w1', [token(1)]));
      await cluster.settle();
      if (sabotage) {
        // Replaces the acknowledged token without telling the oracle: exactly what a lost update looks like.
        await cluster.call(1, 'mutate', { mutation: { kind: 'write', path: '/notes.md', tokens: [token(2)], pick: 0 } });
      }
      return (await verifyConvergence(cluster, oracle, store, app)).problems;
    } finally {
      await cluster.end();
    }
  }

  it('passes an honest run', async () => {
    expect(await run('honest', false)).toEqual([]);
  }, 60_000);

  it('reports an acknowledged write that disappeared', async () => {
    const problems = await run('sabotaged', true);
    expect(problems.some((p) => p.startsWith(`LOST ${token(1)}`))).toBe(true);
  }, 60_000);
});
