/**
 * Locks on the write path (issue 14, Locks): an uncontended lock + write +
 * unlock of a small file against a plain write of the same file, in the
 * same run, through a scope's `fs` (journal durability, on disk). Also a
 * plain write while 100 unrelated locks are held (the check every planned
 * change pays), and a write presenting its token.
 * Baseline (plain write) first and last: the spread between the two is the noise of this machine.
 *   node --import tsx bench/locks.ts
 *   LOCKS_OPS=2000 (the default)
 * Then the same through PostgreSQL: a scope syncing to a scratch database of
 * SCOPEFS_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * whose locks live in the store (lock, the token check of the write, unlock:
 * three round trips), against a plain write of that scope. LOCKS_PG=0 skips it.
 * Last, the lock window (bench/lock-window.ts): a lock taken elsewhere → the mirror holds it.
 */
import { join } from 'node:path';
import type { FileLocks } from '../src/coordination/locks.js';
import { startScope } from '../supervisors/scope/scopes.js';
import { withScratchDatabase } from './pg-scratch.js';
import { run as lockWindow } from './lock-window.js';
import { fmt, measureSequential, runIfMain, throughputRow, withTempDir, type BenchRow, type Measurement } from './lib.js';

const OPS = Number(process.env.LOCKS_OPS ?? 2_000);
const WARMUP = 200;
const PG_OPS = Number(process.env.LOCKS_PG_OPS ?? 500);

export async function run(): Promise<BenchRow[]> {
  return withTempDir('locks', async (dir) => {
    const scope = await startScope({ scopeKey: 'bench-locks', root: join(dir, 'root'), debounceMs: 60_000 });
    const fs = scope.fs;
    const locks = scope.locks as FileLocks;
    const path = (i: number) => `/notes/f${i % 50}.md`;
    try {
      const plain = () => measureSequential(OPS, async (i) => void (await fs.writeFile(path(i), `line ${i}\n`)), { warmup: WARMUP });
      await plain(); // warms the write path (JIT, journal file): the first pass runs measurably slower
      const base = await plain();
      const locked = await measureSequential(OPS, async (i) => {
        const { token } = await locks.lock(path(i), { ttlMs: 10_000, owner: 'bench' });
        await fs.writeFile(path(i), `line ${i}\n`, { lockToken: token });
        await locks.unlock(token);
      }, { warmup: WARMUP });
      const held = await locks.lock('/notes/f0.md', { ttlMs: 600_000, owner: 'bench' });
      const withToken = await measureSequential(OPS, async (i) => void (await fs.writeFile('/notes/f0.md', `line ${i}\n`, { lockToken: held.token })), { warmup: WARMUP });
      await locks.unlock(held.token);
      const others = await Promise.all(Array.from({ length: 100 }, (_, i) => locks.lock(`/elsewhere/p${i}`, { ttlMs: 600_000, owner: 'bench' })));
      const besideLocks = await plain();
      for (const grant of others) await locks.unlock(grant.token);
      const baseAgain = await plain();
      const rows: BenchRow[] = [];
      const runs: Array<[string, Measurement]> = [
        ['plain write (baseline)', base],
        ['lock + write + unlock', locked],
        ['write presenting a held token', withToken],
        ['plain write beside 100 unrelated locks', besideLocks],
        ['plain write (baseline, again)', baseAgain],
      ];
      for (const [label, m] of runs) rows.push(throughputRow('locks', label, m));
      const baseP50 = (base.p50Us! + baseAgain.p50Us!) / 2;
      rows.push({ bench: 'locks', metric: 'p50, lock + write + unlock / plain write', value: fmt.ratio(locked.p50Us! / baseP50) });
      rows.push({ bench: 'locks', metric: 'p50, write with token / plain write', value: fmt.ratio(withToken.p50Us! / baseP50) });
      rows.push({ bench: 'locks', metric: 'p50, write beside 100 locks / plain write', value: fmt.ratio(besideLocks.p50Us! / baseP50) });
      if (process.env.LOCKS_PG !== '0') rows.push(...(await throughPostgres(join(dir, 'pg-root'))));
      rows.push(...(await lockWindow())); // how long a lock taken elsewhere takes to reach a mirror, timer vs hints
      return rows;
    } finally {
      await scope.stop();
    }
  });
}

/** Uncontended lock + write + unlock with the locks in PostgreSQL, against a plain write of the same syncing scope. */
async function throughPostgres(root: string): Promise<BenchRow[]> {
  return withScratchDatabase('locks', async (url) => {
    const scope = await startScope({ scopeKey: 'bench-locks-pg', root, debounceMs: 60_000, sync: { store: url, app: 'bench-locks' } });
    const locks = scope.locks as FileLocks;
    const path = (i: number) => `/notes/f${i % 50}.md`;
    try {
      const plain = () => measureSequential(PG_OPS, async (i) => void (await scope.fs.writeFile(path(i), `line ${i}\n`)), { warmup: 50 });
      await plain();
      const base = await plain();
      const locked = await measureSequential(PG_OPS, async (i) => {
        const { token } = await locks.lock(path(i), { ttlMs: 10_000, owner: 'bench' });
        await scope.fs.writeFile(path(i), `line ${i}\n`, { lockToken: token });
        await locks.unlock(token);
      }, { warmup: 50 });
      const baseAgain = await plain();
      const baseP50 = (base.p50Us! + baseAgain.p50Us!) / 2;
      return [
        throughputRow('locks', 'PostgreSQL: plain write (baseline)', base),
        throughputRow('locks', 'PostgreSQL: lock + write + unlock', locked),
        throughputRow('locks', 'PostgreSQL: plain write (baseline, again)', baseAgain),
        { bench: 'locks', metric: 'p50, PostgreSQL lock + write + unlock / plain write', value: fmt.ratio(locked.p50Us! / baseP50) },
      ];
    } finally {
      await scope.stop();
    }
  });
}

await runIfMain(import.meta.url, run);
