/**
 * The audit log's cost on journaled writes: the same updates through a
 * scope on a disk root (journal durability, persistence debounced out of the
 * timed loop) with auditing on and off, in the same run, alternating rounds
 * (and which of a pair goes first) so drift hits both alike. Sequential and pipelined. Goal: at most 1.2x.
 * The ratio is the median of the rounds' own ratios (each off/on pair ran
 * back to back), so a pause of the machine in one round moves one pair, not
 * the figure. The CPU time this process spent per write is reported beside
 * it: other processes on a shared machine move the wall time, not that.
 */
import { join } from 'node:path';
import { startScope } from '../supervisors/scope/scopes.js';
import type { ScopeHandle } from '../src/types.js';
import { median, fmt, goalRow, measurePipelined, measureSequential, runIfMain, throughputRow, withTempDir, type BenchRow, type Measurement } from './lib.js';

const FILES = 100;
const WRITES = 4_000;
const ROUNDS = 15;
const CONCURRENCY = 64;
const contentFor = (i: number) => `# note ${i}\n${'lorem ipsum dolor sit amet '.repeat(37)}\n`; // ~1 KiB

type Kind = 'sequential' | 'pipelined';

async function measure(scope: ScopeHandle, kind: Kind): Promise<Measurement> {
  const pathOf = (i: number) => `/bench/file-${i % FILES}.md`;
  const write = (i: number) => scope.fs.writeFile(pathOf(i), contentFor(i), { actor: 'bench' });
  return kind === 'sequential' ? measureSequential(WRITES, write) : measurePipelined(WRITES, CONCURRENCY, write);
}

/** The best of the rounds (the least disturbed by the rest of the machine), for the absolute figures. */
function best(ms: Measurement[]): Measurement {
  return ms.reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
}

export async function run(): Promise<BenchRow[]> {
  return withTempDir('audit', async (dir) => {
    const on = await startScope({ scopeKey: 'bench-audit-on', root: join(dir, 'on'), debounceMs: 60_000 });
    const off = await startScope({ scopeKey: 'bench-audit-off', root: join(dir, 'off'), debounceMs: 60_000, audit: { enabled: false } });
    try {
      for (const scope of [on, off]) for (let i = 0; i < FILES; i++) await scope.fs.writeFile(`/bench/file-${i}.md`, contentFor(-1));
      const rows: BenchRow[] = [];
      for (const kind of ['sequential', 'pipelined'] as Kind[]) {
        const results = { on: [] as Measurement[], off: [] as Measurement[] };
        for (let round = 0; round < ROUNDS; round++) {
          // Which goes first alternates: the second of a pair inherits the first's garbage and dirty pages.
          if (round % 2 === 0) {
            results.off.push(await measure(off, kind));
            results.on.push(await measure(on, kind));
          } else {
            results.on.push(await measure(on, kind));
            results.off.push(await measure(off, kind));
          }
        }
        const [withAudit, without] = [best(results.on), best(results.off)];
        const ratio = median(results.off.map((off, i) => off.opsPerSec / results.on[i]!.opsPerSec));
        const cpu = median(results.on.map((on, i) => on.cpuUsPerOp! / results.off[i]!.cpuUsPerOp!));
        rows.push(
          throughputRow('audit', `journaled writes, ${kind}, audit off`, without),
          throughputRow('audit', `journaled writes, ${kind}, audit on`, withAudit),
        );
        if (kind === 'sequential') {
          // The median write: on a shared machine, throughput carries other processes' pauses (see p99).
          const p50 = median(results.on.map((on, i) => on.p50Us! / results.off[i]!.p50Us!));
          rows.push(goalRow('audit', 'median write latency, audit on / off (sequential)', p50, fmt.ratio(p50), { max: 1.2, text: '<= 1.20×' }));
          rows.push({ bench: 'audit', metric: 'time per write (throughput), audit on / off (sequential)', value: fmt.ratio(ratio) });
        } else {
          rows.push(goalRow('audit', `time per write, audit on / off (${kind})`, ratio, fmt.ratio(ratio), { max: 1.2, text: '<= 1.20×' }));
        }
        // What this process spent, which the rest of a shared machine does not move.
        rows.push({ bench: 'audit', metric: `CPU time per write, audit on / off (${kind})`, value: `${fmt.ratio(cpu)} (${median(results.on.map((m) => m.cpuUsPerOp!)).toFixed(1)} / ${median(results.off.map((m) => m.cpuUsPerOp!)).toFixed(1)} µs)` });
      }
      const entries = (await on.audit!({ actor: 'bench', limit: 10_000 })).length;
      rows.push({ bench: 'audit', metric: 'entries recorded (newest 10,000 queried)', value: String(entries) });
      return rows;
    } finally {
      await on.stop();
      await off.stop();
    }
  });
}

await runIfMain(import.meta.url, run);
