/**
 * Load through a database fault: seeded operations run on every instance
 * before, during and after a fault window; then the instances must converge
 * without losing acknowledged data. Reports how long operations took while
 * the database was unusable (the filesystem must keep serving) and which sync
 * states each instance went through (it must notice and say so).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Cluster } from './cluster.js';
import { programFor, name, type Step } from './model.js';
import { Oracle } from './oracle.js';
import { ProgramRunner } from './runner.js';
import { verifyConvergence } from './verify.js';
import type { SyncStore } from '../../../persistence/stores/types.js';

export interface FaultWindowOptions {
  cluster: Cluster;
  view: SyncStore;
  app: string;
  seed: number;
  /** How long the fault lasts. */
  holdMs: number;
  /** Starts the fault; resolves once it is in effect, with a function that ends it. */
  inject: () => Promise<() => Promise<void>>;
}

export interface FaultWindowReport {
  opsDuringFault: number;
  maxLatencyDuringFaultMs: number;
  /** Sync states each instance entered, by instance name. */
  states: Record<string, string[]>;
  problems: string[];
  acknowledged: number;
}

/** Operations only: a sync point would wait forever while the store is down. */
const LOAD_SHAPE = {
  minSteps: 400,
  maxSteps: 400,
  weights: { ops: 1, sync: 0, crashSync: 0, partition: 0, kill: 0, resolve: 0 },
  maxPaddingBytes: 0,
};
const WARM_UP_STEPS = 5;
/** Paces the load so the files stay small; this is load shaping, not waiting for an event. */
const STEP_INTERVAL_MS = 25;

export async function loadThroughFault(options: FaultWindowOptions): Promise<FaultWindowReport> {
  const { cluster, holdMs } = options;
  const program = programFor(options.seed, LOAD_SHAPE);
  const oracle = new Oracle();
  const runner = new ProgramRunner(cluster, oracle);
  let next = 0;
  const step = (): Promise<void> => runner.step(program[next++ % program.length] as Step);

  for (let i = 0; i < WARM_UP_STEPS; i++) await step();
  await cluster.settle();
  const end = await options.inject();
  const before = runner.latencies.length;
  const until = Date.now() + holdMs;
  while (Date.now() < until) {
    await step();
    await delay(STEP_INTERVAL_MS);
  }
  const during = runner.latencies.slice(before);
  await end();
  for (let i = 0; i < WARM_UP_STEPS; i++) await step();

  const states: Record<string, string[]> = {};
  for (let i = 0; i < cluster.size; i++) states[name(i)] = await cluster.call<string[]>(i, 'states');
  const verdict = await verifyConvergence(cluster, oracle, options.view, options.app);
  return {
    opsDuringFault: during.length,
    maxLatencyDuringFaultMs: Math.round(Math.max(0, ...during)),
    states,
    problems: verdict.problems,
    acknowledged: oracle.counts().acked,
  };
}
