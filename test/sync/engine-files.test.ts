/**
 * `.sync-status.json` and `.sync-failures.json` are the engine's, written to
 * disk beside the user's files for agents that read the root, but never part
 * of the scope: not in listings, stats, MCP `list_files` or the event stream,
 * not taken in by the disk driver or the watcher, and rewritten at most a few
 * times a second whatever the write rate.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { StatusReport } from '../../src/sync/status-report.js';
import type { SyncStatus } from '../../src/sync/types.js';
import type { FsEvent } from '../../src/types.js';
import { call } from '../mcp/scenario.js';
import { startTestServer, TOKEN, type TestServer } from '../http/helpers.js';
import { fileEvent, SseClient } from '../http/sse-client.js';

const STATUS = '.sync-status.json';
const FAILURES = '.sync-failures.json';
const isEngineName = (path: string | undefined): boolean => path !== undefined && /\.sync-(status|failures)\.json$/.test(path);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Polls a condition with a deadline (the status file's content is state no event announces). */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function diskJson(root: string, name: string): Promise<unknown> {
  return JSON.parse(await readFile(join(root, name), 'utf8').catch(() => 'null'));
}

/** Waits until the status file on disk is the status the engine reports now. */
async function statusLanded(scope: RunningScope): Promise<void> {
  let last: unknown;
  await until(async () => {
    last = await diskJson(scope.root!, STATUS);
    return JSON.stringify(last) === JSON.stringify(await scope.sync!.status());
  }, `${STATUS} to match the status (last seen ${JSON.stringify(last)})`);
}

/** File events about engine files, from a subscription on the scope. */
function engineEvents(scope: RunningScope): FsEvent[] {
  const seen: FsEvent[] = [];
  const off = scope.fs.subscribe((event) => {
    if (event.type === 'snapshot') return;
    const paths = event.type === 'file_moved' ? [event.from, event.to] : [event.path];
    if (paths.some(isEngineName)) seen.push(event);
  });
  cleanups.push(off);
  return seen;
}

describe('engine status files are outside the scope', () => {
  it('a served scope: HTTP and MCP listings, stats and SSE never show them; on disk they are current', async () => {
    const server: TestServer = await startTestServer({
      sync: (dir) => ({ store: `sqlite:${join(dir, 'store.db')}`, app: 'engine-files', debounceMs: 5, maxFileBytes: 1024 }),
    });
    cleanups.push(() => server.close());
    const scope = server.scope;
    const events = await SseClient.connect(`${server.url}/v1/events`, { token: TOKEN });
    cleanups.push(() => events.close());
    await events.waitFor((m) => m.event === 'ready');
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createMcpServer(scope, { version: 'test' }).connect(serverSide);
    const mcp = new Client({ name: 'test', version: '1' });
    await mcp.connect(clientSide);
    cleanups.push(() => mcp.close());

    const userFiles = ['/big.bin', ...Array.from({ length: 10 }, (_, i) => `/notes/n${i}.md`)];
    for (const path of userFiles.slice(1)) await server.call(`/v1/files${path}`, { method: 'PUT', body: `note ${path}` });
    await server.call('/v1/files/big.bin', { method: 'PUT', body: new Uint8Array(4096) }); // over maxFileBytes: a failure
    await scope.sync!.idle({ timeoutMs: 20_000 });
    await scope.fs.flushAll();
    // A last write: once its event is on the stream, every event before it is too.
    await server.call('/v1/files/zz-sentinel.md', { method: 'PUT', body: 'last' });
    await events.waitFor(fileEvent('file_updated', '/zz-sentinel.md'));
    const expected = [...userFiles, '/zz-sentinel.md'].sort();

    expect((await scope.fs.listFiles('/')).sort()).toEqual(expected);
    const listed = (await (await server.call('/v1/files')).json()) as { files: Array<{ path: string }> };
    expect(listed.files.map((f) => f.path).sort()).toEqual(expected);
    expect((await scope.fs.stats()).total).toBe(expected.length);
    const status = (await (await server.call('/v1/status')).json()) as { files: { total: number } };
    expect(status.files.total).toBe(expected.length);
    const mcpListing = (await call(mcp, 'list_files', { prefix: '/' })).texts.join('\n');
    expect(mcpListing).toContain('zz-sentinel.md');
    expect(mcpListing).not.toMatch(/sync-(status|failures)/);
    const sseEngine = events.messages.filter((m) => {
      const data = JSON.parse(m.data || '{}') as { path?: string; from?: string; to?: string };
      return [data.path, data.from, data.to].some(isEngineName);
    });
    expect(sseEngine).toEqual([]);

    await statusLanded(scope);
    expect(await diskJson(server.root, STATUS)).toMatchObject({ state: 'live', failedPaths: ['/big.bin'] });
    const failures = (await diskJson(server.root, FAILURES)) as Array<{ path: string; error: string }>;
    expect(failures.at(-1)).toMatchObject({ path: '/big.bin', error: expect.stringMatching(/EFBIG/) });
  });

  it('1,000 writes rewrite the status file a few times a second at most, and the last status lands', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scopefs-engine-files-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const root = join(dir, 'root');
    await mkdir(root, { recursive: true });
    let statusWrites = 0;
    const watcher: FSWatcher = watch(root, (type, name) => {
      if (type === 'rename' && name === STATUS) statusWrites++; // an atomic write renames onto the name
    });
    cleanups.push(() => watcher.close());
    const scope = await startScope({
      scopeKey: ['engine-files', 'burst'],
      root,
      watch: false,
      sync: { store: `sqlite:${join(dir, 'store.db')}`, app: 'burst', debounceMs: 1 },
    });
    cleanups.push(() => scope.stop());
    const seen = engineEvents(scope);
    const started = Date.now();
    for (let i = 0; i < 1000; i++) {
      await scope.fs.writeFile(`/burst/f${i % 50}.md`, `write ${i}`);
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await scope.sync!.idle({ timeoutMs: 30_000 });
    await statusLanded(scope);
    const seconds = (Date.now() - started) / 1000;
    expect(seen).toEqual([]);
    expect(statusWrites).toBeGreaterThan(0);
    expect(statusWrites, `${statusWrites} status writes in ${seconds.toFixed(1)} s`).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 2);
    expect(await diskJson(root, STATUS)).toMatchObject({ state: 'live', pending: [] });
    // Stopping lands the final state too.
    await scope.stop();
    expect(await diskJson(root, STATUS)).toMatchObject({ state: 'stopped' });
  });

  it('a memory-only scope keeps its status in the status API only', async () => {
    const scope = await startScope({ scopeKey: ['engine-files', 'memory'], sync: { store: 'memory:engine-files-memory', app: 'mem', debounceMs: 1 } });
    cleanups.push(() => scope.stop());
    const seen = engineEvents(scope);
    for (let i = 0; i < 20; i++) await scope.fs.writeFile(`/m${i}.md`, `${i}`);
    await scope.sync!.idle({ timeoutMs: 20_000 });
    expect(await scope.fs.listFiles('/')).toHaveLength(20);
    expect((await scope.fs.stats()).total).toBe(20);
    expect(seen).toEqual([]);
    expect(await scope.sync!.status()).toMatchObject({ state: 'live', pending: [] });
  });

  it('status files already on disk are not indexed at start, and the watcher does not take in their rewrites', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scopefs-engine-files-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const root = join(dir, 'root');
    await mkdir(root, { recursive: true });
    // Left by an earlier run (or by an older version, which wrote them through the filesystem).
    await writeFile(join(root, STATUS), '{"state":"live"}\n');
    await writeFile(join(root, FAILURES), '[]\n');
    await writeFile(join(root, 'kept.md'), 'a user file');
    const scope = await startScope({
      scopeKey: ['engine-files', 'watch'],
      root,
      watch: true,
      sync: { store: `sqlite:${join(dir, 'store.db')}`, app: 'watch', debounceMs: 1 },
    });
    cleanups.push(() => scope.stop());
    const seen = engineEvents(scope);
    await scope.sync!.idle({ timeoutMs: 20_000 });
    await scope.fs.writeFile('/new.md', 'written through the API');
    await scope.sync!.idle({ timeoutMs: 20_000 });
    await statusLanded(scope); // rewritten on disk by the engine, under the watcher's eyes
    // Another program's file, written after the status: once the watcher has it, it has seen the status rewrite too.
    await writeFile(join(root, 'outside.md'), 'from another program');
    await until(() => scope.fs.fileExists('/outside.md'), 'the watcher to take in outside.md');
    expect((await scope.fs.listFiles('/')).sort()).toEqual(['/kept.md', '/new.md', '/outside.md']);
    expect(seen).toEqual([]);
  });

  it('StatusReport: a thousand updates over a second or more are written at most about four times a second, the last one always', async () => {
    const root = await mkdtemp(join(tmpdir(), 'scopefs-status-report-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    let renames = 0;
    const watcher = watch(root, (type, name) => {
      if (type === 'rename' && name === STATUS) renames++;
    });
    cleanups.push(() => watcher.close());
    const report = new StatusReport(root);
    const status = (cursor: number): SyncStatus => ({
      ...{ enabled: true, connected: true, state: 'live', conflicts: [], lastSyncedAt: null },
      ...{ pending: [], failedPaths: [], cursor, instanceId: 'i', store: 'memory:x' },
    });
    const started = Date.now();
    for (let i = 1; i <= 1000; i++) {
      report.update(status(i), []);
      if (i % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 2)); // 500 waits of 2 ms: over a second
    }
    await report.close();
    const seconds = (Date.now() - started) / 1000;
    expect(await diskJson(root, STATUS)).toEqual(status(1000));
    expect(await diskJson(root, FAILURES)).toBeNull(); // no failure yet: no failures file
    // The burst outlasted several intervals, so it was written while it went on, not only at the end.
    await until(async () => renames > 1, 'the watcher to report the renames');
    expect(renames, `${renames} writes in ${seconds.toFixed(2)} s`).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 2);
  });
});
