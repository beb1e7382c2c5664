import { mkdtemp, readFile, rm, stat, chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost, loadOrCreateToken } from '../../src/http/auth.js';
import { startHttpServer } from '../../src/http/server.js';
import type { FileSystem, ScopeHandle } from '../../src/types.js';
import { rawRequest, startTestServer, TOKEN, type TestServer } from './helpers.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await server.call('/v1/files/secret.txt', { method: 'PUT', body: 'top secret' });
});
afterAll(() => server.close());

describe('bearer-token auth', () => {
  const endpoints: Array<[string, string]> = [
    ['GET', '/v1/files/secret.txt'],
    ['GET', '/v1/files'],
    ['PUT', '/v1/files/new.txt'],
    ['GET', '/v1/events'],
    ['GET', '/v1/status'],
    ['GET', '/api/file-sync/status'],
    ['POST', '/mcp'],
    ['GET', '/no/such/route'],
  ];

  it.each(endpoints)('%s %s without a token: 401 and no data', async (method, path) => {
    const response = await rawRequest(server.url, method, path);
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'EAUTH', message: 'missing or invalid bearer token' } });
  });

  it.each([
    ['a wrong token', `Bearer ${TOKEN}x`],
    ['a token prefix', `Bearer ${TOKEN.slice(0, 10)}`],
    ['another scheme', `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`],
    ['an empty bearer', 'Bearer '],
  ])('%s: 401', async (_, authorization) => {
    const response = await rawRequest(server.url, 'GET', '/v1/files/secret.txt', { authorization });
    expect(response.status).toBe(401);
    expect(response.body).not.toContain('secret');
  });

  it('the right token: 200', async () => {
    const response = await rawRequest(server.url, 'GET', '/v1/files/secret.txt', { authorization: `Bearer ${TOKEN}` });
    expect(response.status).toBe(200);
    expect(response.body).toBe('top secret');
  });

  it('refuses a Host that is not loopback while listening on loopback (DNS rebinding)', async () => {
    const response = await rawRequest(server.url, 'GET', '/v1/files/secret.txt', {
      authorization: `Bearer ${TOKEN}`,
      host: 'attacker.example:80',
    });
    expect(response.status).toBe(403);
    expect(response.body).not.toContain('secret');
  });
});

describe('auth configuration', () => {
  it('serves loopback without a token only when asked to', async () => {
    const open = await startTestServer({ auth: { mode: 'none' } });
    try {
      await open.call('/v1/files/x.txt', { method: 'PUT', body: 'x' });
      const response = await rawRequest(open.url, 'GET', '/v1/files/x.txt');
      expect(response.status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('refuses to listen beyond loopback without a token', async () => {
    await expect(
      startHttpServer({ scope: server.scope, auth: { mode: 'none' }, host: '0.0.0.0', port: 0 }),
    ).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringMatching(/requires a bearer token/) });
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1', '']) expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('token file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scopefs-token-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is generated once, random, owner-only, and read back unchanged', async () => {
    const file = join(dir, '.scopefs', 'token');
    const token = await loadOrCreateToken(file);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateToken(file)).toBe(token);
    expect((await readFile(file, 'utf8')).trim()).toBe(token);
    expect(await loadOrCreateToken(join(dir, 'other'))).not.toBe(token);
  });

  it('tightens a token file readable by others', async () => {
    const file = join(dir, 'loose');
    await writeFile(file, 'a-token-that-is-long-enough\n');
    await chmod(file, 0o644);
    expect(await loadOrCreateToken(file)).toBe('a-token-that-is-long-enough');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});

describe('unexpected errors', () => {
  it('become a bare 500 without message or stack; the details go to onError', async () => {
    const failure = new Error('boom at /srv/secret/internal.ts:12');
    const failing = { stat: () => Promise.reject(failure), subscribe: () => () => undefined } as unknown as FileSystem;
    const scope = { key: 'fake', root: undefined, fs: failing, sync: undefined, tree: () => [] } as unknown as ScopeHandle;
    const reported: unknown[] = [];
    const http = await startHttpServer({ scope, auth: { mode: 'token', token: TOKEN }, port: 0, onError: (err) => reported.push(err) });
    try {
      const response = await rawRequest(http.url, 'HEAD', '/v1/files/a.txt', { authorization: `Bearer ${TOKEN}` });
      expect(response.status).toBe(500);
      const get = await rawRequest(http.url, 'GET', '/v1/status', { authorization: `Bearer ${TOKEN}` });
      expect(get.status).toBe(500);
      expect(JSON.parse(get.body)).toEqual({ error: { code: 'EINTERNAL', message: 'internal error' } });
      expect(reported).toContain(failure);
    } finally {
      await http.close();
    }
  });
});
