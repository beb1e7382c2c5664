/**
 * A multi-scope server: a request, a token (named or JWT), an event stream
 * or an MCP session for one scope never reads, lists, sees events of or
 * writes another; hostile scope segments are refused before anything starts.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { startTenantServer, type TenantServerHandle } from '../../src/http/tenant-server.js';
import { TokenStore, tokensFilePath } from '../../src/http/tokens-store.js';
import { rawRequest, TOKEN } from '../http/helpers.js';
import { SseClient } from '../http/sse-client.js';

const SECRET = 'a-shared-jwt-secret-of-at-least-32-bytes';
let dataDir: string;
let server: TenantServerHandle;
let aliceToken: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'scopefs-tenants-'));
  const store = new MemoryStore();
  const tokensFile = tokensFilePath(dataDir);
  aliceToken = (await new TokenStore(tokensFile).create({ name: 'alice-app', read: ['/'], write: ['/'], scopes: ['user/alice'] })).token;
  server = await startTenantServer({
    port: 0,
    auth: { mode: 'token', token: TOKEN, tokensFile },
    jwt: { secret: SECRET },
    heartbeatMs: 50,
    onError: () => undefined,
    pool: { dataDir, scopeOptions: (key) => ({ watch: false, sync: { store, app: key } }) },
  });
  for (const [scope, file] of [['user%2Falice', 'a.txt'], ['user%2Fbob', 'b.txt']] as const) {
    const put = await as(TOKEN, `/v1/scopes/${scope}/v1/files/${file}`, { method: 'PUT', body: `${scope} only` });
    expect(put.status).toBeLessThan(300);
  }
});

afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function as(token: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
}

function jwt(claims: Record<string, unknown>, options: { secret?: string; expiresIn?: string } = {}): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bob')
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

async function mcpClient(token: string, scope: string): Promise<Client> {
  const client = new Client({ name: 'tenants-test', version: '1.0.0' });
  const headers = { authorization: `Bearer ${token}` };
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/v1/scopes/${scope}/mcp`), { requestInit: { headers } }));
  return client;
}

describe('a multi-scope server', () => {
  it('serves each scope under its prefix from its own directory', async () => {
    expect(await (await as(TOKEN, '/v1/scopes/user%2Falice/v1/files/a.txt')).text()).toBe('user%2Falice only');
    expect((await as(TOKEN, '/v1/scopes/user%2Falice/v1/files/b.txt')).status).toBe(404);
    expect((await readdir(dataDir)).sort()).toEqual(['.scopefs', 'user~2falice', 'user~2fbob']);
  });

  it('lists to the owner every scope, to a scoped token its own', async () => {
    const owner = (await (await as(TOKEN, '/v1/scopes')).json()) as { scopes: Array<{ key: string; state: string; files: number }> };
    expect(owner.scopes.map((s) => s.key)).toEqual(['user/alice', 'user/bob']);
    expect(owner.scopes.every((s) => s.files === 1 && ['active', 'idle'].includes(s.state))).toBe(true);
    const alice = (await (await as(aliceToken, '/v1/scopes')).json()) as { scopes: Array<{ key: string }> };
    expect(alice.scopes.map((s) => s.key)).toEqual(['user/alice']);
  });

  it('pages the listing by key: limit, then after the previous page\'s next', async () => {
    const first = (await (await as(TOKEN, '/v1/scopes?limit=1')).json()) as { scopes: Array<{ key: string }>; next?: string };
    expect([first.scopes.map((s) => s.key), first.next]).toEqual([['user/alice'], 'user/alice']);
    const second = (await (await as(TOKEN, `/v1/scopes?limit=1&after=${encodeURIComponent(first.next!)}`)).json()) as { scopes: Array<{ key: string }>; next?: string };
    expect([second.scopes.map((s) => s.key), second.next]).toEqual([['user/bob'], undefined]);
    const bad = await as(TOKEN, '/v1/scopes?limit=0');
    expect([bad.status, ((await bad.json()) as { error: { code: string } }).error.code]).toEqual([400, 'EINVAL']);
  });

  it('refuses a named token every route of another scope', async () => {
    expect((await as(aliceToken, '/v1/scopes/user%2Falice/v1/files/a.txt')).status).toBe(200);
    for (const [method, path] of [
      ['GET', '/v1/files/b.txt'],
      ['GET', '/v1/files'],
      ['PUT', '/v1/files/x.txt'],
      ['DELETE', '/v1/files/b.txt'],
      ['GET', '/v1/events'],
      ['GET', '/v1/status'],
      ['POST', '/mcp'],
    ] as const) {
      const response = await as(aliceToken, `/v1/scopes/user%2Fbob${path}`, { method, body: method === 'PUT' ? 'x' : undefined });
      expect(response.status, `${method} ${path}`).toBe(403);
    }
    // Case variants are other scopes.
    expect((await as(aliceToken, '/v1/scopes/User%2Falice/v1/files/a.txt')).status).toBe(403);
    expect((await as(TOKEN, '/v1/scopes/user%2Fbob/v1/files/x.txt')).status).toBe(404);
  });

  it('takes a JWT for the scopes it names, with its grant, and refuses forged, expired or scopeless ones', async () => {
    const bob = await jwt({ scopes: ['user/bob'], write: ['/'] });
    expect(await (await as(bob, '/v1/scopes/user%2Fbob/v1/files/b.txt')).text()).toBe('user%2Fbob only');
    expect((await as(bob, '/v1/scopes/user%2Falice/v1/files/a.txt')).status).toBe(403);
    const readOnly = await jwt({ scopes: ['user/bob'], read: ['/'], write: [] });
    expect((await as(readOnly, '/v1/scopes/user%2Fbob/v1/files/new.txt', { method: 'PUT', body: 'no' })).status).toBe(403);
    for (const refused of [
      await jwt({ scopes: ['user/bob'] }, { secret: 'another-secret-of-at-least-32-bytes!!' }),
      await jwt({ scopes: ['user/bob'] }, { expiresIn: '-1m' }),
      await jwt({}),
      await jwt({ scopes: ['..'] }),
    ]) {
      expect((await as(refused, '/v1/scopes/user%2Fbob/v1/files/b.txt')).status).toBe(401);
    }
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', exp: 9e9, scopes: ['user/bob'] })).toString('base64url')}.`;
    expect((await as(unsigned, '/v1/scopes/user%2Fbob/v1/files/b.txt')).status).toBe(401);
  });

  it('streams to a scope only its own events', async () => {
    const stream = await SseClient.connect(`${server.url}/v1/scopes/user%2Falice/v1/events`, { token: aliceToken });
    try {
      await as(TOKEN, '/v1/scopes/user%2Fbob/v1/files/bob-event.txt', { method: 'PUT', body: 'b' });
      await as(TOKEN, '/v1/scopes/user%2Falice/v1/files/alice-event.txt', { method: 'PUT', body: 'a' });
      await stream.waitFor((message) => message.data.includes('alice-event.txt'));
      expect(stream.messages.some((message) => message.data.includes('bob'))).toBe(false);
    } finally {
      stream.close();
    }
  });

  it('ends the event streams of a revoked named token and of an expired JWT', async () => {
    const store = new TokenStore(tokensFilePath(dataDir));
    const carol = (await store.create({ name: 'carol', read: ['/'], scopes: ['user/alice'] })).token;
    const shortJwt = await new SignJWT({ scopes: ['user/bob'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('short')
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(SECRET));
    const streams = [
      await SseClient.connect(`${server.url}/v1/scopes/user%2Falice/v1/events`, { token: carol }),
      await SseClient.connect(`${server.url}/v1/scopes/user%2Fbob/v1/events`, { token: shortJwt }),
    ];
    const owners = await SseClient.connect(`${server.url}/v1/scopes/user%2Falice/v1/events`, { token: TOKEN });
    try {
      await store.revoke('carol');
      const deadline = Date.now() + 15_000;
      while (!streams.every((stream) => stream.ended) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(streams.map((stream) => stream.ended)).toEqual([true, true]);
      expect(owners.ended).toBe(false);
      expect((await as(carol, '/v1/scopes/user%2Falice/v1/files/a.txt')).status).toBe(401);
    } finally {
      for (const stream of [...streams, owners]) stream.close();
    }
  });

  it('gives an MCP session its scope only', async () => {
    const client = await mcpClient(aliceToken, 'user%2Falice');
    try {
      const listed = await client.callTool({ name: 'list_files', arguments: {} });
      const text = (listed.content as Array<{ text: string }>)[0]!.text;
      expect(text).toContain('a.txt');
      expect(text).not.toContain('b.txt');
      const read = await client.callTool({ name: 'read_file', arguments: { path: '/b.txt' } });
      expect(read.isError).toBe(true);
    } finally {
      await client.close();
    }
    await expect(mcpClient(aliceToken, 'user%2Fbob')).rejects.toThrow();
  });

  it('refuses hostile scope segments before starting anything', async () => {
    const before = (await readdir(dataDir)).sort();
    for (const segment of ['..', '%2E%2E', '..%2F..%2Fetc', 'a%2F..%2F..%2Fb', '%2Fabs', 'nul%00byte', 'line%0Abreak', '%E0%A4%A', 'x'.repeat(300), '%20pad']) {
      const response = await rawRequest(server.url, 'GET', `/v1/scopes/${segment}/v1/files`, { authorization: `Bearer ${TOKEN}` });
      expect(response.status, segment).toBe(400);
    }
    expect((await readdir(dataDir)).sort()).toEqual(before);
    // NFD and NFC name one scope.
    expect((await as(TOKEN, `/v1/scopes/${encodeURIComponent('cafe\u0301')}/v1/files/x.txt`, { method: 'PUT', body: 'x' })).status).toBeLessThan(300);
    expect((await as(TOKEN, `/v1/scopes/${encodeURIComponent('caf\u00e9')}/v1/files/x.txt`)).status).toBe(200);
  });

  it('refuses requests without a token and paths outside /v1/scopes', async () => {
    expect((await fetch(`${server.url}/v1/scopes`)).status).toBe(401);
    expect((await as(TOKEN, '/v1/files')).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
