import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { startHttpServer, type HttpServerHandle } from '../../src/http/server.js';
import type { WebhookOptions } from '../../src/webhooks/types.js';
import { startReceiver, type Receiver } from './receiver.js';

const SECRET = 'test-secret-0123456789';
const TOKEN = 'webhook-test-token-0123456789';
const FAST: WebhookOptions = { retry: { baseMs: 20, maxMs: 80, attempts: 6 }, timeoutMs: 400 };
const cleanups: Array<() => Promise<unknown>> = [];
let counter = 0;

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function scopeWith(webhooks: WebhookOptions = FAST): Promise<{ scope: RunningScope; root: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'scopefs-webhooks-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  const scope = await startScope({ scopeKey: `webhooks-${process.pid}-${++counter}`, root, webhooks });
  cleanups.push(() => scope.stop());
  return { scope, root };
}

async function receiver(options: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(options);
  cleanups.push(() => r.close());
  return r;
}

describe('webhook delivery', () => {
  it('delivers every change signed, through failures and a timeout, with one idempotency key per event', async () => {
    const { scope } = await scopeWith();
    const hook = await receiver({ secret: SECRET, failFirst: 2, hangFirst: 1 });
    const added = await scope.webhooks!.add({ url: hook.url, secret: SECRET });
    expect(added.secret).toBeUndefined(); // given by the caller: never answered back
    for (let i = 0; i < 5; i++) await scope.fs.writeFile(`/notes/${i}.md`, `note ${i}`);
    await scope.fs.moveFile('/notes/0.md', '/notes/zero.md');
    await scope.fs.deleteFile('/notes/1.md');
    await hook.waitFor(() => new Set(hook.accepted().map((r) => r.idempotencyKey)).size === 7);
    expect(hook.received.every((r) => r.verified === undefined)).toBe(true);
    // Retries of one event carry its key; distinct events have distinct keys.
    const byKey = new Map<string, Set<string>>();
    for (const r of hook.received) byKey.set(r.idempotencyKey, (byKey.get(r.idempotencyKey) ?? new Set()).add(r.body));
    expect([...byKey.values()].every((bodies) => bodies.size === 1)).toBe(true);
    expect(hook.received.length).toBeGreaterThanOrEqual(10); // 7 events + 2 failures + 1 timeout
    const types = hook.accepted().map((r) => r.event.type);
    expect(types.filter((t) => t === 'file_updated')).toHaveLength(5);
    expect(types).toContain('file_moved');
    expect(types).toContain('file_deleted');
    await expect.poll(() => scope.webhooks!.status()).toMatchObject({ subscriptions: 1, pending: 0, dead: [] });
  });

  it('hears only the events and paths a subscription asks for', async () => {
    const { scope } = await scopeWith();
    const hook = await receiver({ secret: SECRET });
    await scope.webhooks!.add({ url: hook.url, secret: SECRET, events: ['file_updated'], pathGlob: '/docs/**' });
    await scope.fs.writeFile('/other.txt', 'x');
    await scope.fs.writeFile('/docs/a.md', 'a');
    await scope.fs.deleteFile('/docs/a.md');
    await scope.fs.writeFile('/docs/deep/b.md', 'b');
    await hook.waitFor((r) => r.length >= 2);
    expect(hook.received.map((r) => r.event.path)).toEqual(['/docs/a.md', '/docs/deep/b.md']);
  });

  it('dead-letters a delivery after its attempts, shows it in status, and redelivers it with the same key', async () => {
    const { scope } = await scopeWith({ ...FAST, retry: { baseMs: 10, maxMs: 20, attempts: 2 } });
    const hook = await receiver({ secret: SECRET });
    hook.failing = true;
    await scope.webhooks!.add({ url: hook.url, secret: SECRET });
    await scope.fs.writeFile('/a.txt', 'a');
    await hook.waitFor((r) => r.length === 2);
    await expect.poll(() => scope.webhooks!.status().dead.length).toBe(1);
    const [dead] = scope.webhooks!.status().dead;
    expect(dead).toMatchObject({ attempts: 2, type: 'file_updated', url: hook.url, lastError: 'the receiver answered HTTP 503' });
    hook.failing = false;
    scope.webhooks!.redeliver(dead!.id);
    await hook.waitFor(() => hook.accepted().length === 1);
    expect(hook.accepted()[0]!.idempotencyKey).toBe(dead!.eventId);
    await expect.poll(() => scope.webhooks!.status()).toMatchObject({ pending: 0, delivered: 1, dead: [] });
    expect(() => scope.webhooks!.redeliver('ev_nope.wh_nope')).toThrow(/no webhook delivery/);
  });

  it('refuses bad URLs, events and globs with typed errors, and never lists a secret', async () => {
    const { scope } = await scopeWith();
    const webhooks = scope.webhooks!;
    await expect(webhooks.add({ url: 'not a url' })).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('is not a URL') });
    await expect(webhooks.add({ url: 'ftp://example.com/x' })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(webhooks.add({ url: 'https://u:p@example.com/x' })).rejects.toThrow(/credentials/);
    await expect(webhooks.add({ url: 'https://example.com/x', events: ['file_touched'] })).rejects.toThrow(/webhook events must be/);
    await expect(webhooks.add({ url: 'https://example.com/x', pathGlob: '' })).rejects.toThrow(/pathGlob/);
    await expect(webhooks.add({ url: 'https://example.com/x', secret: 'short' })).rejects.toThrow(/at least 16/);
    const made = await webhooks.add({ url: 'https://example.com/x' });
    expect(made.secret).toMatch(/^[\w-]{32}$/);
    const listed = await webhooks.list();
    expect(JSON.stringify(listed)).not.toContain(made.secret!);
    expect(listed[0]!.secretHint).toBe(`…${made.secret!.slice(-4)}`);
    expect(await webhooks.remove(made.id)).toBe(true);
    expect(await webhooks.list()).toEqual([]);
  });

  it('applies the operator allow-list and loopback switch', async () => {
    const { scope } = await scopeWith({ ...FAST, allow: ['https://hooks.example.com/'], denyLoopback: true });
    await expect(scope.webhooks!.add({ url: 'https://evil.example.com/x' })).rejects.toMatchObject({ code: 'EACCES', message: expect.stringContaining('allow-list') });
    await expect(scope.webhooks!.add({ url: 'http://127.0.0.1:9/x' })).rejects.toMatchObject({ code: 'EACCES', message: expect.stringContaining('loopback') });
    await expect(scope.webhooks!.add({ url: 'https://hooks.example.com/scopefs' })).resolves.toMatchObject({ url: 'https://hooks.example.com/scopefs' });
  });
});

describe('webhooks over HTTP', () => {
  async function served(): Promise<{ scope: RunningScope; http: HttpServerHandle; call: (path: string, init?: RequestInit) => Promise<Response> }> {
    const { scope } = await scopeWith();
    const http = await startHttpServer({ scope, auth: { mode: 'token', token: TOKEN }, port: 0, onError: () => undefined });
    cleanups.push(() => http.close());
    const call = (path: string, init: RequestInit = {}): Promise<Response> =>
      fetch(`${http.url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
    return { scope, http, call };
  }

  it('refuses a webhook pointing at the server itself', async () => {
    const { http, call } = await served();
    const port = new URL(http.url).port;
    for (const url of [`${http.url}/v1/files/x`, `http://localhost:${port}/hook`, `http://[::1]:${port}/`]) {
      const response = await call('/v1/webhooks', { method: 'POST', body: JSON.stringify({ url }) });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain('this scopefs server itself');
    }
  });

  it('adds, lists (no secrets), shows status, redelivers and removes', async () => {
    const { scope, call } = await served();
    const hook = await receiver({ secret: SECRET });
    const added = (await (await call('/v1/webhooks', { method: 'POST', body: JSON.stringify({ url: hook.url, secret: SECRET }) })).json()) as { id: string };
    await scope.fs.writeFile('/x.txt', 'x');
    await hook.waitFor((r) => r.length === 1);
    const listed = (await (await call('/v1/webhooks')).json()) as { webhooks: unknown[]; status: { subscriptions: number } };
    expect(JSON.stringify(listed)).not.toContain(SECRET);
    expect(listed.status.subscriptions).toBe(1);
    const status = (await (await call('/v1/status')).json()) as { webhooks?: { subscriptions: number } };
    expect(status.webhooks?.subscriptions).toBe(1);
    const delivery = `${hook.received[0]!.delivery}`;
    expect((await call(`/v1/webhooks/deliveries/${encodeURIComponent(delivery)}/redeliver`, { method: 'POST' })).status).toBe(202);
    await hook.waitFor((r) => r.length === 2);
    expect(hook.received[1]!.idempotencyKey).toBe(hook.received[0]!.idempotencyKey);
    expect(await (await call(`/v1/webhooks/${added.id}`, { method: 'DELETE' })).json()).toEqual({ removed: true });
  });
});
