import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startScope } from '../../supervisors/scope/scopes.js';
import { JSON_TYPE, startTestServer, TOKEN, type TestServer } from './helpers.js';
import { SseClient } from './sse-client.js';

let server: TestServer;
afterEach(() => server.close());

const memoryStore = () => ({ store: `memory:status-${randomBytes(4).toString('hex')}`, debounceMs: 5 });

describe('status endpoints', () => {
  it('without sync: disabled, and the tree has the filesystem', async () => {
    server = await startTestServer();
    const app = await (await server.call('/api/file-sync/status')).json();
    expect(app).toEqual({ enabled: false, connected: false, conflicts: 0 });
    const full = (await (await server.call('/v1/status')).json()) as Record<string, unknown>;
    expect(full).toMatchObject({ sync: { enabled: false }, root: server.root, files: { total: 0 } });
    expect(full.tree).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'fs', status: 'running', restarts: 0 })]));
    expect(await (await server.call('/v1/conflicts')).json()).toEqual({ conflicts: [] });
  });

  it('with sync: connected once live, the full status carries the engine state and the tree', async () => {
    server = await startTestServer({ sync: memoryStore });
    await server.scope.sync!.idle({ timeoutMs: 20_000 });
    expect(await (await server.call('/api/file-sync/status')).json()).toEqual({ enabled: true, connected: true, conflicts: 0 });
    const full = (await (await server.call('/v1/status')).json()) as { sync: Record<string, unknown>; tree: Array<{ id: string }> };
    expect(full.sync).toMatchObject({ enabled: true, state: 'live', pending: [], conflicts: [] });
    expect(full.tree.map((child) => child.id)).toEqual(['fs', 'watcher', 'sync', 'agents']);
  });

  it('resolving needs sync, and a path with an open conflict', async () => {
    server = await startTestServer();
    const noSync = await server.call('/v1/conflicts/resolve', { method: 'POST', body: JSON.stringify({ path: '/a', keep: 'local' }), headers: JSON_TYPE });
    expect(noSync.status).toBe(400);
    await server.close();

    server = await startTestServer({ sync: memoryStore });
    const noConflict = await server.call('/v1/conflicts/resolve', { method: 'POST', body: JSON.stringify({ path: '/a.txt', keep: 'local' }), headers: JSON_TYPE });
    expect(noConflict.status).toBe(404);
    const bad = await server.call('/v1/conflicts/resolve', { method: 'POST', body: JSON.stringify({ path: '/a.txt', keep: 'local', content: 'x' }), headers: JSON_TYPE });
    expect(bad.status).toBe(400);
  });
});

describe('conflicts over HTTP', () => {
  it('lists a conflict with both snippets, streams it, and resolves it by keeping the remote side', async () => {
    const sync = memoryStore();
    server = await startTestServer({ sync: () => ({ ...sync, instanceId: 'served' }) });
    const other = await startScope({ scopeKey: `conflict-other-${randomBytes(3).toString('hex')}`, sync: { ...sync, instanceId: 'other' } });
    const events = await SseClient.connect(`${server.url}/v1/events`, { token: TOKEN });
    try {
      const mine = server.scope;
      await mine.fs.writeFile('/c.bin', Buffer.from([0xff, 0, 1]));
      await mine.sync!.idle();
      await other.sync!.idle();
      await mine.sync!.pause();
      await other.fs.writeFile('/c.bin', Buffer.from([0xff, 0, 2]));
      await other.sync!.idle();
      await mine.fs.writeFile('/c.bin', Buffer.from([0xff, 0, 3]));
      await mine.sync!.resume();

      const conflict = await events.waitFor((m) => m.event === 'conflict');
      expect(JSON.parse(conflict.data).conflict).toMatchObject({ type: 'conflict-needs-llm', path: '/c.bin', remoteInstance: 'other' });
      const listed = (await (await server.call('/v1/conflicts')).json()) as { conflicts: Array<{ path: string }> };
      expect(listed.conflicts.map((c) => c.path)).toEqual(['/c.bin']);
      expect(await (await server.call('/api/file-sync/status')).json()).toMatchObject({ conflicts: 1 });

      const resolved = await server.call('/v1/conflicts/resolve', { method: 'POST', body: JSON.stringify({ path: '/c.bin', keep: 'remote' }), headers: JSON_TYPE });
      expect(resolved.status).toBe(200);
      await events.waitFor((m) => m.event === 'conflict_resolved');
      expect([...Buffer.from(await (await server.call('/v1/files/c.bin')).arrayBuffer())]).toEqual([0xff, 0, 2]);
      expect(await (await server.call('/api/file-sync/status')).json()).toMatchObject({ conflicts: 0 });
    } finally {
      events.close();
      await other.stop();
    }
  });
});
