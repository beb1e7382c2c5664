import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('GET /healthz', () => {
  it('answers without a token, and tells nothing', async () => {
    server = await startTestServer();
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
    expect((await fetch(`${server.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
  });
});

describe('GET /readyz', () => {
  it('needs a token', async () => {
    server = await startTestServer();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(401);
    const ready = await server.call('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      checks: { fs: { ready: true }, sync: { ready: true, state: 'disabled' }, store: { ready: true } },
    });
  });

  it('is ready once sync is live, and says so when sync is paused', async () => {
    server = await startTestServer({ sync: () => ({ store: `memory:readyz-${randomBytes(4).toString('hex')}`, debounceMs: 5 }) });
    await server.scope.sync!.idle({ timeoutMs: 20_000 });
    expect((await server.call('/readyz')).status).toBe(200);
    await server.scope.sync!.pause();
    const paused = await server.call('/readyz');
    expect(paused.status).toBe(503);
    expect(await paused.json()).toMatchObject({
      ready: false,
      checks: { fs: { ready: true }, sync: { ready: false, state: 'paused', reason: expect.stringMatching(/^sync is paused/) } },
    });
    await server.scope.sync!.resume();
    await server.scope.sync!.idle({ timeoutMs: 20_000 });
    expect((await server.call('/readyz')).status).toBe(200);
  });

  it('says the store is not ready while it cannot be reached', async () => {
    // Nothing listens on port 1: the store stays unreachable.
    server = await startTestServer({ sync: () => ({ store: 'postgres://root@127.0.0.1:1/none', debounceMs: 5 }) });
    const response = await server.call('/readyz');
    expect(response.status).toBe(503);
    const body = (await response.json()) as { checks: { store: { ready: boolean; reason: string }; sync: { ready: boolean } } };
    expect(body.checks.store).toMatchObject({ ready: false, reason: expect.stringContaining('the store is not connected') });
    expect(body.checks.sync.ready).toBe(false);
  });
});
