/**
 * The scope handler mounted in an app's own server: plain node:http under a
 * base path with the app's auth callback, an Express-shaped (req, res, next)
 * chain, and Hono on @hono/node-server. Real scope, real sockets, a real MCP
 * client.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve as honoServe, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { createScopeHandler, type ScopeHandler } from '../../src/http/handler.js';
import { startHttpServer } from '../../src/http/server.js';
import type { Authenticate } from '../../src/http/auth.js';
import type { FsEvent } from '../../src/types.js';
import { SseClient } from './sse-client.js';

let dir: string;
let scope: RunningScope;
const changes: FsEvent[] = [];

/** The app's own auth: a header naming the user; guests may only read /public. */
const appAuth: Authenticate = (req) => {
  const user = req.headers['x-user'];
  if (user === 'alice') return { actor: 'user:alice' };
  if (user === 'guest') return { actor: 'user:guest', grant: { holder: 'user guest', read: ['/public'], write: [], delete: false, move: false } };
  return null;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-handler-'));
  scope = await startScope({ scopeKey: `handler-${randomBytes(4).toString('hex')}`, root: join(dir, 'root') });
  scope.fs.subscribe((event) => void changes.push(event));
});

afterAll(async () => {
  await scope.stop();
  await rm(dir, { recursive: true, force: true });
});

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server, handler: ScopeHandler): Promise<void> {
  handler.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

async function mcpClient(url: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'handler-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

describe('mounted in plain node:http under /scopefs', () => {
  let server: Server;
  let handler: ScopeHandler;
  let url: string;

  beforeAll(async () => {
    handler = createScopeHandler({ scope, auth: appAuth, basePath: '/scopefs' });
    server = createServer((req, res) => {
      if (req.url?.startsWith('/scopefs')) return handler(req, res);
      res.end('the app itself');
    });
    url = await listen(server);
  });
  afterAll(() => close(server, handler));

  it('serves files under the base path with the app\'s auth, recording its actor', async () => {
    const put = await fetch(`${url}/scopefs/v1/files/public/hello.md`, { method: 'PUT', body: 'hi', headers: { 'x-user': 'alice' } });
    expect(put.status).toBe(200);
    expect(changes.findLast((e) => 'path' in e && e.path === '/public/hello.md')).toMatchObject({ actor: 'user:alice' });
    const read = await fetch(`${url}/scopefs/v1/files/public/hello.md`, { headers: { 'x-user': 'guest' } });
    expect(await read.text()).toBe('hi');
    const refused = await fetch(`${url}/scopefs/v1/files/public/hello.md`, { method: 'PUT', body: 'x', headers: { 'x-user': 'guest' } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'EACCES', message: expect.stringContaining('user guest may not do this') } });
    expect((await fetch(`${url}/scopefs/v1/files/public/hello.md`)).status).toBe(401);
    expect(await (await fetch(`${url}/elsewhere`)).text()).toBe('the app itself');
  });

  it('answers /healthz without auth, /readyz with it', async () => {
    expect(await (await fetch(`${url}/scopefs/healthz`)).json()).toEqual({ ok: true });
    expect((await fetch(`${url}/scopefs/readyz`)).status).toBe(401);
    const ready = await fetch(`${url}/scopefs/readyz`, { headers: { 'x-user': 'guest' } });
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { fs: { ready: true }, sync: { ready: true, state: 'disabled' } } });
  });

  it('serves MCP, with only the tools the caller\'s grant allows', async () => {
    const alice = await mcpClient(`${url}/scopefs/mcp`, { 'x-user': 'alice' });
    const guest = await mcpClient(`${url}/scopefs/mcp`, { 'x-user': 'guest' });
    try {
      const names = async (client: Client) => (await client.listTools()).tools.map((tool) => tool.name);
      expect(await names(alice)).toContain('write_file');
      expect(await names(guest)).not.toContain('write_file');
      expect(await names(guest)).toContain('read_file');
      const reply = await alice.callTool({ name: 'write_file', arguments: { path: '/public/by-mcp.md', content: 'm' } });
      expect(reply.isError).not.toBe(true);
      expect(changes.findLast((e) => 'path' in e && e.path === '/public/by-mcp.md')).toMatchObject({ actor: 'user:alice' });
    } finally {
      await Promise.all([alice.close(), guest.close()]);
    }
  });

  it('streams events, and the app can end a caller\'s streams (a user who logged out)', async () => {
    const guest = await SseClientWith(`${url}/scopefs/v1/events`, { 'x-user': 'guest' });
    const alice = await SseClientWith(`${url}/scopefs/v1/events`, { 'x-user': 'alice' });
    await scope.fs.writeFile('/private/p.md', 'p');
    await scope.fs.writeFile('/public/after.md', 'a');
    await guest.waitFor((m) => m.data.includes('/public/after.md'));
    await alice.waitFor((m) => m.data.includes('/public/after.md'));
    expect(guest.messages.some((m) => m.data.includes('/private/p.md'))).toBe(false);
    expect(alice.messages.some((m) => m.data.includes('/private/p.md'))).toBe(true);
    expect(handler.closeEventStreams((principal) => principal.actor === 'user:guest')).toBe(1);
    await vi.waitFor(() => expect(guest.ended).toBe(true), { timeout: 5_000, interval: 20 });
    expect(alice.ended).toBe(false);
    alice.close();
  });
});

describe('configuration', () => {
  it('a mounted handler refuses to run without auth, or with a short token', () => {
    expect(() => createScopeHandler({ scope, auth: { mode: 'none' } })).toThrow(/needs auth: your own callback/);
    expect(() => createScopeHandler({ scope, auth: { mode: 'token', token: 'short' } })).toThrow(/at least 16 characters/);
    expect(() => createScopeHandler({ scope, auth: appAuth, basePath: 'scopefs' })).toThrow(/basePath must start with "\/"/);
  });
});

describe('request log', () => {
  it('onRequest hears every request once it is done, without the query string', async () => {
    const seen: Array<{ method: string; path: string; status: number; ms: number }> = [];
    const http = await startHttpServer({ scope, auth: { mode: 'none' }, port: 0, onRequest: (info) => seen.push(info) });
    try {
      await (await fetch(`${http.url}/v1/files?prefix=/public&access_token=secret`)).arrayBuffer();
      await (await fetch(`${http.url}/v1/files/missing.md`)).arrayBuffer();
      await vi.waitFor(() => expect(seen).toHaveLength(2));
      expect(seen.map(({ method, path, status }) => ({ method, path, status }))).toEqual([
        { method: 'GET', path: '/v1/files', status: 200 },
        { method: 'GET', path: '/v1/files/missing.md', status: 404 },
      ]);
      expect(seen.every((info) => info.ms >= 0)).toBe(true);
    } finally {
      await http.close();
    }
  });
});

describe('in an Express-shaped (req, res, next) chain', () => {
  it('hands requests outside its base path to next()', async () => {
    const handler = createScopeHandler({ scope, auth: appAuth, basePath: '/files-api' });
    const appRoute = (_req: IncomingMessage, res: ServerResponse) => res.end('next route');
    const server = createServer((req, res) => handler(req, res, (err) => (err ? res.destroy() : appRoute(req, res))));
    const url = await listen(server);
    try {
      expect(await (await fetch(`${url}/other`)).text()).toBe('next route');
      const listed = await fetch(`${url}/files-api/v1/files?prefix=/public`, { headers: { 'x-user': 'guest' } });
      expect(await listed.json()).toMatchObject({ prefix: '/public/', files: expect.arrayContaining([expect.objectContaining({ path: '/public/hello.md' })]) });
    } finally {
      await close(server, handler);
    }
  });
});

describe('in Express (installed with the MCP SDK)', () => {
  it('app.use(path, handler): Express strips the mount path, so no basePath', async () => {
    // Express ships no types here; a non-literal specifier keeps tsc from asking for them.
    type Express = { use(...args: unknown[]): void; get(path: string, handler: (req: unknown, res: ServerResponse) => void): void };
    const express = (await import('express' as string)).default as () => Express & ((req: IncomingMessage, res: ServerResponse) => void);
    const handler = createScopeHandler({ scope, auth: appAuth });
    const app = express();
    app.use('/scopefs', handler);
    app.get('/about', (_req, res) => res.end('express page'));
    const server = createServer(app);
    const url = await listen(server);
    try {
      expect(await (await fetch(`${url}/about`)).text()).toBe('express page');
      const put = await fetch(`${url}/scopefs/v1/files/public/express.md`, { method: 'PUT', body: 'via express', headers: { 'x-user': 'alice' } });
      expect(put.status).toBe(200);
      expect(await (await fetch(`${url}/scopefs/v1/files/public/express.md`, { headers: { 'x-user': 'guest' } })).text()).toBe('via express');
      const client = await mcpClient(`${url}/scopefs/mcp`, { 'x-user': 'alice' });
      expect((await client.callTool({ name: 'read_file', arguments: { path: '/public/express.md', raw: true } })).isError).not.toBe(true);
      await client.close();
    } finally {
      await close(server, handler);
    }
  });
});

describe('in Hono on @hono/node-server', () => {
  it('serves files, MCP and events through c.env.incoming/outgoing', async () => {
    const handler = createScopeHandler({ scope, auth: appAuth, basePath: '/scopefs' });
    const app = new Hono<{ Bindings: HttpBindings }>();
    app.get('/', (c) => c.text('hono app'));
    app.all('/scopefs/*', (c) => {
      handler(c.env.incoming, c.env.outgoing);
      return RESPONSE_ALREADY_SENT;
    });
    const server = await new Promise<Server>((resolve) => {
      const started = honoServe({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started as Server));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await (await fetch(`${url}/`)).text()).toBe('hono app');
      const events = await SseClientWith(`${url}/scopefs/v1/events`, { 'x-user': 'alice' });
      const put = await fetch(`${url}/scopefs/v1/files/public/hono.md`, { method: 'PUT', body: 'from hono', headers: { 'x-user': 'alice' } });
      expect(put.status).toBe(200);
      expect(await scope.fs.readFile('/public/hono.md')).toBe('from hono');
      await events.waitFor((m) => m.data.includes('/public/hono.md'));
      events.close();
      const client = await mcpClient(`${url}/scopefs/mcp`, { 'x-user': 'guest' });
      const reply = await client.callTool({ name: 'write_file', arguments: { path: '/public/no.md', content: 'x' } }).catch((err: Error) => ({ isError: true, err }));
      expect(reply.isError).toBe(true);
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('list_files');
      await client.close();
    } finally {
      await close(server, handler);
    }
  });
});

/** SseClient.connect with custom headers (the app's auth), via a token-less connect plus a patched fetch. */
async function SseClientWith(url: string, headers: Record<string, string>): Promise<SseClient> {
  const original = globalThis.fetch;
  globalThis.fetch = ((input: Parameters<typeof fetch>[0], init: RequestInit = {}) =>
    original(input, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } })) as typeof fetch;
  try {
    return await SseClient.connect(url);
  } finally {
    globalThis.fetch = original;
  }
}
