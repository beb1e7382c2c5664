/**
 * Webhook delivery latency (issue 16, Measured): from the start of a write
 * to the receipt of its delivery at a receiver on loopback, p50/p99, with a
 * plain HTTP POST round trip to the same receiver as the baseline of the
 * same run. Also what the outbox adds to a write: a plain write of a scope
 * without subscriptions against one with a subscription (journal
 * durability, on disk).
 *   node --import tsx bench/webhooks.ts
 *   WEBHOOKS_OPS=500 (the default)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startScope } from '../supervisors/scope/scopes.js';
import { fmt, measureSequential, percentile, runIfMain, throughputRow, withTempDir, type BenchRow, type Measurement } from './lib.js';

const OPS = Number(process.env.WEBHOOKS_OPS ?? 500);
const WARMUP = 50;

/** A receiver answering 204; `next(path)` resolves when a delivery of `path` arrives. */
async function receiver(): Promise<{ url: string; next(path: string): Promise<number>; close(): Promise<void> }> {
  const waiting = new Map<string, (at: number) => void>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const at = performance.now();
      res.writeHead(204).end();
      const path = body === '' ? '' : (JSON.parse(body) as { path?: string }).path ?? '';
      waiting.get(path)?.(at);
      waiting.delete(path);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    next: (path) => new Promise<number>((resolve) => waiting.set(path, resolve)),
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** Latency percentiles of `ops` sequential runs of `once` (which answers its own latency in ms). */
async function latencies(ops: number, once: (i: number) => Promise<number>): Promise<Measurement> {
  for (let i = 0; i < WARMUP; i++) await once(-1 - i);
  const all = new Float64Array(ops);
  const start = performance.now();
  for (let i = 0; i < ops; i++) all[i] = await once(i);
  const totalMs = performance.now() - start;
  all.sort();
  return { ops, totalMs, opsPerSec: (ops / totalMs) * 1000, p50Us: percentile(all, 0.5) * 1000, p99Us: percentile(all, 0.99) * 1000 };
}

export async function run(): Promise<BenchRow[]> {
  const hook = await receiver();
  try {
    return await withTempDir('webhooks', async (dir) => {
      // Baseline: the same receiver, a plain POST of a body of the same size.
      const body = JSON.stringify({ id: 'ev_0000000000_1', type: 'file_updated', scope: 'bench', path: '/bench/f00000.md', revision: 1, size: 9, checksum: 'x'.repeat(64) });
      const post = await latencies(OPS, async (i) => {
        const t = performance.now();
        const got = hook.next(`/post/${i}`);
        await (await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body.replace('/bench/f00000.md', `/post/${i}`) })).arrayBuffer();
        return (await got) - t;
      });
      const scope = await startScope({ scopeKey: 'bench-webhooks', root: join(dir, 'root'), debounceMs: 60_000 });
      try {
        const write = (i: number) => scope.fs.writeFile(`/bench/f${i % 200}.md`, `line ${i}\n`);
        const plain = () => measureSequential(OPS, async (i) => void (await write(i)), { warmup: WARMUP });
        await plain();
        const bare = await plain();
        await scope.webhooks!.add({ url: hook.url, pathGlob: '/bench/**' });
        const delivered = await latencies(OPS, async (i) => {
          const path = `/bench/d${i}.md`;
          const got = hook.next(path);
          const t = performance.now();
          await scope.fs.writeFile(path, `line ${i}\n`);
          return (await got) - t;
        });
        const subscribed = await plain();
        await new Promise((resolve) => setTimeout(resolve, 200)); // let the last deliveries land
        const p = (m: Measurement) => `p50 ${(m.p50Us! / 1000).toFixed(2)} ms, p99 ${(m.p99Us! / 1000).toFixed(2)} ms`;
        return [
          { bench: 'webhooks', metric: 'plain HTTP POST round trip on loopback (baseline)', value: p(post) },
          { bench: 'webhooks', metric: 'write → webhook receipt on loopback', value: p(delivered) },
          { bench: 'webhooks', metric: 'p50, write → receipt / plain POST', value: fmt.ratio(delivered.p50Us! / post.p50Us!) },
          throughputRow('webhooks', 'write, no subscription (baseline)', bare),
          throughputRow('webhooks', 'write with a subscription (outbox row + delivery)', subscribed),
          { bench: 'webhooks', metric: 'p50, write with a subscription / without', value: fmt.ratio(subscribed.p50Us! / bare.p50Us!) },
        ];
      } finally {
        await scope.stop();
      }
    });
  } finally {
    await hook.close();
  }
}

await runIfMain(import.meta.url, run);
