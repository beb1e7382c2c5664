/**
 * Every interface with limited tokens: one table of (token, operation, path)
 * -> allowed or refused, run over the files API, MCP (a real client over
 * Streamable HTTP) and the SSE stream, against a real scope on real files.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startScope } from '../../supervisors/scope/scopes.js';
import { scopeForPrincipal } from '../../src/http/tokens-scope.js';
import { grantOf, TokenStore, tokensFilePath, type CreateTokenInput } from '../../src/http/tokens-store.js';
import type { FsEvent } from '../../src/types.js';
import { JSON_TYPE, startTestServer, TOKEN, type TestServer } from './helpers.js';
import { SseClient } from './sse-client.js';

type Op = 'read' | 'write' | 'delete' | 'move';

const TOKENS: Record<string, Omit<CreateTokenInput, 'name'>> = {
  'ci-bot': { read: ['/docs'], write: ['/notes'], delete: false },
  janitor: { write: ['/notes'], move: false },
  reader: { read: ['/'] },
};

/** [token, operation, directory of the path, directory moved to, allowed] */
const TABLE: Array<[string, Op, string, string | undefined, boolean]> = [
  ['ci-bot', 'read', '/docs', undefined, true],
  ['ci-bot', 'read', '/notes', undefined, true],
  ['ci-bot', 'read', '/secret', undefined, false],
  ['ci-bot', 'write', '/notes', undefined, true],
  ['ci-bot', 'write', '/docs', undefined, false],
  ['ci-bot', 'write', '/secret', undefined, false],
  ['ci-bot', 'delete', '/notes', undefined, false],
  ['ci-bot', 'move', '/notes', '/notes/sub', true],
  ['ci-bot', 'move', '/notes', '/docs', false],
  ['ci-bot', 'move', '/docs', '/notes', false],
  ['janitor', 'read', '/notes', undefined, true],
  ['janitor', 'read', '/docs', undefined, false],
  ['janitor', 'write', '/notes', undefined, true],
  ['janitor', 'delete', '/notes', undefined, true],
  ['janitor', 'delete', '/docs', undefined, false],
  ['janitor', 'move', '/notes', '/notes/sub', false],
  ['reader', 'read', '/secret', undefined, true],
  ['reader', 'write', '/docs', undefined, false],
  ['reader', 'delete', '/docs', undefined, false],
  ['reader', 'move', '/docs', '/docs/sub', false],
];

interface Outcome {
  ok: boolean;
  /** The refusal's message; absent for an MCP tool the grant does not list. */
  message?: string;
}

let server: TestServer;
const secrets: Record<string, string> = {};
const clients: Record<string, Client> = {};
const changes: FsEvent[] = [];

beforeAll(async () => {
  server = await startTestServer({ sync: () => ({ store: `memory:tokens-${randomBytes(4).toString('hex')}`, debounceMs: 5 }) });
  const store = new TokenStore(tokensFilePath(server.root));
  for (const [name, grant] of Object.entries(TOKENS)) secrets[name] = (await store.create({ name, ...grant })).token;
  for (const name of Object.keys(TOKENS)) clients[name] = await mcpClient(secrets[name]!);
  server.scope.fs.subscribe((event) => void changes.push(event));
}, 60_000);

afterAll(async () => {
  await Promise.all(Object.values(clients).map((client) => client.close()));
  await server.close();
});

async function mcpClient(token: string): Promise<Client> {
  const client = new Client({ name: 'tokens-test', version: '1.0.0' });
  const headers = { authorization: `Bearer ${token}` };
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers } }));
  return client;
}

function as(token: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
}

async function overHttp(token: string, op: Op, path: string, to: string): Promise<Outcome> {
  const target = `/v1/files${path}`;
  const response =
    op === 'read' ? await as(token, target)
    : op === 'write' ? await as(token, target, { method: 'PUT', body: 'by token' })
    : op === 'delete' ? await as(token, target, { method: 'DELETE' })
    : await as(token, '/v1/move', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ from: path, to }) });
  const text = await response.text();
  if (!response.ok) expect(response.status, text).toBe(403);
  return { ok: response.ok, message: response.ok ? text : (JSON.parse(text) as { error: { message: string } }).error.message };
}

async function overMcp(client: Client, op: Op, path: string, to: string): Promise<Outcome> {
  const [name, args] =
    op === 'read' ? ['read_file', { path }]
    : op === 'write' ? ['write_file', { path, content: 'by token' }]
    : op === 'delete' ? ['delete_file', { path }]
    : ['move_file', { from: path, to }];
  const listed = (await client.listTools()).tools.some((tool) => tool.name === name);
  if (!listed) {
    // A tool the grant could never use is not offered; calling it anyway fails.
    const result = await client.callTool({ name, arguments: args }).catch((err: Error) => ({ isError: true, content: [{ type: 'text', text: err.message }] }));
    return { ok: result.isError !== true };
  }
  const result = await client.callTool({ name, arguments: args });
  const text = (result.content as Array<{ text?: string }>).map((block) => block.text ?? '').join(' ');
  return { ok: result.isError !== true, message: text };
}

describe.each(['http', 'mcp'] as const)('a limited token over %s', (iface) => {
  it.each(TABLE.map((row, i) => [i, ...row] as const))('#%i %s %s %s (to %s): allowed %s', async (i, token, op, dir, toDir, allowed) => {
    const path = `${dir}/${iface}-${i}.md`;
    const to = `${toDir ?? dir}/${iface}-${i}-moved.md`;
    await server.scope.fs.writeFile(path, `seed ${i}`);
    const outcome = iface === 'http' ? await overHttp(secrets[token]!, op, path, to) : await overMcp(clients[token]!, op, path, to);
    expect(outcome.ok, outcome.message).toBe(allowed);
    if (!allowed && outcome.message !== undefined) {
      expect(outcome.message).toContain(`token "${token}" may not do this`);
      expect(outcome.message).toMatch(/outside its grant \(read .*; write .*\)/);
    }
    // A refused change changed nothing; an allowed one is recorded as the token's.
    if (op !== 'read') {
      const changed = op === 'write' ? (await server.scope.fs.readFile(path)) === 'by token' : !(await server.scope.fs.fileExists(path));
      expect(changed).toBe(allowed);
      if (allowed) {
        const event = changes.findLast((e) => 'path' in e ? e.path === path : 'from' in e && e.from === path);
        expect(event).toMatchObject({ actor: `token:${token}` });
      }
    }
  });
});

describe('a limited token over SSE', () => {
  it('gets exactly the events of the paths it may read, a move out of its grant as a delete', async () => {
    const streams: Record<string, SseClient> = {};
    for (const name of Object.keys(TOKENS)) streams[name] = await SseClient.connect(`${server.url}/v1/events`, { token: secrets[name] });
    try {
      const readRows = TABLE.filter(([, op]) => op === 'read');
      for (const [i, [token, , dir]] of readRows.entries()) await server.scope.fs.writeFile(`${dir}/sse-${token}-${i}.md`, 'x');
      await server.scope.fs.writeFile('/notes/sse-moving.md', 'x');
      await server.scope.fs.moveFile('/notes/sse-moving.md', '/secret/sse-moved.md');
      await server.scope.fs.writeFile('/notes/sse-marker.md', 'x');
      for (const [i, [token, , dir, , allowed]] of readRows.entries()) {
        const stream = streams[token]!;
        await stream.waitFor((m) => m.data.includes('/notes/sse-marker.md'));
        const seen = stream.messages.some((m) => m.data.includes(`${dir}/sse-${token}-${i}.md`));
        expect(seen, `${token} seeing ${dir}`).toBe(allowed);
      }
      const ciBot = streams['ci-bot']!.messages.filter((m) => m.data.includes('sse-mov'));
      expect(ciBot.map((m) => [m.event, JSON.parse(m.data).path])).toEqual([
        ['file_updated', '/notes/sse-moving.md'],
        ['file_deleted', '/notes/sse-moving.md'],
      ]);
      expect(streams['reader']!.messages.some((m) => m.event === 'file_moved' && m.data.includes('/secret/sse-moved.md'))).toBe(true);
      for (const name of ['ci-bot', 'janitor']) expect(streams[name]!.messages.filter((m) => m.data.includes('"/secret/'))).toEqual([]);
    } finally {
      for (const stream of Object.values(streams)) stream.close();
    }
  });
});

/** The principal the handler makes of the ci-bot token. */
async function ciBotPrincipal() {
  const token = (await new TokenStore(tokensFilePath(server.root)).list()).find((t) => t.name === 'ci-bot')!;
  return { actor: 'token:ci-bot', grant: grantOf(token) };
}

describe('listings and status under a grant', () => {
  it('list the granted paths only, over HTTP and MCP', async () => {
    await server.scope.fs.writeFile('/secret/listed.md', 'x');
    await server.scope.fs.writeFile('/docs/listed.md', 'x');
    const listed = (await (await as(secrets['ci-bot']!, '/v1/files?prefix=/')).json()) as { files: Array<{ path: string }> };
    expect(listed.files.length).toBeGreaterThan(0);
    expect(listed.files.every((file) => /^\/(docs|notes)\//.test(file.path))).toBe(true);
    const mcp = await clients['ci-bot']!.callTool({ name: 'list_files', arguments: {} });
    const text = (mcp.content as Array<{ text: string }>)[0]!.text;
    expect(text).toContain('/docs/listed.md');
    expect(text).not.toContain('/secret/');
  });

  it('status shows no path outside the grant, nor the root directory', async () => {
    const sync = server.scope.sync!;
    await sync.idle({ timeoutMs: 20_000 });
    await sync.pause();
    try {
      await server.scope.fs.writeFile('/secret/pending.md', 'x');
      await server.scope.fs.writeFile('/docs/pending.md', 'x');
      const owner = (await (await server.call('/v1/status')).json()) as { root: string; sync: { pending: string[] } };
      expect(owner.root).toBe(server.root);
      expect(owner.sync.pending).toEqual(expect.arrayContaining(['/secret/pending.md', '/docs/pending.md']));
      const limited = (await (await as(secrets['ci-bot']!, '/v1/status')).json()) as { root: null; sync: { pending: string[] } };
      expect(limited.root).toBeNull();
      expect(limited.sync.pending).toContain('/docs/pending.md');
      expect(JSON.stringify(limited)).not.toContain('/secret/');
      const mcp = await clients['ci-bot']!.callTool({ name: 'sync_status', arguments: {} });
      const text = (mcp.content as Array<{ text: string }>)[0]!.text;
      expect(text).toContain('/docs/pending.md');
      expect(text).not.toContain('/secret/pending.md');
    } finally {
      await sync.resume();
    }
  });

  it('operator controls and scope-wide operations are the owner\'s; a flush reports only granted paths', async () => {
    const limited = scopeForPrincipal(server.scope, await ciBotPrincipal());
    for (const refused of [() => limited.sync!.pause(), () => limited.sync!.resync(), () => limited.fs.reset(), () => limited.stop(), () => limited.fs.checkpoint('c'), () => limited.fs.deleteCheckpoint('c')]) {
      await expect(refused()).rejects.toMatchObject({ code: 'EACCES', message: expect.stringContaining('needs the owner token') });
    }
    // A scope whose updates wait (a long debounce), so both files are still dirty when flushed.
    const dir = await mkdtemp(join(tmpdir(), 'scopefs-tokens-flush-'));
    const slow = await startScope({ scopeKey: `tokens-flush-${randomBytes(3).toString('hex')}`, root: join(dir, 'root'), debounceMs: 600_000 });
    try {
      for (const path of ['/secret/dirty.md', '/docs/dirty.md']) {
        await slow.fs.writeFile(path, 'x');
        await slow.fs.writeFile(path, 'y'); // an update waits for the debounce
      }
      const flushed = await scopeForPrincipal(slow, await ciBotPrincipal()).fs.flushAll();
      expect(flushed.flushed).toEqual(['/docs/dirty.md']);
      expect(await slow.fs.flushAll()).toMatchObject({ flushed: [] }); // the other was flushed too, just not reported
    } finally {
      await slow.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('history under a grant: versions and undeletes of granted paths only', async () => {
    const limited = scopeForPrincipal(server.scope, await ciBotPrincipal());
    await server.scope.fs.writeFile('/secret/h.md', 'one');
    await server.scope.fs.writeFile('/notes/h.md', 'one');
    await server.scope.fs.deleteFile('/secret/h.md');
    await server.scope.fs.deleteFile('/notes/h.md');
    await expect(limited.fs.history('/secret/h.md')).rejects.toMatchObject({ code: 'EACCES' });
    await expect(limited.fs.readEntry('/secret/x.md')).rejects.toMatchObject({ code: 'EACCES' });
    await vi.waitFor(async () => expect((await server.scope.fs.listDeleted('/')).map((v) => v.path)).toEqual(expect.arrayContaining(['/secret/h.md', '/notes/h.md'])));
    const deleted = (await limited.fs.listDeleted('/')).map((version) => version.path);
    expect(deleted).toContain('/notes/h.md');
    expect(deleted).not.toContain('/secret/h.md');
    const [version] = await server.scope.fs.history('/secret/h.md');
    await expect(limited.fs.restore('/secret/h.md', version!.revision)).rejects.toMatchObject({ code: 'EACCES' });
  });

  it('a batch under a grant: refused whole when one item is outside it, applied with the actor when all are inside', async () => {
    const limited = scopeForPrincipal(server.scope, await ciBotPrincipal());
    await server.scope.fs.writeFile('/notes/batch-old.md', 'old');
    const outside = limited.fs.applyBatch([{ path: '/notes/batch-a.md', content: 'a' }, { path: '/docs/batch-b.md', content: 'b' }]);
    await expect(outside).rejects.toMatchObject({ code: 'EACCES' });
    const deleting = limited.fs.applyBatch([{ path: '/notes/batch-a.md', content: 'a' }, { path: '/notes/batch-old.md', delete: true }]);
    await expect(deleting).rejects.toMatchObject({ code: 'EACCES' }); // ci-bot may not delete
    expect(await server.scope.fs.fileExists('/notes/batch-a.md')).toBe(false);
    const events: FsEvent[] = [];
    const unsubscribe = server.scope.fs.subscribe((event) => void events.push(event));
    await limited.fs.applyBatch([{ path: '/notes/batch-a.md', content: 'a' }]);
    unsubscribe();
    expect(events.find((e) => e.type === 'file_updated' && e.path === '/notes/batch-a.md')).toMatchObject({ actor: 'token:ci-bot' });
  });

  it('resolving a conflict is a write: refused outside the grant before sync is asked', async () => {
    const resolve = (path: string) =>
      as(secrets['ci-bot']!, '/v1/conflicts/resolve', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ path, keep: 'local' }) });
    const outside = await resolve('/docs/c.md');
    expect(outside.status).toBe(403);
    expect(await outside.text()).toContain('writing \\"/docs/c.md\\" is outside its grant');
    expect((await resolve('/notes/c.md')).status).toBe(404); // inside: sync answers that there is no such conflict
  });

  it('locks: a token may lock what it may write, and lists only the locks on paths it may read', async () => {
    const take = (token: string, path: string) =>
      as(token, '/v1/locks', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ path, ttlMs: 60_000 }) });
    const mine = await take(secrets['ci-bot']!, '/notes/locked.md');
    expect(mine.status).toBe(201);
    const { token: lockToken } = (await mine.json()) as { token: string };
    const refused = await take(secrets['ci-bot']!, '/docs');
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('token \\"ci-bot\\" may not do this');
    expect((await take(TOKEN, '/secret/held.md')).status).toBe(201);
    const listed = (await (await as(secrets['ci-bot']!, '/v1/locks')).json()) as { locks: Array<{ path: string }> };
    expect(listed.locks.map((lock) => lock.path)).toContain('/notes/locked.md');
    expect(listed.locks.map((lock) => lock.path)).not.toContain('/secret/held.md');
    expect(await (await as(secrets['ci-bot']!, `/v1/locks/${lockToken}`, { method: 'DELETE' })).json()).toEqual({ released: true });
  });

  it('the owner token acts as "owner"', async () => {
    const response = await server.call('/v1/files/notes/by-owner.md', { method: 'PUT', body: 'o' });
    expect(response.status).toBe(200);
    expect(changes.findLast((e) => 'path' in e && e.path === '/notes/by-owner.md')).toMatchObject({ actor: 'owner' });
  });
});

describe('revoking a token', () => {
  it('takes effect on the next request, and closes its open event stream at once', async () => {
    const store = new TokenStore(tokensFilePath(server.root));
    const { token } = await store.create({ name: 'short-lived', write: ['/notes'] });
    const client = await mcpClient(token);
    const stream = await SseClient.connect(`${server.url}/v1/events`, { token });
    const owners = await SseClient.connect(`${server.url}/v1/events`, { token: TOKEN });
    try {
      expect((await as(token, '/v1/files/notes/n-0.md', { method: 'PUT', body: 'ok' })).status).toBe(200);
      await stream.waitFor((m) => m.data.includes('/notes/n-0.md'));

      await new TokenStore(tokensFilePath(server.root)).revoke('short-lived'); // as `scopefs token revoke` would
      await vi.waitFor(() => expect(stream.ended).toBe(true), { timeout: 10_000, interval: 20 });
      expect(owners.ended).toBe(false);
      const refused = await as(token, '/v1/files/notes/n-1.md', { method: 'PUT', body: 'no' });
      expect(refused.status).toBe(401);
      await expect(client.callTool({ name: 'write_file', arguments: { path: '/notes/n-2.md', content: 'no' } })).rejects.toThrow(/401|invalid bearer/);
      expect(await server.scope.fs.fileExists('/notes/n-1.md')).toBe(false);
    } finally {
      stream.close();
      owners.close();
      await client.close().catch(() => undefined);
    }
  });

  it('still closes a revoked token\'s stream after hundreds of other callers have come and gone', async () => {
    const store = new TokenStore(tokensFilePath(server.root));
    const { token } = await store.create({ name: 'early', read: ['/'] });
    const stream = await SseClient.connect(`${server.url}/v1/events`, { token });
    try {
      // More distinct callers than the handler caches routes for.
      for (let i = 0; i < 300; i++) {
        const other = (await store.create({ name: `crowd-${i}`, read: ['/docs'] })).token;
        expect((await as(other, '/v1/files?prefix=/docs')).status).toBe(200);
      }
      await store.revoke('early');
      await vi.waitFor(() => expect(stream.ended).toBe(true), { timeout: 10_000, interval: 20 });
    } finally {
      stream.close();
    }
  }, 60_000);

  it('a token that expires while its event stream is open: the stream ends by the next heartbeat', async () => {
    const quick = await startTestServer({ heartbeatMs: 50 });
    try {
      const { token } = await new TokenStore(tokensFilePath(quick.root)).create({ name: 'brief', read: ['/'], expiresInMs: 400 });
      const stream = await SseClient.connect(`${quick.url}/v1/events`, { token });
      expect(stream.ended).toBe(false);
      await vi.waitFor(() => expect(stream.ended).toBe(true), { timeout: 10_000, interval: 20 });
      expect((await fetch(`${quick.url}/v1/files?prefix=/`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
      stream.close();
    } finally {
      await quick.close();
    }
  });

  it('an expired token is refused with a message that says so', async () => {
    const store = new TokenStore(tokensFilePath(server.root));
    const { token } = await store.create({ name: 'expired', read: ['/'], expiresInMs: 1 }, Date.now() - 1_000);
    const response = await as(token, '/v1/files?prefix=/');
    expect(response.status).toBe(401);
    expect(await response.text()).toMatch(/token \\?"expired\\?" expired at .*scopefs token create/);
  });
});
