/**
 * Transactions (issue 13), through a scope on disk (journal durability,
 * SQLite history), against plain calls of the same scope in the same run:
 * - the commit of a 100-file transaction with no conflicts (from the start
 *   of the commit to its answer), with and without the checkpoint that
 *   records it, against 100 plain writes of the same files one after another;
 * - reads and writes inside a transaction against plain ones (goal ≤ 1.5×).
 * Medians of ROUNDS rounds; the plain baseline runs before and after.
 *   node --import tsx bench/transactions.ts
 */
import { join } from 'node:path';
import { startScope } from '../supervisors/scope/scopes.js';
import { median, fmt, goalRow, measureSequential, runIfMain, throughputRow, withTempDir, type BenchRow } from './lib.js';

const FILES = 100;
const ROUNDS = 7;
const OPS = 2_000;

export async function runTransactionsBench(): Promise<BenchRow[]> {
  return withTempDir('transactions', async (dir) => {
    const scope = await startScope({ scopeKey: 'bench-transactions', root: join(dir, 'root'), debounceMs: 60_000 });
    const { fs } = scope;
    const path = (i: number) => `/run/file-${i % FILES}.md`;
    const content = (round: number, i: number) => `round ${round} file ${i}\n${'x'.repeat(200)}`;
    try {
      for (let i = 0; i < FILES; i++) await fs.writeFile(path(i), content(-1, i));
      let round = 0;
      const plainWrites = async () => {
        const started = performance.now();
        round++;
        for (let i = 0; i < FILES; i++) await fs.writeFile(path(i), content(round, i));
        return performance.now() - started;
      };
      const commit = async (checkpoint: boolean) => {
        round++;
        const tx = await scope.transactions.begin({ checkpoint, name: `bench-${round}` });
        for (let i = 0; i < FILES; i++) await tx.fs.writeFile(path(i), content(round, i));
        const started = performance.now();
        const result = await tx.commit();
        if (!result.committed || result.changes.length !== FILES) throw new Error(`the bench commit did not commit ${FILES} files`);
        return performance.now() - started;
      };
      await plainWrites(); // warm-up of both paths
      await commit(false);
      const plain = [];
      const bare = [];
      const checkpointed = [];
      for (let r = 0; r < ROUNDS; r++) {
        plain.push(await plainWrites());
        bare.push(await commit(false));
        checkpointed.push(await commit(true));
      }
      const plainMs = median(plain);
      const bareMs = median(bare);
      const checkpointMs = median(checkpointed);

      const inside = await scope.transactions.begin({ checkpoint: false });
      const plainWrite = await measureSequential(OPS, (i) => fs.writeFile(path(i), `w ${i}`));
      const txWrite = await measureSequential(OPS, (i) => inside.fs.writeFile(path(i), `w ${i}`));
      const plainRead = await measureSequential(OPS, (i) => fs.readFile(path(i)));
      const txRead = await measureSequential(OPS, (i) => inside.fs.readFile(path(i)));
      inside.abort('bench');
      const bench = `transactions: ${FILES}-file commit`;
      const ratio = (a: number, b: number) => fmt.ratio(a / b);
      return [
        { bench, metric: `${FILES} plain writes, one after another (median of ${ROUNDS})`, value: fmt.ms(plainMs) },
        { bench, metric: 'commit, no checkpoint', value: `${fmt.ms(bareMs)} (${ratio(bareMs, plainMs)} the plain writes)` },
        { bench, metric: 'commit with its checkpoint (the default)', value: `${fmt.ms(checkpointMs)} (${ratio(checkpointMs, plainMs)} the plain writes)` },
        throughputRow('transactions: inside vs plain', 'plain writeFile', plainWrite),
        throughputRow('transactions: inside vs plain', 'writeFile inside a transaction', txWrite),
        goalRow('transactions: inside vs plain', 'write time, inside / plain', txWrite.totalMs / plainWrite.totalMs, ratio(txWrite.totalMs, plainWrite.totalMs), { max: 1.5, text: '<= 1.5x' }),
        throughputRow('transactions: inside vs plain', 'plain readFile', plainRead),
        throughputRow('transactions: inside vs plain', 'readFile inside a transaction', txRead),
        goalRow('transactions: inside vs plain', 'read time, inside / plain', txRead.totalMs / plainRead.totalMs, ratio(txRead.totalMs, plainRead.totalMs), { max: 1.5, text: '<= 1.5x' }),
        // The median too: a plain read's total carries the machine's pauses (see its p99), a read inside has no mailbox to wait in.
        goalRow('transactions: inside vs plain', 'median read, inside / plain', txRead.p50Us! / plainRead.p50Us!, ratio(txRead.p50Us!, plainRead.p50Us!), { max: 1.5, text: '<= 1.5x' }),
        goalRow('transactions: inside vs plain', 'median write, inside / plain', txWrite.p50Us! / plainWrite.p50Us!, ratio(txWrite.p50Us!, plainWrite.p50Us!), { max: 1.5, text: '<= 1.5x' }),
      ];
    } finally {
      await scope.stop();
    }
  });
}

await runIfMain(import.meta.url, runTransactionsBench);
