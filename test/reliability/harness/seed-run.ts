/**
 * One seed of the randomized convergence run: generate the program, run it
 * on the cluster, verify, and turn any problem into a failure that names the
 * seed, the way to rerun it, and the program.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { SyncStore } from '../../../persistence/stores/types.js';
import { NoAnswerError, answerWithin, type Cluster } from './cluster.js';
import { describeProgram, name, programFor, strategyMixFor, type ProgramShape } from './model.js';
import { Oracle } from './oracle.js';
import { ProgramRunner } from './runner.js';
import { rerunHint } from './settings.js';
import { verifyConvergence } from './verify.js';

export interface SeedRunContext {
  cluster: Cluster;
  /** Store URL the instances open. */
  storeUrl: string;
  /** The same store, opened in the test process, to inspect its rows. */
  store: SyncStore;
  dir: string;
  shape: ProgramShape;
  /** The test file, for the rerun hint. */
  file: string;
  /** Run odd seeds with a mix of conflict strategies (model.ts strategyMixFor). */
  mixStrategies?: boolean;
  /** A seed still running after this long is reported as stuck (before the test's own timeout). */
  deadlineMs: number;
}

/** Totals over the seeds run, for docs/reliability.md. */
export class Figures {
  seeds = 0;
  operations = 0;
  diskEdits = 0;
  diskEditsOverwritten = 0;
  diskEditsClobbering = 0;
  acknowledged = 0;
  unanswered = 0;
  tokensChecked = 0;
  conflictsResolved = 0;
  resolvedCopies = 0;
  lost = 0;
  selfConflicts = 0;

  asRecord(cluster: Cluster): Record<string, number> {
    const { seeds, operations, diskEdits, diskEditsOverwritten, diskEditsClobbering, acknowledged, unanswered, tokensChecked, conflictsResolved, resolvedCopies, lost, selfConflicts } = this;
    return { seeds, operations, diskEdits, diskEditsOverwritten, diskEditsClobbering, acknowledged, unanswered, tokensChecked, conflictsResolved, resolvedCopies, lost, selfConflicts, ...cluster.counters };
  }
}

export async function runSeed(context: SeedRunContext, seed: number, figures: Figures): Promise<void> {
  const { cluster, shape } = context;
  const program = programFor(seed, shape);
  const app = `seed-${seed}-${randomBytes(3).toString('hex')}`;
  const oracle = new Oracle();
  const problems: string[] = [];
  const conflictStrategies = context.mixStrategies ? strategyMixFor(seed) : [];
  await cluster.begin({ dir: join(context.dir, app), store: context.storeUrl, view: context.store, app, conflictStrategies });
  const runner = new ProgramRunner(cluster, oracle);
  const runAndVerify = async (): Promise<void> => {
    await runner.run(program);
    const verdict = await verifyConvergence(cluster, oracle, context.store, app, conflictStrategies);
    problems.push(...verdict.problems);
    if (verdict.problems.some((p) => p.startsWith('LOST'))) problems.push(...(await diskTimes(cluster, runner)));
    figures.conflictsResolved += verdict.conflictsResolved;
    figures.resolvedCopies += verdict.resolvedCopies;
  };
  try {
    await answerWithin(runAndVerify(), context.deadlineMs);
  } catch (err) {
    problems.push(`run aborted: ${err instanceof Error ? err.stack : String(err)}`);
    if (err instanceof NoAnswerError) {
      // Stuck: say where, then replace the processes so the next seeds start clean.
      runner.abort();
      problems.push(`stuck after step ${runner.stepsDone} of ${program.length}:\n${await cluster.describeInstances()}`);
      await cluster.killAll();
    }
  } finally {
    figures.operations += runner.operations;
    figures.diskEdits += runner.diskEdits;
    figures.diskEditsOverwritten += runner.diskEditsOverwritten;
    figures.diskEditsClobbering += runner.diskEditsClobbering;
    problems.push(...(await cluster.end()));
  }
  const counts = oracle.counts();
  figures.seeds++;
  figures.acknowledged += counts.acked;
  figures.unanswered += counts.unknown;
  figures.tokensChecked += counts.requiredTokens;
  figures.lost += problems.filter((p) => p.startsWith('LOST')).length;
  figures.selfConflicts += problems.filter((p) => p.startsWith('SELF-CONFLICT')).length;
  if (problems.length > 0) {
    throw new Error(
      [
        `seed ${seed} failed (${rerunHint(context.file, seed)})`,
        ...problems,
        ...(conflictStrategies.length > 0 ? [`conflict strategies: ${JSON.stringify(conflictStrategies)}`] : []),
        'program:',
        describeProgram(program),
      ].join('\n'),
    );
  }
}

/** The disk edits' windows and every instance's own disk writes, on one clock: whether a save and a persist crossed. */
async function diskTimes(cluster: Cluster, runner: ProgramRunner): Promise<string[]> {
  const lines = [`disk edits (CLOCK_MONOTONIC ns):\n    ${runner.diskEditTimes.join('\n    ') || '(none)'}`];
  for (let i = 0; i < cluster.size; i++) {
    const writes = await cluster.call<string[]>(i, 'diskWrites').catch((err: Error) => [err.message]);
    lines.push(`${name(i)} disk writes:\n    ${writes.slice(-60).join('\n    ') || '(none)'}`);
  }
  return lines;
}
