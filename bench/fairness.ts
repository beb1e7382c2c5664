/**
 * The turn budget (issue 21): what it costs a caller that awaits writeFile
 * (journal mode, DiskDriver, as in production) or a fast-path readFile in a
 * tight loop, and what it gives everything else: the event loop's delay
 * (`perf_hooks.monitorEventLoopDelay`) while the loop runs. The baseline
 * switches the budget off with `setTurnBudgetMs(Infinity)`, which exists
 * for this measurement only. Rounds alternate (off, on, off, on, ...) so a
 * noisy neighbour hurts both sides alike; the throughput is the median
 * round. Goals: the budget costs at most 10% of the loop's throughput, and
 * the event loop's delay p99 is at most 20 ms.
 *
 *   node --import tsx bench/fairness.ts
 *   FAIRNESS_BUDGETS=1,2,4,8 node --import tsx bench/fairness.ts   # other budgets too
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DiskDriver } from '../persistence/drivers/disk.js';
import { FileSystemServer } from '../src/fs/file-system-server.js';
import { TURN_BUDGET_MS, setTurnBudgetMs } from '../supervisors/runtime/turn-budget.js';
import { median, fmt, goalRow, runIfMain, withTempDir, type BenchRow } from './lib.js';

const FILES = 100;
const ROUNDS = 7;
const ROUND_MS = 600;

/**
 * monitorEventLoopDelay samples the loop with a timer of this period; its
 * values include the period, which is subtracted. 1 ms: one sample per turn.
 */
const DELAY_RESOLUTION_MS = 1;
const contentFor = (i: number) => `# note ${i}\n${'lorem ipsum dolor sit amet '.repeat(37)}\n`; // ~1 KiB
const paths = Array.from({ length: FILES }, (_, i) => `/bench/file-${i}.md`);

type Loop = 'write' | 'read';


export interface FairnessFigures {
  budgetMs: number;
  loop: Loop;
  fsync: boolean;
  offOpsPerSec: number;
  onOpsPerSec: number;
  /** Calls per second of CPU time the process used: what a turn costs, whatever the neighbours take. */
  offOpsPerCpuSec: number;
  onOpsPerCpuSec: number;
  /** The event loop's delay p99 with the budget on: of the median round, and of the worst one. */
  delayP99Ms: number;
  worstDelayP99Ms: number;
  delayMaxMs: number;
  /** The longest turn of a round without the budget (a round with no turn at all: the whole round). */
  offLongestTurnMs: number;
}

export async function run(): Promise<BenchRow[]> {
  const budgets = (process.env.FAIRNESS_BUDGETS ?? String(TURN_BUDGET_MS)).split(',').map(Number);
  // The delay figures are only as good as the machine is quiet: say how busy it was.
  const rows: BenchRow[] = [{ bench: 'fairness', metric: 'load average at the start (1 min)', value: loadavg()[0]!.toFixed(2) }];
  for (const budgetMs of budgets) {
    for (const [loop, fsync] of [['write', false], ['read', false], ['write', true]] as const) {
      rows.push(...rowsOf(await measure(budgetMs, loop, fsync)));
    }
  }
  return rows;
}

/** Alternating rounds with the budget off and at `budgetMs`, on a fresh server. */
export async function measure(budgetMs: number, loop: Loop, fsync: boolean): Promise<FairnessFigures> {
  return withTempDir('fairness', async (dir) => {
    const server = await FileSystemServer.start({
      configs: [{ base: '/', default: true, driver: new DiskDriver({ root: join(dir, 'root') }) }],
      durability: 'journal',
      journalPath: join(dir, 'journal'),
      fsyncJournal: fsync,
      // Persistence out of the timed loop (stop() flushes): a starved loop would never run its
      // timers, so with them the two sides would not do the same work.
      debounceMs: 60_000,
    });
    try {
      for (const path of paths) await server.writeFile(path, contentFor(-1));
      await roundOf(server, loop, 200); // warm-up, budget on
      const off: Round[] = [];
      const on: Round[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        setTurnBudgetMs(Number.POSITIVE_INFINITY);
        off.push(await roundOf(server, loop, ROUND_MS));
        setTurnBudgetMs(budgetMs);
        on.push(await roundOf(server, loop, ROUND_MS));
      }
      return {
        budgetMs,
        loop,
        fsync,
        offOpsPerSec: median(off.map((r) => r.opsPerSec)),
        onOpsPerSec: median(on.map((r) => r.opsPerSec)),
        offOpsPerCpuSec: median(off.map((r) => r.opsPerCpuSec)),
        onOpsPerCpuSec: median(on.map((r) => r.opsPerCpuSec)),
        delayP99Ms: median(on.map((r) => r.delayP99Ms)),
        worstDelayP99Ms: Math.max(...on.map((r) => r.delayP99Ms)),
        delayMaxMs: Math.max(...on.map((r) => r.delayMaxMs)),
        offLongestTurnMs: Math.max(...off.map((r) => r.delayMaxMs)),
      };
    } finally {
      setTurnBudgetMs(TURN_BUDGET_MS);
      await server.stop();
    }
  });
}

interface Round {
  opsPerSec: number;
  opsPerCpuSec: number;
  delayP99Ms: number;
  /** A round with no turn at all: the whole round. */
  delayMaxMs: number;
}

/** One tight loop of awaited calls for `ms`, with the event loop's delay recorded meanwhile. */
async function roundOf(server: FileSystemServer, loop: Loop, ms: number): Promise<Round> {
  await new Promise((resolve) => setTimeout(resolve, 20)); // persist timers and the like get their turn between rounds
  // A fresh monitor per round: a re-enabled one counts the time it was off as one long delay.
  const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
  delay.enable();
  // A monitor records nothing until its timer first fires: let it, then start afresh.
  await new Promise((resolve) => setTimeout(resolve, 3 * DELAY_RESOLUTION_MS));
  delay.reset();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  let ops = 0;
  if (loop === 'write') {
    while (performance.now() < end) await server.writeFile(paths[ops % FILES]!, contentFor(ops++));
  } else {
    while (performance.now() < end) await server.readFile(paths[ops++ % FILES]!);
  }
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  delay.disable();
  const stalled = delay.count === 0; // the monitor's timer never ran
  const toMs = (ns: number) => ns / 1e6 - DELAY_RESOLUTION_MS;
  return {
    opsPerSec: (ops / elapsed) * 1000,
    opsPerCpuSec: (ops / (cpu.user + cpu.system)) * 1e6,
    delayP99Ms: stalled ? elapsed : toMs(delay.percentile(99)),
    delayMaxMs: stalled ? elapsed : toMs(delay.max),
  };
}

function rowsOf(f: FairnessFigures): BenchRow[] {
  const what = `${f.loop}File loop${f.loop === 'write' ? (f.fsync ? ', fsync each record' : ', journal') : ', loaded file'}, budget ${f.budgetMs} ms`;
  const ops = (n: number) => `${Math.round(n).toLocaleString('en-US')} ops/s`;
  const ratioRow = (metric: string, ratio: number): BenchRow =>
    // With an fsync per record the disk sets the pace, not the budget: shown, no goal.
    f.fsync
      ? { bench: 'fairness', metric: `${what}: ${metric}`, value: fmt.ratio(ratio) }
      : goalRow('fairness', `${what}: ${metric}`, ratio, fmt.ratio(ratio), { min: 0.9, text: '≥ 0.90×' });
  const delay = `${f.delayP99Ms.toFixed(1)} ms (${f.worstDelayP99Ms.toFixed(1)} ms; ${f.delayMaxMs.toFixed(1)} ms)`;
  return [
    { bench: 'fairness', metric: `${what}: throughput without / with the budget`, value: `${ops(f.offOpsPerSec)} / ${ops(f.onOpsPerSec)}` },
    ratioRow('with / without', f.onOpsPerSec / f.offOpsPerSec),
    // Robust to neighbours taking the CPU: calls per second of CPU time this process got.
    ratioRow('with / without, per CPU second', f.onOpsPerCpuSec / f.offOpsPerCpuSec),
    goalRow('fairness', `${what}: event-loop delay p99, median round (worst round; max)`, f.delayP99Ms, delay, { max: 20, text: '≤ 20 ms' }),
    { bench: 'fairness', metric: `${what}: without the budget, the longest turn`, value: fmt.ms(f.offLongestTurnMs) },
  ];
}

await runIfMain(import.meta.url, run);
