/**
 * The tail through its interfaces: the start's bounded backfill (newest
 * first) and the on-demand one, records over HTTP (since, filters, search),
 * the `records` SSE event, the tail status on its own and inside /v1/status,
 * a too long line, and the MCP search_records tool.
 */
import { appendFileSync, mkdtempSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startHttpServer, type HttpServerHandle } from '../../src/http/server.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { waitFor } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-tail-http-'));
const logs = join(dir, 'logs');
let scope: RunningScope;
let http: HttpServerHandle;

beforeAll(async () => {
  mkdirSync(logs, { recursive: true });
  writeFileSync(join(logs, 'old.jsonl'), '{"role":"user","text":"Old question"}\n');
  utimesSync(join(logs, 'old.jsonl'), new Date(2020, 0, 1), new Date(2020, 0, 1));
  writeFileSync(join(logs, 'new.jsonl'), `{"role":"user","text":"New question"}\n${'x'.repeat(300)}\n`);
  scope = await startScope({
    scopeKey: `tail-http-${process.pid}`,
    root: join(dir, 'root'),
    tail: { sources: [{ glob: `${logs}/*.jsonl`, name: 'sessions' }], backfillFiles: 1, maxLineBytes: 100 },
  });
  http = await startHttpServer({ scope, auth: { mode: 'none' }, port: 0 });
});

afterAll(async () => {
  await http?.close();
  await scope?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function get<T>(path: string): Promise<T> {
  const response = await fetch(`${http.url}${path}`);
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

type Page = { records: Array<{ seq: number; file: string; json?: { text?: string }; error?: { code: string } }>; cursor: number };

it('backfills the newest files at start, the rest on demand, and serves records, search and status', async () => {
  await waitFor(async () => (await get<Page>('/v1/records')).records.length === 2, 10_000, 'the newest file');
  const first = await get<Page>('/v1/records');
  expect(first.records.map((r) => r.file)).toEqual([join(logs, 'new.jsonl'), join(logs, 'new.jsonl')]);
  expect(first.records[1]!.error?.code).toBe('ETOOLONG');
  const status = await get<{ sources: Array<{ source: string; pending: number; files: unknown[] }> }>('/v1/tail/status');
  expect(status.sources).toMatchObject([{ source: 'sessions', pending: 1 }]);
  expect((await get<{ tail?: unknown }>('/v1/status')).tail).toMatchObject({ sources: [{ source: 'sessions' }] });

  const backfill = await fetch(`${http.url}/v1/tail/backfill`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(await backfill.json()).toEqual({ files: 1 });
  const rest = await get<Page>(`/v1/records?since=${first.cursor}`);
  expect(rest.records.map((r) => r.json?.text)).toEqual(['Old question']);
  expect((await get<Page>(`/v1/records?file=${encodeURIComponent(join(logs, 'old.jsonl'))}`)).records).toHaveLength(1);
  const found = await get<Page>('/v1/records/search?q=question');
  expect(found.records.map((r) => r.json?.text)).toEqual(['Old question', 'New question']);
  expect((await fetch(`${http.url}/v1/records?since=-1`)).status).toBe(400);
  const unknown = await fetch(`${http.url}/v1/tail/backfill`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"source":"nope"}' });
  expect(unknown.status).toBe(404);
});

it('sends a records event when lines are stored', async () => {
  const controller = new AbortController();
  const response = await fetch(`${http.url}/v1/events`, { signal: controller.signal });
  const reader = response.body!.getReader();
  appendFileSync(join(logs, 'new.jsonl'), '{"role":"assistant","text":"An answer"}\n');
  let text = '';
  while (!text.includes('event: records')) text += new TextDecoder().decode((await reader.read()).value);
  controller.abort();
  expect(text).toMatch(/"type":"records","source":"sessions"/);
});

it('offers search_records over MCP', async () => {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(scope, { version: 'test' }).connect(serverSide);
  const client = new Client({ name: 'test', version: '1' });
  await client.connect(clientSide);
  try {
    const result = await client.callTool({ name: 'search_records', arguments: { text: 'old QUESTION' } });
    const texts = (result.content as Array<{ text: string }>).map((c) => c.text);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('sessions');
    expect(texts[0]).toContain('"Old question"');
  } finally {
    await client.close();
  }
});
