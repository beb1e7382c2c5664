/**
 * SSE memory under clients that never read (issue 10, item 5): a real
 * `scopefs serve` process with its default limits, 1,500 event-stream
 * clients that never read, plus 20,000 small writes over HTTP. The baseline,
 * measured in the same run, is the same serve and writes with one reading
 * client only. Reports the serve's RSS (current and peak, from /proc) in both
 * runs, the growth ratio, how many streams were refused (503) or dropped, and
 * whether the reading client got every event. Linux only (/proc).
 *   node --import tsx bench/sse-memory.ts
 *   SSE_BENCH_CLIENTS=1500 SSE_BENCH_WRITES=20000 (the defaults)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fmt, goalRow, measurePipelined, runIfMain, withTempDir, type BenchRow } from './lib.js';

const CLIENTS = Number(process.env.SSE_BENCH_CLIENTS ?? 1_500);
const WRITES = Number(process.env.SSE_BENCH_WRITES ?? 20_000);
const CONCURRENCY = 16;
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));

interface Serve {
  child: ChildProcess;
  url: string;
}

async function startServe(root: string): Promise<Serve> {
  const args = ['--import', 'tsx', CLI, 'serve', '--json', '--root', root, '--port', '0', '--no-auth', '--no-sync', '--debounce-ms', '60000'];
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  for await (const line of createInterface({ input: child.stdout! })) {
    const parsed = JSON.parse(line) as { event?: string; url?: string };
    if (parsed.event === 'listening') return { child, url: parsed.url! };
  }
  throw new Error('serve exited before listening');
}

async function memory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** A client that reads every event and counts the file updates. */
async function reader(url: string): Promise<{ updates: () => number; close: () => void }> {
  const request = get(`${url}/v1/events`);
  const [res] = (await once(request, 'response')) as [IncomingMessage];
  let updates = 0;
  let tail = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    const blocks = (tail + chunk).split('\n\n');
    tail = blocks.pop()!;
    updates += blocks.filter((block) => block.includes('event: file_updated')).length;
  });
  res.on('error', () => undefined);
  return { updates: () => updates, close: () => request.destroy() };
}

/** `count` clients that open a stream and never read; resolves with how many the server accepted. */
async function stalledClients(url: string, count: number): Promise<{ accepted: number; refused: number; close: () => void }> {
  const requests = Array.from({ length: count }, () => get(`${url}/v1/events`));
  const statuses = await Promise.all(
    requests.map(async (request) => {
      request.on('error', () => undefined);
      const [res] = (await once(request, 'response')) as [IncomingMessage];
      res.on('error', () => undefined);
      res.pause();
      return res.statusCode;
    }),
  );
  return {
    accepted: statuses.filter((s) => s === 200).length,
    refused: statuses.filter((s) => s === 503).length,
    close: () => requests.forEach((request) => request.destroy()),
  };
}

async function writeAll(url: string): Promise<number> {
  const m = await measurePipelined(WRITES, CONCURRENCY, async (i) => {
    const response = await fetch(`${url}/v1/files/bench/file-${i % 200}.md`, { method: 'PUT', body: `revision ${i}` });
    await response.arrayBuffer();
  });
  return m.opsPerSec;
}

async function phase(root: string, stalled: number) {
  const serve = await startServe(root);
  try {
    const pid = serve.child.pid!;
    const good = await reader(serve.url);
    const clients = stalled > 0 ? await stalledClients(serve.url, stalled) : { accepted: 0, refused: 0, close: () => undefined };
    const before = await memory(pid);
    const opsPerSec = await writeAll(serve.url);
    const deadline = Date.now() + 60_000;
    while (good.updates() < WRITES && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const after = await memory(pid);
    const answered = await fetch(`${serve.url}/v1/status`).then((r) => r.ok, () => false);
    clients.close();
    good.close();
    return { before, after, opsPerSec, received: good.updates(), accepted: clients.accepted, refused: clients.refused, answered };
  } finally {
    serve.child.kill('SIGTERM');
    await once(serve.child, 'exit');
  }
}

export async function run(): Promise<BenchRow[]> {
  return withTempDir('sse', async (dir) => {
    const baseline = await phase(join(dir, 'baseline'), 0);
    const stalled = await phase(join(dir, 'stalled'), CLIENTS);
    const growth = (p: typeof baseline) => Math.max(p.after.rss - p.before.rss, 1);
    const ratio = stalled.after.peak / baseline.after.peak;
    const b = 'sse-memory';
    return [
      { bench: b, metric: `baseline: 1 reader, ${WRITES} writes: RSS before → after (peak)`, value: `${fmt.mb(baseline.before.rss)} → ${fmt.mb(baseline.after.rss)} (${fmt.mb(baseline.after.peak)})` },
      { bench: b, metric: `${CLIENTS} stalled clients + 1 reader: RSS before → after (peak)`, value: `${fmt.mb(stalled.before.rss)} → ${fmt.mb(stalled.after.rss)} (${fmt.mb(stalled.after.peak)})` },
      { bench: b, metric: 'RSS growth during the writes, stalled / baseline', value: fmt.ratio(growth(stalled) / growth(baseline)) },
      goalRow(b, 'peak RSS, stalled / baseline', ratio, fmt.ratio(ratio), { max: 4, text: '≤ 4× (was 16× on main: 0.2 → 3.2 GB)' }),
      { bench: b, metric: 'streams accepted / refused with 503 (default limit 512)', value: `${stalled.accepted} / ${stalled.refused}` },
      goalRow(b, 'events the reader received, with stalled clients', stalled.received, `${stalled.received} / ${WRITES}`, { min: WRITES, text: 'every one' }),
      goalRow(b, 'serve still answers /v1/status afterwards', stalled.answered ? 1 : 0, stalled.answered ? 'yes' : 'no', { min: 1, text: 'yes' }),
      { bench: b, metric: 'write throughput, stalled / baseline', value: `${fmt.ratio(stalled.opsPerSec / baseline.opsPerSec)} (${Math.round(stalled.opsPerSec)} vs ${Math.round(baseline.opsPerSec)} writes/s)` },
    ];
  });
}

await runIfMain(import.meta.url, run);
