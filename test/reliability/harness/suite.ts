/**
 * A vitest suite of seeded runs: one test per seed (so a failure names its
 * seed), three worker processes shared by all seeds, and the suite's figures
 * printed at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import type { SyncStore } from '../../../persistence/stores/types.js';
import { Cluster } from './cluster.js';
import { INSTANCES, type ProgramShape } from './model.js';
import { Figures, runSeed, type SeedRunContext } from './seed-run.js';
import { LONG, printFigures } from './settings.js';

export interface StoreUnderTest {
  /** URL the instances open. */
  url: string;
  /** The same store opened in the test process (for inspection). */
  store: SyncStore;
}

export interface SeededSuiteOptions {
  /** Name in the printed figures, e.g. `convergence/sqlite`. */
  name: string;
  /** The test file, for rerun hints. */
  file: string;
  seeds: number[];
  shape: ProgramShape;
  /** Opens the store once for the suite, given a fresh temp directory. */
  openStore: (dir: string) => Promise<StoreUnderTest>;
  /** Run odd seeds with a mix of conflict strategies. */
  mixStrategies?: boolean;
}

const SEED_TIMEOUT_MS = LONG ? 900_000 : 120_000;
/** Time left to describe a stuck run and replace its processes before vitest gives up on the test. */
const REPORT_MARGIN_MS = 20_000;

/** Registers the hooks and one test per seed; call inside a `describe`. */
export function seededRuns(options: SeededSuiteOptions): void {
  const figures = new Figures();
  let context: SeedRunContext | undefined;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scopefs-rel-'));
    const { url, store } = await options.openStore(dir);
    const deadlineMs = SEED_TIMEOUT_MS - REPORT_MARGIN_MS;
    context = {
      cluster: await Cluster.start(INSTANCES),
      storeUrl: url,
      store,
      dir,
      shape: options.shape,
      file: options.file,
      deadlineMs,
      mixStrategies: options.mixStrategies,
    };
  }, 120_000);

  afterAll(async () => {
    if (!context) return;
    printFigures(options.name, figures.asRecord(context.cluster));
    await context.cluster.shutdown();
    await context.store.close();
    await rm(context.dir, { recursive: true, force: true });
  }, 120_000);

  for (const seed of options.seeds) {
    it(`seed ${seed}`, () => runSeed(context!, seed, figures), SEED_TIMEOUT_MS);
  }
}
