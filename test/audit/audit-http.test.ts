/**
 * The audit log over HTTP and MCP: changes carry the caller's actor, refusals
 * (a grant's EACCES, a stale If-Match, an MCP tool error) are recorded, and
 * `GET /v1/audit` answers each filter; it is the owner's.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/types.js';
import { TokenStore, tokensFilePath } from '../../src/http/tokens-store.js';
import { startTestServer, type TestServer } from '../http/helpers.js';

let server: TestServer;
let bot: string;
let startedAt: number;

function as(token: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
}

async function audit(query: string): Promise<AuditEntry[]> {
  const res = await server.call(`/v1/audit${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { entries: AuditEntry[] }).entries;
}

beforeAll(async () => {
  server = await startTestServer();
  bot = (await new TokenStore(tokensFilePath(server.root)).create({ name: 'ci-bot', read: ['/docs'], write: ['/notes'], delete: false })).token;
  startedAt = Date.now();
  expect((await server.call('/v1/files/docs/a.md', { method: 'PUT', body: 'a' })).status).toBe(200);
  expect((await as(bot, '/v1/files/notes/n.md', { method: 'PUT', body: 'n' })).status).toBe(200);
  expect((await as(bot, '/v1/files/docs/a.md', { method: 'PUT', body: 'no' })).status).toBe(403);
  expect((await as(bot, '/v1/files/notes/n.md', { method: 'DELETE' })).status).toBe(403);
  expect((await server.call('/v1/files/docs/a.md', { method: 'PUT', body: 'b', headers: { 'if-match': '"999"' } })).status).toBe(412);
  const client = new Client({ name: 'audit-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${bot}` } } }));
  const refused = await client.callTool({ name: 'write_file', arguments: { path: '/docs/mcp.md', content: 'x' } });
  expect(refused.isError).toBe(true);
  await client.close();
}, 60_000);

afterAll(() => server.close());

describe('GET /v1/audit', () => {
  it('lists changes with their actors and refusals with their codes, newest first', async () => {
    const entries = await audit('');
    const summary = entries.map((e) => [e.actor, e.operation, e.paths.join(' '), e.result, e.code ?? '']);
    expect(summary).toEqual([
      ['token:ci-bot', 'write', '/docs/mcp.md', 'refused', 'EACCES'],
      ['owner', 'write', '/docs/a.md', 'refused', 'ESTALE'],
      ['token:ci-bot', 'delete', '/notes/n.md', 'refused', 'EACCES'],
      ['token:ci-bot', 'write', '/docs/a.md', 'refused', 'EACCES'],
      ['token:ci-bot', 'create', '/notes/n.md', 'ok', ''],
      ['owner', 'create', '/docs/a.md', 'ok', ''],
    ]);
    expect(entries[0]!.message).toContain('token "ci-bot" may not do this');
    expect(entries.at(-1)!.revision).toBeGreaterThan(0);
    expect(entries.every((e) => e.at >= startedAt - 1_000 && typeof e.id === 'string')).toBe(true);
  });

  it('filters by path, actor, since and limit', async () => {
    expect((await audit('?path=/notes')).map((e) => e.operation)).toEqual(['delete', 'create']);
    expect((await audit('?actor=owner')).map((e) => e.result)).toEqual(['refused', 'ok']);
    const all = await audit('');
    const since = all[1]!.at;
    expect((await audit(`?since=${new Date(since).toISOString()}`)).length).toBe(all.filter((e) => e.at >= since).length);
    expect((await audit('?limit=2')).map((e) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));
    expect(await audit('?path=/docs/a.md&actor=token:ci-bot')).toHaveLength(1);
  });

  it('answers a bad query with 400 EINVAL saying what to pass', async () => {
    const res = await server.call('/v1/audit?limit=zero');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'EINVAL', message: expect.stringContaining('integer from 1') });
    expect((await server.call('/v1/audit?since=yesterday')).status).toBe(400);
  });

  it('records a request refused for its token (401) as anonymous, with method and path', async () => {
    expect((await as('not-a-token', '/v1/files/docs/a.md')).status).toBe(401);
    const [entry] = await audit('?actor=anonymous');
    expect(entry).toMatchObject({ operation: 'request', result: 'refused', code: 'EAUTH', paths: [] });
    expect(entry!.message).toContain('GET /v1/files/docs/a.md');
  });

  it('is the owner\'s: a limited token gets 403', async () => {
    const res = await as(bot, '/v1/audit');
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('owner');
  });
});
