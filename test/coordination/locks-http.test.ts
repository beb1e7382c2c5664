import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_TYPE, startTestServer, type TestServer } from '../http/helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const post = (body: unknown) => server.call('/v1/locks', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });

describe('locks over HTTP', () => {
  it('POST takes a lock (owner: the caller), a write without X-Scopefs-Lock gets 423 naming it, one with the token gets through', async () => {
    const taken = await post({ path: '/http/a.md', ttlMs: 10_000 });
    expect(taken.status).toBe(201);
    const grant = (await taken.json()) as { token: string; fence: number; owner: string; path: string };
    expect(grant).toMatchObject({ path: '/http/a.md', owner: 'owner' });

    const refused = await server.call('/v1/files/http/a.md', { method: 'PUT', body: 'x' });
    expect(refused.status).toBe(423);
    expect(await refused.json()).toMatchObject({ error: expect.objectContaining({ code: 'ELOCKED' }) });

    const written = await server.call('/v1/files/http/a.md', { method: 'PUT', body: 'mine', headers: { 'x-scopefs-lock': grant.token } });
    expect(written.status).toBe(200);
    const moved = await server.call('/v1/move', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ from: '/http/a.md', to: '/http/b.md' }) });
    expect(moved.status).toBe(423);

    const listed = (await (await server.call('/v1/locks')).json()) as { locks: unknown[] };
    expect(listed.locks).toEqual([{ path: '/http/a.md', owner: 'owner', fence: grant.fence, expiresAt: expect.any(Number) }]);
    expect(JSON.stringify(listed)).not.toContain(grant.token);

    const renewed = await server.call(`/v1/locks/${grant.token}`, { method: 'PUT', headers: JSON_TYPE, body: JSON.stringify({ ttlMs: 20_000 }) });
    expect(renewed.status).toBe(200);

    const released = await server.call(`/v1/locks/${grant.token}`, { method: 'DELETE' });
    expect(await released.json()).toEqual({ released: true });
    const stale = await server.call('/v1/files/http/a.md', { method: 'DELETE', headers: { 'x-scopefs-lock': grant.token } });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toMatchObject({ error: expect.objectContaining({ code: 'ESTALE' }) });
    expect((await server.call('/v1/files/http/a.md', { method: 'DELETE' })).status).toBe(204);
  });

  it('a second POST on an overlapping prefix is 423 naming the holder; bad requests are 400 with what to send', async () => {
    expect((await post({ path: '/http2/deep/f.md', ttlMs: 10_000, owner: 'ci-bot' })).status).toBe(201);
    const refused = await post({ path: '/http2', ttlMs: 1_000, wait: 30 });
    expect(refused.status).toBe(423);
    expect(JSON.stringify(await refused.json())).toContain('ci-bot');
    expect((await post({ ttlMs: 1_000 })).status).toBe(400);
    expect((await post({ path: '/x', ttlMs: 0 })).status).toBe(400);
    expect((await post({ path: '/x', ttlMs: 1_000, wait: 60_000 })).status).toBe(400);
    expect((await server.call('/v1/locks/not%20a%20token', { method: 'DELETE' })).status).toBe(400);
  });
});
