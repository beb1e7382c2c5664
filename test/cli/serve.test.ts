import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileEvent, SseClient } from '../http/sse-client.js';
import { runCli, startServe, type ServeProcess } from './helpers.js';

let dir: string;
let a: ServeProcess;
let b: ServeProcess;
let tokenA: string;
let tokenB: string;

const call = (serve: ServeProcess, token: string, path: string, init: RequestInit = {}) =>
  fetch(`${serve.info.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-serve-'));
  // No --store: both use the default store, .scopefs/store.db beside their roots.
  [a, b] = await Promise.all([
    startServe(['--root', join(dir, 'a'), '--port', '0', '--instance', 'A']),
    startServe(['--root', join(dir, 'b'), '--port', '0', '--instance', 'B', '--debounce-ms', '60000']),
  ]);
  tokenA = (await readFile(a.info.tokenFile!, 'utf8')).trim();
  tokenB = (await readFile(b.info.tokenFile!, 'utf8')).trim();
}, 90_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('scopefs serve', () => {
  it('prints what it serves: a real port, the root, the shared default store and an owner-only token file', async () => {
    expect(a.info.url).toBe(`http://127.0.0.1:${a.info.port}`);
    expect(a.info.port).toBeGreaterThan(0);
    expect(a.info.port).not.toBe(b.info.port);
    expect(a.info.root).toBe(join(dir, 'a'));
    expect(a.info.mcp).toBe(`${a.info.url}/mcp`);
    expect(a.info.store).toBe(`sqlite:${join(dir, '.scopefs', 'store.db')}`);
    expect(b.info.store).toBe(a.info.store);
    expect(a.info.tokenFile).toBe(join(dir, 'a', '.scopefs', 'token'));
    expect((await stat(a.info.tokenFile!)).mode & 0o777).toBe(0o600);
    expect(tokenA).not.toBe(tokenB);
    const recorded = JSON.parse(await readFile(join(dir, 'a', '.scopefs', 'serve.json'), 'utf8'));
    expect(recorded).toMatchObject({ url: a.info.url, pid: a.child.pid, auth: true });
  });

  it('a file written through A\'s HTTP API reaches B\'s event stream and B\'s disk', async () => {
    const events = await SseClient.connect(`${b.info.url}/v1/events`, { token: tokenB });
    try {
      await events.waitFor((m) => m.event === 'ready');
      const put = await call(a, tokenA, '/v1/files/shared/hello.md', { method: 'PUT', body: '# Hello from A\n' });
      expect(put.status).toBe(200);
      const arrived = await events.waitFor(fileEvent('file_updated', '/shared/hello.md', 'sync'), 40_000);
      expect(JSON.parse(arrived.data).meta.size).toBe(15);
      expect((await call(b, tokenB, '/v1/flush', { method: 'POST' })).status).toBe(200);
      expect(await readFile(join(dir, 'b', 'shared', 'hello.md'), 'utf8')).toBe('# Hello from A\n');
      expect(await (await call(b, tokenB, '/api/file-sync/status')).json()).toEqual({ enabled: true, connected: true, conflicts: 0 });
    } finally {
      events.close();
    }
  });

  it('needs the token: none and a wrong one get 401, the right one 200', async () => {
    const none = await fetch(`${a.info.url}/v1/files/shared/hello.md`);
    expect(none.status).toBe(401);
    expect(await none.text()).not.toContain('Hello');
    expect((await call(a, tokenB, '/v1/files/shared/hello.md')).status).toBe(401);
    expect((await call(a, tokenA, '/v1/files/shared/hello.md')).status).toBe(200);
  });

  it('answers ETag and If-Match on the real server', async () => {
    const read = await call(a, tokenA, '/v1/files/shared/hello.md');
    const etag = read.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);
    expect((await call(a, tokenA, '/v1/files/shared/hello.md', { method: 'PUT', body: 'v2', headers: { 'if-match': etag } })).status).toBe(200);
    expect((await call(a, tokenA, '/v1/files/shared/hello.md', { method: 'PUT', body: 'v3', headers: { 'if-match': etag } })).status).toBe(412);
  });

  it('other commands find the running serve and go through it', async () => {
    const root = ['--root', join(dir, 'a')];
    const events = await SseClient.connect(`${a.info.url}/v1/events`, { token: tokenA });
    try {
      const written = await runCli(['write', '/cli/note.txt', ...root], { input: 'from the cli\n' });
      expect(written).toMatchObject({ code: 0, stderr: '' });
      await events.waitFor(fileEvent('file_updated', '/cli/note.txt', 'local'));

      const [cat, ls, status, conflicts, resolve] = await Promise.all([
        runCli(['cat', '/cli/note.txt', ...root]),
        runCli(['ls', '/cli', '--json', ...root]),
        runCli(['status', '--json', ...root]),
        runCli(['conflicts', '--json', ...root]),
        runCli(['resolve', '/cli/note.txt', '--keep', 'local', ...root]),
      ]);
      expect(JSON.parse(conflicts.stdout.toString())).toEqual([]);
      expect(resolve.code).toBe(1);
      expect(resolve.stderr).toBe('scopefs: ENOENT: no open conflict for "/cli/note.txt"\n');
      expect(cat.stdout.toString()).toBe('from the cli\n');
      expect(JSON.parse(ls.stdout.toString()).map((f: { path: string }) => f.path)).toEqual(['/cli/note.txt']);
      const report = JSON.parse(status.stdout.toString());
      expect(report).toMatchObject({ via: 'serve', sync: { enabled: true, instanceId: 'A' } });
      expect(report.tree.map((c: { id: string }) => c.id)).toEqual(['fs', 'watcher', 'sync', 'agents']);

      expect((await runCli(['mv', '/cli/note.txt', '/cli/moved.txt', ...root])).code).toBe(0);
      await events.waitFor(fileEvent('file_moved', '/cli/moved.txt'));
      expect((await runCli(['rm', '/cli/moved.txt', ...root])).code).toBe(0);
      await events.waitFor(fileEvent('file_deleted', '/cli/moved.txt'));
    } finally {
      events.close();
    }
  }, 60_000);

  it('refuses a second serve on the same root', async () => {
    const second = await runCli(['serve', '--root', join(dir, 'a'), '--port', '0']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already running/);
  });

  it('SIGTERM flushes a write acknowledged just before it, and exits 0', async () => {
    const file = join(dir, 'b', 'last.txt');
    await call(b, tokenB, '/v1/files/last.txt', { method: 'PUT', body: 'first' });
    await call(b, tokenB, '/v1/flush', { method: 'POST' });
    // B debounces updates for a minute: only the shutdown flush can put this on disk.
    const put = await call(b, tokenB, '/v1/files/last.txt', { method: 'PUT', body: 'acknowledged' });
    expect(put.status).toBe(200);
    expect(await readFile(file, 'utf8')).toBe('first');
    expect(await b.stop('SIGTERM')).toBe(0);
    expect(await readFile(file, 'utf8')).toBe('acknowledged');
    expect(existsSync(join(dir, 'b', '.scopefs', 'serve.json'))).toBe(false);
  });
});
