/**
 * Shared benchmark helpers: timing with percentiles, temp dirs, a polling
 * wait with a deadline, and a uniform result row so `run.ts` can print one
 * table (and its Markdown for docs/benchmarks.md).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Measurement {
  ops: number;
  totalMs: number;
  opsPerSec: number;
  /**
   * This process's CPU time (user and system, every thread) per operation,
   * microseconds: what it spent, not what other processes on a shared
   * machine took from it (measureSequential and measurePipelined).
   */
  cpuUsPerOp?: number;
  /** Per-operation latency percentiles, microseconds (sequential runs only). */
  p50Us?: number;
  p99Us?: number;
}

/** One line of a benchmark report. */
export interface BenchRow {
  bench: string;
  metric: string;
  value: string;
  goal?: string;
  /** Undefined when the row has no goal. */
  pass?: boolean;
}

/** Runs `op` once per index, awaiting each, timing every call. */
export async function measureSequential(
  ops: number,
  op: (i: number) => unknown,
  options: { warmup?: number } = {},
): Promise<Measurement> {
  for (let i = 0; i < (options.warmup ?? Math.min(1000, ops)); i++) await op(i);
  const latencies = new Float64Array(ops);
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < ops; i++) {
    const t = performance.now();
    await op(i);
    latencies[i] = performance.now() - t;
  }
  const totalMs = performance.now() - start;
  const cpuUsPerOp = cpuMicros(cpu) / ops;
  latencies.sort();
  return {
    ops,
    totalMs,
    opsPerSec: (ops / totalMs) * 1000,
    cpuUsPerOp,
    p50Us: percentile(latencies, 0.5) * 1000,
    p99Us: percentile(latencies, 0.99) * 1000,
  };
}

/** Keeps `concurrency` calls in flight until `ops` have completed; throughput only. */
export async function measurePipelined(
  ops: number,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<Measurement> {
  let next = 0;
  const worker = async () => {
    while (next < ops) await op(next++);
  };
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const totalMs = performance.now() - start;
  return { ops, totalMs, opsPerSec: (ops / totalMs) * 1000, cpuUsPerOp: cpuMicros(cpu) / ops };
}

/** CPU microseconds this process spent since `since`. */
function cpuMicros(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.floor(p * sorted.length));
  return sorted[index]!;
}

/** The middle value (the upper one of an even count), for figures read over repeated rounds. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

export const fmt = {
  ops: (m: Measurement) => `${Math.round(m.opsPerSec).toLocaleString('en-US')} ops/s`,
  latency: (m: Measurement) =>
    m.p50Us === undefined ? '' : ` (p50 ${m.p50Us.toFixed(1)} µs, p99 ${m.p99Us!.toFixed(1)} µs)`,
  ratio: (r: number) => `${r.toFixed(2)}×`,
  ms: (ms: number) => `${ms.toFixed(0)} ms`,
  mb: (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`,
};

/** A row describing a throughput measurement. */
export function throughputRow(bench: string, metric: string, m: Measurement): BenchRow {
  return { bench, metric, value: `${fmt.ops(m)}${fmt.latency(m)}` };
}

/** A row with a goal: `value >= min` (or `<= max`) passes. */
export function goalRow(
  bench: string,
  metric: string,
  value: number,
  shown: string,
  goal: { min?: number; max?: number; text: string },
): BenchRow {
  const pass = (goal.min === undefined || value >= goal.min) && (goal.max === undefined || value <= goal.max);
  return { bench, metric, value: shown, goal: goal.text, pass };
}

export function printRows(rows: BenchRow[]): void {
  const cells = rows.map((r) => [r.bench, r.metric, r.value, r.goal ?? '', verdict(r)]);
  const header = ['bench', 'metric', 'value', 'goal', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(header));
  for (const c of cells) console.log(line(c));
}

export function markdownTable(rows: BenchRow[]): string {
  const escape = (s: string) => s.replaceAll('|', '\\|');
  const lines = ['| bench | metric | value | goal | met |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| ${[r.bench, r.metric, r.value, r.goal ?? '', verdict(r)].map(escape).join(' | ')} |`);
  }
  return lines.join('\n');
}

function verdict(row: BenchRow): string {
  if (row.pass === undefined) return '';
  return row.pass ? 'yes' : 'NO';
}

/** Runs `body` with a fresh temp dir, removed afterwards. */
export async function withTempDir<T>(label: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `scopefs-bench-${label}-`));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Polls `condition` until it holds; throws after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Encourages a collection between phases when node runs with --expose-gc. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** True when the module at `moduleUrl` is the program node was started with. */
export function isMain(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(entry).href === moduleUrl;
}

/** Runs a bench module's `run()` and prints its rows when the module is the entry point. */
export async function runIfMain(moduleUrl: string, run: () => Promise<BenchRow[]>): Promise<void> {
  if (!isMain(moduleUrl)) return;
  printRows(await run());
}
