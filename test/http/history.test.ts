/** History over HTTP: versions, revision reads, restore (ETag, ifRevision), deleted paths, checkpoints and rollback, errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_TYPE, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const post = (path: string, body: unknown) => server.call(path, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify(body) });

interface Version {
  revision: number;
  size: number;
  actor?: string;
  deleted: boolean;
}

describe('history over HTTP', () => {
  it('lists versions newest first, reads an old revision, and restores it with the new revision as ETag', async () => {
    await server.call('/v1/files/doc.md', { method: 'PUT', body: 'first' });
    const second = (await (await server.call('/v1/files/doc.md', { method: 'PUT', body: 'second' })).json()) as { revision: number };
    const listed = await server.call('/v1/history/doc.md?limit=10');
    expect(listed.status).toBe(200);
    const { path, versions } = (await listed.json()) as { path: string; versions: Version[] };
    expect(path).toBe('/doc.md');
    expect(versions.map((v) => [v.size, v.actor])).toEqual([
      [6, 'owner'],
      [5, 'owner'],
    ]);

    const old = await server.call(`/v1/files/doc.md?revision=${versions[1]!.revision}`);
    expect(old.status).toBe(200);
    expect(await old.text()).toBe('first');
    expect(old.headers.get('etag')).toBe(`"h${versions[1]!.revision}"`);
    expect((await server.call(`/v1/files/doc.md?revision=${versions[1]!.revision}`, { headers: { 'if-none-match': old.headers.get('etag')! } })).status).toBe(304);

    const stale = await post('/v1/restore', { path: '/doc.md', revision: versions[1]!.revision, ifRevision: second.revision + 100 });
    expect(stale.status).toBe(412);
    const staleHeader = await server.call('/v1/restore', { method: 'POST', headers: { ...JSON_TYPE, 'if-match': `"${second.revision + 100}"` }, body: JSON.stringify({ path: '/doc.md', revision: versions[1]!.revision }) });
    expect(staleHeader.status).toBe(412);
    const restored = await server.call('/v1/restore', { method: 'POST', headers: { ...JSON_TYPE, 'if-match': `"${second.revision}"` }, body: JSON.stringify({ path: '/doc.md', revision: versions[1]!.revision }) });
    expect(restored.status).toBe(200);
    const meta = (await restored.json()) as { revision: number };
    expect(restored.headers.get('etag')).toBe(`"${meta.revision}"`);
    expect(await (await server.call('/v1/files/doc.md')).text()).toBe('first');
  });

  it('lists deleted paths and undeletes one', async () => {
    await server.call('/v1/files/gone/x.md', { method: 'PUT', body: 'x' });
    await server.call('/v1/files/gone/x.md', { method: 'DELETE' });
    const { deleted } = (await (await server.call('/v1/deleted?prefix=/gone')).json()) as { deleted: Array<{ path: string }> };
    expect(deleted.map((d) => d.path)).toEqual(['/gone/x.md']);
    const { versions } = (await (await server.call('/v1/history/gone/x.md')).json()) as { versions: Version[] };
    expect((await post('/v1/restore', { path: '/gone/x.md', revision: versions[1]!.revision })).status).toBe(200);
    expect(await (await server.call('/v1/files/gone/x.md')).text()).toBe('x');
  });

  it('creates, lists, diffs and restores checkpoints (dry run first)', async () => {
    await server.call('/v1/files/cp/a.md', { method: 'PUT', body: 'a1' });
    const created = await post('/v1/checkpoints', { name: 'cp-1', message: 'before', prefix: '/cp' });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'cp-1', prefix: '/cp/', fileCount: 1, message: 'before' });
    await server.call('/v1/files/cp/a.md', { method: 'PUT', body: 'a2' });
    await server.call('/v1/files/cp/b.md', { method: 'PUT', body: 'b' });

    const { checkpoints } = (await (await server.call('/v1/checkpoints')).json()) as { checkpoints: Array<{ name: string }> };
    expect(checkpoints.map((c) => c.name)).toContain('cp-1');
    expect(await (await server.call('/v1/checkpoints/cp-1/diff')).json()).toMatchObject({ added: ['/cp/b.md'], changed: ['/cp/a.md'], removed: [] });

    const dry = await post('/v1/checkpoints/cp-1/restore', { dryRun: true });
    expect(await dry.json()).toMatchObject({ dryRun: true, written: ['/cp/a.md'], deleted: ['/cp/b.md'] });
    expect(await (await server.call('/v1/files/cp/a.md')).text()).toBe('a2');
    const done = await post('/v1/checkpoints/cp-1/restore', {});
    expect(await done.json()).toMatchObject({ dryRun: false, written: ['/cp/a.md'], deleted: ['/cp/b.md'] });
    expect(await (await server.call('/v1/files/cp/a.md')).text()).toBe('a1');
    expect((await server.call('/v1/files/cp/b.md')).status).toBe(404);
  });

  it('unknown revisions and checkpoints are 404 naming them; bad input is 400', async () => {
    await server.call('/v1/files/e.md', { method: 'PUT', body: 'e' });
    const missing = await server.call('/v1/files/e.md?revision=99999');
    expect(missing.status).toBe(404);
    expect(JSON.stringify(await missing.json())).toContain('no revision 99999 of /e.md');
    const noCheckpoint = await post('/v1/checkpoints/nope/restore', {});
    expect(noCheckpoint.status).toBe(404);
    expect(((await noCheckpoint.json()) as { error: { message: string } }).error.message).toContain('no checkpoint named "nope"');
    expect((await server.call('/v1/files/e.md?revision=abc')).status).toBe(400);
    expect((await post('/v1/restore', { path: '/e.md' })).status).toBe(400);
    expect((await post('/v1/checkpoints', { name: 'cp-dup' })).status).toBe(201);
    expect((await post('/v1/checkpoints', { name: 'cp-dup' })).status).toBe(409);
  });

  it('DELETE /v1/checkpoints/<name> deletes it (204), then 404 naming it; other paths under it are 404', async () => {
    expect((await post('/v1/checkpoints', { name: 'cp del/1' })).status).toBe(201);
    const removed = await server.call(`/v1/checkpoints/${encodeURIComponent('cp del/1')}`, { method: 'DELETE' });
    expect(removed.status).toBe(204);
    const { checkpoints } = (await (await server.call('/v1/checkpoints')).json()) as { checkpoints: Array<{ name: string }> };
    expect(checkpoints.map((c) => c.name)).not.toContain('cp del/1');
    const again = await server.call(`/v1/checkpoints/${encodeURIComponent('cp del/1')}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(((await again.json()) as { error: { message: string } }).error.message).toContain('no checkpoint named "cp del/1"');
    expect((await server.call('/v1/checkpoints/x/diff', { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${server.url}/v1/checkpoints/x`, { method: 'DELETE' })).status).toBe(401);
  });

  it('needs the token like the files API', async () => {
    const res = await fetch(`${server.url}/v1/history/doc.md`);
    expect(res.status).toBe(401);
  });
});
