/**
 * kill -9 at random moments: seeded programs where SIGKILL is frequent and
 * lands between operations, inside bursts of writes (some acknowledged, one
 * in the middle of its journal append, writes of up to 2 MiB so the append
 * takes a while) and while another instance's write is being pulled. After
 * each kill a new process reopens the root; at the end nothing acknowledged
 * may be missing and all instances converge. See docs/reliability.md.
 */
import { join } from 'node:path';
import { describe } from 'vitest';
import { openStore } from '../../persistence/open-store.js';
import type { ProgramShape } from './harness/model.js';
import { LONG, seeds } from './harness/settings.js';
import { seededRuns } from './harness/suite.js';

const SHAPE: ProgramShape = {
  minSteps: LONG ? 20 : 6,
  maxSteps: LONG ? 80 : 14,
  weights: { ops: 6, sync: 2, crashSync: 0, partition: 0, kill: 4, resolve: 0 },
  maxPaddingBytes: 2 * 1024 * 1024,
};

describe('kill -9 at random moments: 3 processes on one SQLite store', () => {
  seededRuns({
    name: 'kill9/sqlite',
    file: 'test/reliability/kill9.test.ts',
    seeds: seeds(20, 300, 50_001),
    shape: SHAPE,
    openStore: async (dir) => {
      const url = `sqlite:${join(dir, 'store.db')}`;
      return { url, store: await openStore(url) };
    },
  });
});
