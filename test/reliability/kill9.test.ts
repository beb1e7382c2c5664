/**
 * kill -9 at random moments: seeded programs where SIGKILL is frequent and
 * lands between operations, inside bursts of writes (some acknowledged, one
 * in the middle of its journal append, writes of up to 2 MiB so the append
 * takes a while) and while another instance's write is being pulled. After
 * each kill a new process reopens the root; at the end nothing acknowledged
 * may be missing, no instance may be in conflict with its own push, and all
 * instances converge. SQLite always; PostgreSQL when the test server is there.
 *
 * Then the exact moment random kills rarely hit: SIGKILL after the store
 * committed a push and before the engine recorded it, with the file changed
 * (or deleted, or moved) again in between. See docs/reliability.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../persistence/stores/open-store.js';
import type { SyncStore } from '../../persistence/stores/types.js';
import type { Mutation } from './fixtures/mutations.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { Cluster } from './harness/cluster.js';
import { token } from './harness/content.js';
import type { ProgramShape } from './harness/model.js';
import { Oracle } from './harness/oracle.js';
import { LONG, printFigures, seeds } from './harness/settings.js';
import { seededRuns } from './harness/suite.js';
import { verifyConvergence } from './harness/verify.js';


const FILE = 'test/reliability/kill9.test.ts';
const SHAPE: ProgramShape = {
  minSteps: LONG ? 20 : 6,
  maxSteps: LONG ? 80 : 14,
  weights: { ops: 6, sync: 2, crashSync: 0, partition: 0, kill: 4, resolve: 0 },
  maxPaddingBytes: 2 * 1024 * 1024,
};

describe('kill -9 at random moments: 3 processes on one SQLite store', () => {
  seededRuns({
    name: 'kill9/sqlite',
    file: FILE,
    seeds: seeds(20, 300, 50_001),
    shape: SHAPE,
    openStore: async (dir) => {
      const url = `sqlite:${join(dir, 'store.db')}`;
      return { url, store: await openStore(url) };
    },
  });
});

describePostgres('kill -9 at random moments: 3 processes on one PostgreSQL store', () => {
  const db = useTestDatabase('rel_kill9');
  seededRuns({
    name: 'kill9/postgres',
    file: FILE,
    // Another range than SQLite's, so the two stores do not run the same programs.
    seeds: seeds(10, 150, 150_001),
    shape: SHAPE,
    openStore: async () => ({ url: db.url, store: await openStore(db.url) }),
  });
});

/** One kill after the store's commit: `change` is pushed and committed, `then` runs before the SIGKILL. */
interface CommitKillCase {
  name: string;
  /** Synced on both instances first. */
  setup: Mutation[];
  change: Mutation;
  then: Mutation[];
}

const write = (path: string, ...n: number[]): Mutation => ({ kind: 'write', path, tokens: n.map(token), pick: 0 });
const append = (path: string, ...n: number[]): Mutation => ({ kind: 'append', path, tokens: n.map(token), pick: 0 });

const COMMIT_KILL_CASES: CommitKillCase[] = [
  { name: 'an edit, the file unchanged since', setup: [write('/notes.md', 1)], change: append('/notes.md', 2), then: [] },
  { name: 'an edit, then another edit', setup: [write('/notes.md', 1)], change: append('/notes.md', 2), then: [append('/notes.md', 3)] },
  { name: 'a JSON edit, then another', setup: [write('/state.json', 1)], change: write('/state.json', 1, 2), then: [write('/state.json', 1, 2, 3)] },
  { name: 'a new file, then an edit', setup: [], change: write('/new.md', 1), then: [append('/new.md', 2)] },
  { name: 'a new binary file, then a rewrite', setup: [], change: write('/blob.bin', 1), then: [write('/blob.bin', 1, 2)] },
  { name: 'a delete, then the file written again with its old content', setup: [write('/gone.md', 1)], change: { kind: 'delete', path: '/gone.md', tokens: [], pick: 0 }, then: [write('/gone.md', 1)] },
  {
    name: 'a move, then an edit at the new path',
    setup: [write('/docs/notes.md', 1)],
    change: { kind: 'move', path: '/docs/notes.md', to: '/docs/todo.md', tokens: [], pick: 0 },
    then: [append('/docs/todo.md', 2)],
  },
];

function commitKillSuite(storeName: string, open: (dir: string) => Promise<{ url: string; store: SyncStore }>): void {
  let cluster: Cluster;
  let dir: string;
  let url: string;
  let store: SyncStore;
  const figures = { kills: 0, selfConflicts: 0, problems: 0 };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scopefs-rel-k9c-'));
    ({ url, store } = await open(dir));
    cluster = await Cluster.start(2);
  }, 60_000);

  afterAll(async () => {
    printFigures(`kill9-after-commit/${storeName}`, figures);
    await cluster?.shutdown();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  for (const [n, testCase] of COMMIT_KILL_CASES.entries()) {
    it(testCase.name, async () => {
      const app = `k9c-${n}-${Date.now()}`;
      const oracle = new Oracle();
      let ops = 0;
      const mutate = (i: number, m: Mutation) => cluster.mutate(i, m, oracle.begin(`op${++ops} ${m.kind} ${m.path}`, m.tokens));
      await cluster.begin({ dir: join(dir, app), store: url, view: store, app });
      try {
        for (const m of testCase.setup) await mutate(0, m);
        await cluster.settle();
        await cluster.call(0, 'fault', { fault: { mode: 'hang-after-push' } });
        const hung = cluster.call(0, 'whenPushHangs');
        await mutate(0, testCase.change);
        await hung; // the store has committed the push; its outcome never reaches the engine
        for (const m of testCase.then) await mutate(0, m);
        await cluster.kill(0);
        figures.kills++;
        await cluster.restart(0);
        const { problems } = await verifyConvergence(cluster, oracle, store, app);
        figures.selfConflicts += problems.filter((p) => p.startsWith('SELF-CONFLICT')).length;
        figures.problems += problems.length;
        expect(problems).toEqual([]);
      } finally {
        await cluster.end();
      }
    }, 120_000);
  }
}

describe('SIGKILL between the store commit and the local commit (SQLite)', () => {
  commitKillSuite('sqlite', async (dir) => {
    const url = `sqlite:${join(dir, 'store.db')}`;
    return { url, store: await openStore(url) };
  });
});

describePostgres('SIGKILL between the store commit and the local commit (PostgreSQL)', () => {
  const db = useTestDatabase('rel_kill9c');
  commitKillSuite('postgres', async () => ({ url: db.url, store: await openStore(db.url) }));
});
