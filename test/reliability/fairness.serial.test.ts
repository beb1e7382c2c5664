/**
 * Issue 21: a busy caller never starves the process. A tight `await
 * writeFile` (or `readFile`) loop runs for 3 s in a child process beside a
 * 10 ms interval, a second scope writing every 20 ms and an HTTP server of
 * a third scope; this process asks that server for `GET /v1/status` all
 * along. Without a turn budget every call resolves through microtasks only
 * and none of them gets a turn until the loop ends.
 *
 * Serial: its bounds are shares of the wall clock (80% of the interval's
 * ticks, 50 ms p99), which only a process given most of a core can keep; the
 * parallel phase's other test files on two cores take that away.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO } from '../cli/helpers.js';
import type { AckLine, AckWriterConfig } from './fixtures/ack-writer.js';
import type { BusyProcessConfig, BusyProcessReport } from './fixtures/busy-process.js';

const BUSY = fileURLToPath(new URL('./fixtures/busy-process.ts', import.meta.url));
const ACK_WRITER = fileURLToPath(new URL('./fixtures/ack-writer.ts', import.meta.url));
const DURATION_MS = 3_000;
const INTERVAL_MS = 10;
const QUIET_WRITE_EVERY_MS = 20;
const STATUS_PAUSE_MS = 10;
const READER_PAUSE_MS = 300;

/**
 * The roots go on a memory filesystem where there is one: what is measured
 * is how the event loop is shared, and on this machine's shared disk a tight
 * write loop's own writeback stalls every write system call of the process
 * for 50-400 ms now and then (an fsync of a journal rewrite or a WAL
 * checkpoint waits behind it), which is the disk's latency, not starvation.
 */
const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('a busy caller does not starve the process', () => {
  for (const loop of ['write', 'read'] as const) {
    it(`a tight ${loop}File loop leaves timers, another scope and HTTP their turns`, async () => {
      const { report, statusMs } = await runWithCpu(loop);
      const loopMs = Number(BigInt(report.loopEndNs) - BigInt(report.loopStartNs)) / 1e6;
      const figures = {
        calls: report.calls,
        intervalShare: report.intervalTicks / (loopMs / INTERVAL_MS),
        quietWriteP99Ms: p99(report.quietWriteMs),
        statusP99Ms: p99(statusMs),
        statusRequests: statusMs.length,
        loopDelayP99Ms: report.loopDelayP99Ms,
        cpuShare: report.cpuShare, // not asserted: how much of a core the process got
      };
      console.log(`fairness (${loop} loop):`, JSON.stringify(figures));
      expect(report.calls).toBeGreaterThan(1000); // the loop really was busy
      expect(figures.intervalShare).toBeGreaterThanOrEqual(0.8);
      expect(figures.quietWriteP99Ms).toBeLessThan(50);
      expect(figures.statusP99Ms).toBeLessThan(50);
      expect(figures.loopDelayP99Ms).toBeLessThan(50);
    }, 180_000);
  }
});

describe('a child process acknowledging each write on a pipe', () => {
  it('keeps its output flowing and its memory flat', async () => {
    const root = await mkdtemp(join(SCRATCH, 'scopefs-acks-'));
    cleanup.push(() => rm(root, { recursive: true, force: true }));
    const config: AckWriterConfig = { root, durationMs: DURATION_MS };
    const child = spawn(process.execPath, ['--import', 'tsx', ACK_WRITER, JSON.stringify(config)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => stopChild(child));
    const samples: Array<{ rssMiB: number; queuedBytes: number; writtenNs: bigint; lagMs: number }> = [];
    let acks = 0;
    let outOfOrder = 0;
    let done = false;
    // A reader that falls behind for a moment, as any reader may: the pipe fills and the
    // child's lines queue in its memory until its event loop gets a turn to write them.
    child.stdout!.once('data', () => {
      child.stdout!.pause();
      setTimeout(() => child.stdout!.resume(), READER_PAUSE_MS);
    });
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const arrivedNs = process.hrtime.bigint();
      const line = JSON.parse(text) as AckLine | { done: true };
      if ('done' in line) return void (done = true);
      if (line.ack !== acks) outOfOrder++;
      acks++;
      if (line.atNs === undefined) return;
      const writtenNs = BigInt(line.atNs);
      samples.push({ rssMiB: line.rss! / 2 ** 20, queuedBytes: line.queuedBytes!, writtenNs, lagMs: Number(arrivedNs - writtenNs) / 1e6 });
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(done).toBe(true);
    expect(outOfOrder).toBe(0);
    // From one second on (the reader caught up long before), lines written must arrive.
    const oneSecondIn = samples[0]!.writtenNs + 1_000_000_000n;
    const later = samples.filter((s) => s.writtenNs >= oneSecondIn);
    const figures = {
      acks,
      maxLagMs: Math.max(...later.map((s) => s.lagMs)),
      maxQueuedKiB: Math.max(...later.map((s) => s.queuedBytes)) / 1024,
      rssAtOneSecondMiB: later[0]!.rssMiB,
      rssGrowthAfterMiB: Math.max(...later.map((s) => s.rssMiB)) - later[0]!.rssMiB,
    };
    console.log('fairness (acknowledging child):', JSON.stringify(figures));
    expect(acks).toBeGreaterThan(1000); // the loop really was busy
    // Each line arrived soon after it was written, not when the loop ended.
    expect(figures.maxLagMs).toBeLessThan(500);
    // Flat: what stdout holds queued stays bounded (it is what grew to gigabytes), and so does RSS.
    expect(figures.maxQueuedKiB).toBeLessThan(1024);
    expect(figures.rssGrowthAfterMiB).toBeLessThan(64);
  }, 60_000);
});

/**
 * Fairness inside the process can only be judged when the machine lets the
 * process run: on a shared machine another job may take the cores (a run in
 * CI once got 40% of one, and every figure suffered alike: the interval's
 * share follows the process's share of a core). A run whose
 * process got less than MIN_CPU_SHARE of a core is done again, up to
 * CPU_ATTEMPTS times; then the best-served run is judged anyway.
 */
const MIN_CPU_SHARE = 0.85;
const CPU_ATTEMPTS = 3;

async function runWithCpu(loop: BusyProcessConfig['loop']): Promise<{ report: BusyProcessReport; statusMs: number[] }> {
  let best: { report: BusyProcessReport; statusMs: number[] } | undefined;
  for (let attempt = 1; attempt <= CPU_ATTEMPTS; attempt++) {
    const run = await runBusyProcess(loop);
    if (run.report.cpuShare >= MIN_CPU_SHARE) return run;
    console.log(`fairness (${loop} loop): the process got ${(run.report.cpuShare * 100).toFixed(0)}% of a core in run ${attempt}; running again`);
    if (!best || run.report.cpuShare > best.report.cpuShare) best = run;
  }
  return best!;
}

/** Runs the busy process; meanwhile asks its HTTP server for its status, one request at a time. */
async function runBusyProcess(loop: BusyProcessConfig['loop']): Promise<{ report: BusyProcessReport; statusMs: number[] }> {
  const dir = await mkdtemp(join(SCRATCH, 'scopefs-fairness-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const config: BusyProcessConfig = { dir, loop, durationMs: DURATION_MS, intervalMs: INTERVAL_MS, quietWriteEveryMs: QUIET_WRITE_EVERY_MS };
  const child = spawn(process.execPath, ['--import', 'tsx', BUSY, JSON.stringify(config)], { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] });
  cleanup.push(() => stopChild(child));
  const lines = jsonLines(child);
  const { url } = (await lines.next()) as { url: string };
  await status(url); // connected and warm, as a client that was already there
  child.stdin!.write('go\n');
  let report: BusyProcessReport | undefined;
  const reported = lines.next().then((line) => (report = line as BusyProcessReport));
  const requests: Array<{ sentNs: bigint; answeredNs: bigint }> = [];
  while (!report) {
    const sentNs = process.hrtime.bigint();
    try {
      await status(url);
    } catch (err) {
      if (report) break; // the server closes once it has reported
      throw err;
    }
    requests.push({ sentNs, answeredNs: process.hrtime.bigint() });
    await sleep(STATUS_PAUSE_MS);
  }
  await reported;
  const [start, end] = [BigInt(report.loopStartNs), BigInt(report.loopEndNs)];
  // Every request that was in flight at some moment of the loop counts.
  const during = requests.filter((r) => r.answeredNs >= start && r.sentNs <= end);
  return { report, statusMs: during.map((r) => Number(r.answeredNs - r.sentNs) / 1e6) };
}

async function status(url: string): Promise<void> {
  const response = await fetch(`${url}/v1/status`);
  expect(response.status).toBe(200);
  await response.json();
}

function jsonLines(child: ChildProcess): { next(): Promise<unknown> } {
  const queued: unknown[] = [];
  const waiting: Array<(line: unknown) => void> = [];
  const exited = once(child, 'exit');
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = JSON.parse(line) as unknown;
    const waiter = waiting.shift();
    if (waiter) waiter(parsed);
    else queued.push(parsed);
  });
  return {
    next: () =>
      queued.length > 0
        ? Promise.resolve(queued.shift())
        : Promise.race([
            new Promise((resolve) => waiting.push(resolve)),
            exited.then(([code]) => Promise.reject(new Error(`busy process exited (${String(code)}) before reporting`))),
          ]),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

function p99(values: number[]): number {
  if (values.length === 0) return Number.POSITIVE_INFINITY;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]!;
}
