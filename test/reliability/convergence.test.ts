/**
 * Randomized convergence: three instances in separate processes on one store
 * run a seeded program of concurrent writes, edits, appends, deletes and
 * moves on overlapping paths, with partitions, sync actor crashes and
 * SIGKILLs, then must converge without losing acknowledged data. Odd seeds
 * run with a mix of conflict strategies, one per path group, and the oracle
 * checks each kept the side its strategy must keep (harness/verify.ts). SQLite
 * always; PostgreSQL when the test server is there (test/helpers/postgres.ts).
 * A failure prints its seed and how to rerun it. See docs/reliability.md.
 */
import { join } from 'node:path';
import { describe } from 'vitest';
import { openStore } from '../../persistence/stores/open-store.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { DEFAULT_WEIGHTS, type ProgramShape } from './harness/model.js';
import { LONG, seeds } from './harness/settings.js';
import { seededRuns } from './harness/suite.js';


const FILE = 'test/reliability/convergence.test.ts';
const SHAPE: ProgramShape = LONG
  ? { minSteps: 20, maxSteps: 120, weights: DEFAULT_WEIGHTS, maxPaddingBytes: 256 * 1024 }
  : { minSteps: 6, maxSteps: 24, weights: DEFAULT_WEIGHTS, maxPaddingBytes: 0 };

describe('randomized convergence: 3 processes on one SQLite store', () => {
  seededRuns({
    name: 'convergence/sqlite',
    file: FILE,
    seeds: seeds(100, 2_000),
    shape: SHAPE,
    mixStrategies: true,
    openStore: async (dir) => {
      const url = `sqlite:${join(dir, 'store.db')}`;
      return { url, store: await openStore(url) };
    },
  });
});

describePostgres('randomized convergence: 3 processes on one PostgreSQL store', () => {
  const db = useTestDatabase('rel_conv');
  seededRuns({
    name: 'convergence/postgres',
    file: FILE,
    // Another range than SQLite's, so the two stores do not run the same programs.
    seeds: seeds(40, 1_000, 100_001),
    shape: SHAPE,
    mixStrategies: true,
    openStore: async () => ({ url: db.url, store: await openStore(db.url) }),
  });
});
