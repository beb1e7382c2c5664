/**
 * Conflict strategies (issue 20): what choosing a path's rule adds to the
 * per-path decision of a sync pass. Baseline: SyncTargets without rules
 * (every path gets the default, as before issue 20) deciding `ruleFor` +
 * `reconcile` for each of 10,000 paths; measured: the same with 20 rules no
 * path matches (the worst case: every rule is tried), and with 20 rules the
 * paths match at the tenth. `cold`: fresh targets every round (the first
 * pass after a start or a config change: every glob is tested); `warm`: the
 * same targets (later passes, which ask again for the same paths and get
 * the remembered rule). Rounds alternate so a noisy neighbour hurts all
 * sides alike; figures are the median round. Goal: warm, 20 rules cost at
 * most 0.5 µs per planned path over the baseline (a pass stats each planned
 * path through the FileSystemServer: tens of µs).
 *
 *   node --import tsx bench/strategies.ts
 */
import { reconcile } from '../src/sync/reconcile.js';
import type { StrategyRule } from '../src/sync/strategies.js';
import { SyncTargets } from '../src/sync/sync-target.js';
import { goalRow, runIfMain, type BenchRow } from './lib.js';

const PATHS = Array.from({ length: 10_000 }, (_, i) => `/notes/project-${i % 50}/day-${i}.md`);
const ROUNDS = 9;

const unmatched: StrategyRule[] = Array.from({ length: 20 }, (_, i) => ({ pattern: `area-${i}/**`, strategy: 'newest' }));
const matchedAtTenth: StrategyRule[] = unmatched.map((rule, i) => (i === 9 ? { pattern: 'notes/**/*.md', strategy: 'manual' } : rule));

function targets(rules: StrategyRule[]): SyncTargets {
  const t = SyncTargets.fromConfigBytes(null, undefined, rules);
  if (t.error) throw new Error(t.error);
  return t;
}

/** ns per path for one round: the rule, then the decision on a both-changed path under it. */
function round(t: SyncTargets): number {
  const start = performance.now();
  let held = 0;
  for (const path of PATHS) {
    const rule = t.ruleFor(path);
    if (reconcile({ hash: 'b' }, { hash: 'a', revision: 1 }, { hash: 'c', revision: 2 }, rule.strategy).action === 'hold') held++;
  }
  const ns = ((performance.now() - start) * 1e6) / PATHS.length;
  if (held > 0) throw new Error('no rule here holds');
  return ns;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const CASES = { none: [] as StrategyRule[], unmatched, tenth: matchedAtTenth };
type Case = keyof typeof CASES;

export async function run(): Promise<BenchRow[]> {
  const warmTargets = Object.fromEntries(Object.entries(CASES).map(([k, rules]) => [k, targets(rules)])) as Record<Case, SyncTargets>;
  const cold: Record<Case, number[]> = { none: [], unmatched: [], tenth: [] };
  const warm: Record<Case, number[]> = { none: [], unmatched: [], tenth: [] };
  for (const t of Object.values(warmTargets)) round(t); // JIT warm-up, and the warm targets learn every path
  for (let i = 0; i < ROUNDS; i++) {
    for (const key of Object.keys(CASES) as Case[]) {
      cold[key].push(round(targets(CASES[key])));
      warm[key].push(round(warmTargets[key]));
    }
  }
  const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs`;
  const rows: BenchRow[] = [];
  for (const [phase, times] of [['cold', cold], ['warm', warm]] as const) {
    const none = median(times.none);
    rows.push({ bench: 'strategies', metric: `${phase}: baseline, no rules (rule + reconcile)`, value: `${us(none)}/path` });
    for (const [key, label] of [['unmatched', '20 rules, none matching'], ['tenth', '20 rules, the 10th matching']] as const) {
      const ns = median(times[key]);
      const shown = `${us(ns)}/path (${(ns / none).toFixed(1)}x the baseline, +${us(ns - none)})`;
      rows.push(phase === 'warm' ? goalRow('strategies', `warm: ${label}`, ns - none, shown, { max: 500, text: '<= +0.5 µs/path' }) : { bench: 'strategies', metric: `cold: ${label}`, value: shown });
    }
  }
  return rows;
}

await runIfMain(import.meta.url, run);
