/**
 * A real `scopefs serve` is SIGKILLed while writes are in flight and every
 * delivery is still pending (the receiver refuses them), then restarted on
 * the same root. Oracle: every write the server acknowledged is delivered
 * at least once; nothing is delivered for a change the restarted server
 * does not hold (a change that was never acknowledged and did not survive).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runCli, startServe, type ServeProcess } from '../cli/helpers.js';
import { startReceiver, type Receiver } from './receiver.js';

const SECRET = 'crash-test-secret-0123456789';
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function serve(root: string): Promise<{ process: ServeProcess; call: (path: string, init?: RequestInit) => Promise<Response> }> {
  const process = await startServe(['--root', root, '--port', '0']);
  cleanups.push(() => process.stop('SIGKILL'));
  const token = (await readFile(process.info.tokenFile!, 'utf8')).trim();
  const call = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${process.info.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
  return { process, call };
}

/** Writes /w/<i>.txt, `concurrency` at a time, until stopped; resolves with the acknowledged and the attempted paths. */
function writeUntilKilled(call: (path: string, init?: RequestInit) => Promise<Response>, concurrency: number, onAck: (n: number) => void): Promise<{ acked: Set<string>; attempted: Set<string> }> {
  const acked = new Set<string>();
  const attempted = new Set<string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const path = `/w/${next++}.txt`;
      attempted.add(path);
      try {
        const response = await call(`/v1/files${path}`, { method: 'PUT', body: `content of ${path}` });
        if (response.ok) acked.add(path);
        onAck(acked.size);
      } catch {
        return; // the server is gone
      }
    }
  };
  return Promise.all(Array.from({ length: concurrency }, worker)).then(() => ({ acked, attempted }));
}

it('loses no acknowledged change and invents none across a SIGKILL with deliveries pending', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'scopefs-webhook-crash-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  const hook: Receiver = await startReceiver({ secret: SECRET });
  cleanups.push(() => hook.close());
  hook.failing = true;

  const first = await serve(root);
  const added = await first.call('/v1/webhooks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: hook.url, secret: SECRET }) });
  expect(added.status).toBe(201);
  let killed = false;
  const written = writeUntilKilled(first.call, 8, (n) => {
    if (n >= 100 && !killed) {
      killed = true;
      first.process.child.kill('SIGKILL');
    }
  });
  const { acked, attempted } = await written;
  await first.process.stop('SIGKILL');
  expect(acked.size).toBeGreaterThanOrEqual(100);
  expect(hook.accepted()).toHaveLength(0); // everything was still pending when it died

  hook.failing = false;
  const second = await serve(root);
  await hook.waitFor(() => [...acked].every((path) => hook.accepted().some((r) => r.event.path === path)), 30_000);
  await expect.poll(async () => ((await (await second.call('/v1/webhooks')).json()) as { status: { pending: number } }).status.pending, { timeout: 15_000 }).toBe(0);

  const delivered = new Set(hook.accepted().map((r) => r.event.path!));
  for (const path of delivered) {
    expect(attempted.has(path)).toBe(true);
    // Delivered, so the change must be one the restarted server holds.
    expect((await second.call(`/v1/files${path}`)).status, path).toBe(200);
  }
  expect(hook.received.every((r) => r.verified === undefined)).toBe(true);
  // One key per event: redeliveries after the restart reuse the keys of the attempts before it.
  const keys = new Map<string, string>();
  for (const r of hook.received) {
    expect(keys.get(r.idempotencyKey) ?? r.body).toBe(r.body);
    keys.set(r.idempotencyKey, r.body);
  }

  // The CLI against the restarted serve: the list never shows the secret; a redelivery is queued.
  const listed = await runCli(['webhook', 'list', '--root', root, '--json']);
  expect(listed.code, listed.stderr).toBe(0);
  expect(listed.stdout.toString()).not.toContain(SECRET);
  expect((JSON.parse(listed.stdout.toString()) as { webhooks: Array<{ url: string }> }).webhooks.map((w) => w.url)).toEqual([hook.url]);
  const before = hook.received.length;
  const again = await runCli(['webhook', 'redeliver', hook.accepted()[0]!.delivery, '--root', root]);
  expect(again.stdout.toString()).toContain('queued');
  await hook.waitFor((r) => r.length > before);
}, 90_000);
