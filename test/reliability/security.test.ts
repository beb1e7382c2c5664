/**
 * Security of the served interfaces (corpus/http-requests.json): HTTP and
 * MCP requests with no token or a wrong one get a 401 and no data, and no
 * request, even with the right token, reaches another owner's private files
 * or anything outside the root. Two users sync one app through a store:
 * alice keeps /private/diary.md private (privateSyncFilePatterns); the server
 * under test belongs to bob.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServerHandle } from '../../src/http/server.js';
import type { RunningScope } from '../../supervisors/scope/scopes.js';
import { rawRequest } from '../http/helpers.js';
import { SECRET, Sandbox } from './harness/sandbox.js';
import { printFigures } from './harness/settings.js';

interface HttpCorpus {
  badCredentials: Array<{ name: string; headers: Record<string, string>; query?: string }>;
  endpoints: Array<[string, string]>;
  traversals: string[];
}

const corpus = JSON.parse(readFileSync(new URL('./corpus/http-requests.json', import.meta.url), 'utf8')) as HttpCorpus;
const TOKEN = 'reliability-token-5b2e8d0c71f4a9e3';
const CONFIG = JSON.stringify({ syncFilePatterns: ['**'], privateSyncFilePatterns: ['private/**'] });
/** Private to alice: it may sit in the store under her owner id, but bob's interfaces must never show it. */
const DIARY = "alice's private diary, entry 4c1d9e";
const figures = { unauthorizedRequests: 0, traversalRequests: 0, mcpAttempts: 0 };

let sandbox: Sandbox;
let alice: RunningScope;
let bob: RunningScope;
let server: HttpServerHandle;

beforeAll(async () => {
  sandbox = await Sandbox.create();
  for (const user of ['alice', 'bob']) {
    await mkdir(sandbox.rootOf(user), { recursive: true });
    await writeFile(join(sandbox.rootOf(user), 'sync-config.json'), CONFIG);
  }
  alice = await sandbox.start('alice', { sync: { userId: 'alice' } });
  bob = await sandbox.start('bob', { sync: { userId: 'bob' } });
  await alice.fs.writeFile('/private/diary.md', DIARY);
  await alice.fs.writeFile('/shared.md', 'shared with everyone');
  for (let round = 0; round < 2; round++) for (const s of [alice, bob]) await s.sync!.idle({ timeoutMs: 20_000 });
  expect(await bob.fs.readFile('/shared.md')).toBe('shared with everyone'); // the two really sync
  server = await startHttpServer({ scope: bob, auth: { mode: 'token', token: TOKEN }, port: 0, onError: () => undefined });
}, 60_000);

afterAll(async () => {
  printFigures('security', figures);
  await server?.close();
  await sandbox?.remove();
});

/** `$TOKEN`, `$TOKEN_PREFIX` and `$TOKEN_BASIC` in the corpus stand for the real token's variants. */
function withToken(text: string): string {
  return text
    .replaceAll('$TOKEN_PREFIX', TOKEN.slice(0, 12))
    .replaceAll('$TOKEN_BASIC', Buffer.from(`bob:${TOKEN}`).toString('base64'))
    .replaceAll('$TOKEN', TOKEN);
}

/** Error messages may echo the requested path; file contents must never appear. */
function expectNoData(body: string): void {
  expect(body).not.toContain(SECRET);
  expect(body).not.toContain(DIARY);
  expect(body).not.toContain('shared with everyone');
}

describe('HTTP without valid credentials', () => {
  for (const credential of corpus.badCredentials) {
    for (const [method, path] of corpus.endpoints) {
      it(`${credential.name}: ${method} ${path} gets 401 and no data`, async () => {
        figures.unauthorizedRequests++;
        const headers = Object.fromEntries(Object.entries(credential.headers).map(([k, v]) => [k, withToken(v)]));
        const target = credential.query ? `${path}?${withToken(credential.query)}` : path;
        // Bodies only where a request carries one, with a length (a DELETE body without framing would corrupt the keep-alive connection).
        const body = method === 'POST' || method === 'PUT' ? '{}' : undefined;
        const framing: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(body.length) };
        const response = await rawRequest(server.url, method, target, { ...headers, ...framing }, body);
        expect(response.status).toBe(401);
        expectNoData(response.body);
      });
    }
  }
});

describe('HTTP with the right token', () => {
  for (const target of corpus.traversals) {
    it(`${target} reaches nothing outside the root and nothing private to alice`, async () => {
      figures.traversalRequests++;
      const response = await rawRequest(server.url, 'GET', target, { authorization: `Bearer ${TOKEN}` });
      expect(response.status).toBeLessThan(500);
      expect(response.body).not.toContain(SECRET);
      expect(response.body).not.toContain(DIARY);
    });
  }

  it('the private file exists for alice, so its absence for bob is the owner boundary at work', async () => {
    expect(await alice.fs.readFile('/private/diary.md')).toBe(DIARY);
    expect(await bob.fs.fileExists('/private/diary.md')).toBe(false);
    expect(await sandbox.violations()).toEqual([]);
  });
});

describe('MCP over HTTP', () => {
  async function mcpClient(authorization: string | undefined): Promise<Client> {
    figures.mcpAttempts++;
    const client = new Client({ name: 'reliability', version: '1.0.0' });
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers } }));
    return client;
  }

  it.each(corpus.badCredentials.filter((c) => c.headers.authorization !== undefined).map((c) => [c.name, c.headers.authorization!]))(
    'refuses a client with %s',
    async (_, authorization) => {
      await expect(mcpClient(withToken(authorization))).rejects.toThrow(/401|unauthorized|bearer/i);
    },
  );

  it('refuses a client without a token', async () => {
    await expect(mcpClient(undefined)).rejects.toThrow(/401|unauthorized|bearer/i);
  });

  it('with the right token, no tool reaches alice’s private file or the outside', async () => {
    const client = await mcpClient(`Bearer ${TOKEN}`);
    try {
      const calls: Array<[string, Record<string, unknown>]> = [
        ['read_file', { path: '/private/diary.md' }],
        ['read_file', { path: '/../outside/secret.txt' }],
        ['read_file', { path: '/%2e%2e/outside/secret.txt' }],
        ['list_files', { prefix: '/' }],
        ['list_files', { prefix: '/private' }],
        ['list_files', { prefix: '/../..' }],
        ['memory', { command: 'view', path: '/private' }],
        ['memory', { command: 'view', path: '/../outside' }],
        ['sync_status', {}],
      ];
      for (const [name, args] of calls) {
        const result = await client.callTool({ name, arguments: args });
        const text = (result.content as Array<{ text?: string }>).map((block) => block.text ?? '').join('\n');
        expect(text, `${name} ${JSON.stringify(args)}`).not.toContain(SECRET);
        expect(text, `${name} ${JSON.stringify(args)}`).not.toContain(DIARY);
      }
    } finally {
      await client.close();
    }
    expect(await sandbox.violations()).toEqual([]);
  });
});
