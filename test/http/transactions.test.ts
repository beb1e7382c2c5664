/**
 * Transactions over HTTP against a real server on a real scope: begin, work
 * inside with X-Scopefs-Transaction, commit or abort; conflicts, the idle
 * abort, unknown ids, limited tokens, and the same routes under a
 * multi-scope server's /v1/scopes/<scope>/.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServerHandle } from '../../src/http/server.js';
import { startTenantServer } from '../../src/http/tenant-server.js';
import { TokenStore, tokensFilePath } from '../../src/http/tokens-store.js';
import type { TransactionEvent } from '../../src/transactions/types.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { JSON_TYPE, TOKEN } from './helpers.js';

const IDLE_MS = 100;
const TX = 'x-scopefs-transaction';

let dir: string;
let scope: RunningScope;
let http: HttpServerHandle;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-http-tx-'));
  const root = join(dir, 'root');
  scope = await startScope({ scopeKey: `http-tx-${process.pid}`, root });
  const store = new TokenStore(tokensFilePath(root));
  tokens.reader = (await store.create({ name: 'reader', read: ['/'] })).token;
  tokens.notes = (await store.create({ name: 'notes-bot', read: ['/docs'], write: ['/notes'] })).token;
  http = await startHttpServer({ scope, auth: { mode: 'token', token: TOKEN }, port: 0, onError: () => undefined });
});

afterAll(async () => {
  await http?.close();
  await scope?.stop();
  await rm(dir, { recursive: true, force: true });
});

function call(path: string, init: RequestInit & { token?: string; tx?: string } = {}): Promise<Response> {
  const { token, tx, ...rest } = init;
  const headers: Record<string, string> = { authorization: `Bearer ${token ?? TOKEN}`, ...(rest.headers as Record<string, string>) };
  if (tx !== undefined) headers[TX] = tx;
  return fetch(`${http.url}${path}`, { ...rest, headers });
}

async function begin(body?: Record<string, unknown>, token?: string): Promise<{ id: string; name: string; actor?: string }> {
  const res = await call('/v1/transactions', body === undefined ? { method: 'POST', token } : { method: 'POST', token, headers: JSON_TYPE, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; name: string; actor?: string };
}

const put = (path: string, body: string, tx?: string, token?: string) => call(`/v1/files${path}`, { method: 'PUT', body, tx, token });
const text = async (path: string, tx?: string) => {
  const res = await call(`/v1/files${path}`, { tx });
  return res.status === 200 ? res.text() : res.status;
};
const commit = (id: string, token?: string) => call(`/v1/transactions/${id}/commit`, { method: 'POST', token });

describe('transactions over HTTP', () => {
  it('writes inside are private until the commit, then visible at once', async () => {
    expect((await put('/a/one.md', 'before\n')).status).toBe(200);
    const tx = await begin({ name: 'edit-a' });
    expect(tx).toMatchObject({ name: 'edit-a', actor: 'owner', paths: 0 });

    expect((await put('/a/one.md', 'inside\n', tx.id)).status).toBe(200);
    expect((await put('/a/two.md', 'new inside\n', tx.id)).status).toBe(200);
    expect(await text('/a/one.md')).toBe('before\n');
    expect(await text('/a/two.md')).toBe(404);
    expect(await text('/a/one.md', tx.id)).toBe('inside\n');
    const listed = (await (await call('/v1/files?prefix=/a', { tx: tx.id })).json()) as { files: Array<{ path: string }> };
    expect(listed.files.map((file) => file.path)).toEqual(['/a/one.md', '/a/two.md']);

    expect(await (await call(`/v1/transactions/${tx.id}`)).json()).toMatchObject({ id: tx.id, paths: 2 });
    expect(((await (await call('/v1/transactions')).json()) as { transactions: Array<{ id: string }> }).transactions.map((t) => t.id)).toContain(tx.id);

    const res = await commit(tx.id);
    expect(res.status).toBe(200);
    const result = (await res.json()) as { committed: boolean; checkpoint?: string; changes: Array<{ path: string; change: string }>; conflicts: unknown[] };
    expect(result.committed).toBe(true);
    expect(result.conflicts).toEqual([]);
    expect(result.changes.map((change) => [change.path, change.change])).toEqual([['/a/one.md', 'written'], ['/a/two.md', 'written']]);
    expect(result.checkpoint).toMatch(/^edit-a-/);
    expect(await text('/a/one.md')).toBe('inside\n');
    expect(await text('/a/two.md')).toBe('new inside\n');

    // Over: the header and the routes answer 404 telling to begin a new one.
    const after = await call('/v1/files/a/one.md', { tx: tx.id });
    expect(after.status).toBe(404);
    expect(((await after.json()) as { error: { message: string } }).error.message).toMatch(/no open transaction.*begin a new one with POST \/v1\/transactions/);
    expect((await commit(tx.id)).status).toBe(404);
  });

  it('reads inside see the start, deletes and moves stay inside, abort discards all of it', async () => {
    await put('/b/keep.md', 'v1\n');
    const tx = await begin();
    await put('/b/keep.md', 'v2 outside\n');
    expect(await text('/b/keep.md', tx.id)).toBe('v1\n'); // the snapshot at the start
    // ETags and If-Match are the revisions inside the transaction.
    const inside = await call('/v1/files/b/keep.md', { tx: tx.id });
    const etag = inside.headers.get('etag')!;
    expect((await call('/v1/files/b/keep.md', { method: 'PUT', tx: tx.id, body: 'v2 inside\n', headers: { 'if-match': '"999"' } })).status).toBe(412);
    expect((await call('/v1/files/b/keep.md', { method: 'PUT', tx: tx.id, body: 'v2 inside\n', headers: { 'if-match': etag } })).status).toBe(200);
    expect((await call('/v1/files/b/keep.md', { method: 'HEAD', tx: tx.id })).headers.get('content-length')).toBe('10');
    expect((await call('/v1/files/b/keep.md', { method: 'DELETE', tx: tx.id })).status).toBe(204);
    await put('/b/new.md', 'x\n', tx.id);
    const moved = await call('/v1/move', { method: 'POST', tx: tx.id, headers: JSON_TYPE, body: JSON.stringify({ from: '/b/new.md', to: '/b/moved.md' }) });
    expect(moved.status).toBe(200);
    expect(await text('/b/moved.md', tx.id)).toBe('x\n');
    expect(await text('/b/keep.md', tx.id)).toBe(404);

    const aborted = await call(`/v1/transactions/${tx.id}/abort`, { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ reason: 'changed my mind' }) });
    expect(aborted.status).toBe(200);
    expect(await aborted.json()).toMatchObject({ id: tx.id, aborted: true });
    expect(await text('/b/keep.md')).toBe('v2 outside\n');
    expect(await text('/b/moved.md')).toBe(404);
    expect((await call(`/v1/transactions/${tx.id}`)).status).toBe(404);
  });

  it('a concurrent plain write of the same lines: 409 with the conflicts, nothing committed', async () => {
    await put('/c/notes.md', 'one\ntwo\nthree\n');
    const tx = await begin({ name: 'conflicting' });
    await put('/c/notes.md', 'one\nTWO inside\nthree\n', tx.id);
    await put('/c/other.md', 'also inside\n', tx.id);
    await put('/c/notes.md', 'one\nTWO outside\nthree\n');

    const res = await commit(tx.id);
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string }; committed: boolean; conflicts: Array<{ path: string; ours: string; theirs: string }> };
    expect(body.error.code).toBe('ECONFLICT');
    expect(body.error.message).toMatch(/nothing was committed.*\/c\/notes\.md.*begin a new transaction/);
    expect(body.committed).toBe(false);
    expect(body.conflicts.map((conflict) => conflict.path)).toEqual(['/c/notes.md']);
    expect(body.conflicts[0]!.ours).toContain('TWO inside');
    expect(body.conflicts[0]!.theirs).toContain('TWO outside');
    expect(await text('/c/notes.md')).toBe('one\nTWO outside\nthree\n');
    expect(await text('/c/other.md')).toBe(404);
    expect((await call(`/v1/transactions/${tx.id}`)).status).toBe(404);
  });

  it('different lines changed outside merge at the commit; onConflict "copy" keeps a conflicting version as a copy', async () => {
    await put('/d/notes.md', 'one\ntwo\nthree\nfour\nfive\n');
    const merging = await begin();
    await put('/d/notes.md', 'ONE\ntwo\nthree\nfour\nfive\n', merging.id);
    await put('/d/notes.md', 'one\ntwo\nthree\nfour\nFIVE\n');
    const merged = (await (await commit(merging.id)).json()) as { committed: boolean; changes: Array<{ merged?: boolean }> };
    expect(merged.committed).toBe(true);
    expect(merged.changes[0]!.merged).toBe(true);
    expect(await text('/d/notes.md')).toBe('ONE\ntwo\nthree\nfour\nFIVE\n');

    const copying = await begin({ onConflict: 'copy' });
    await put('/d/notes.md', 'ONE\ntwo\nthree\nfour\nfive inside\n', copying.id);
    await put('/d/notes.md', 'ONE\ntwo\nthree\nfour\nfive outside\n');
    const res = await commit(copying.id);
    expect(res.status).toBe(200);
    const result = (await res.json()) as { committed: boolean; conflicts: Array<{ path: string; copyPath?: string }> };
    expect(result.committed).toBe(true);
    expect(result.conflicts[0]!.copyPath).toMatch(/^\/d\/notes\.sync-conflict-.*\.md$/);
    expect(await text(result.conflicts[0]!.copyPath!)).toBe('ONE\ntwo\nthree\nfour\nfive inside\n');
    expect(await text('/d/notes.md')).toBe('ONE\ntwo\nthree\nfour\nfive outside\n');
  });

  it('an abandoned transaction is aborted after the scope\'s idle time', async () => {
    // Its own scope with a short idle time, so the other tests' transactions never reach theirs.
    const idle = await startScope({ scopeKey: `http-tx-idle-${process.pid}`, transactions: { idleMs: IDLE_MS } });
    const server = await startHttpServer({ scope: idle, auth: { mode: 'token', token: TOKEN }, port: 0, onError: () => undefined });
    const on = (path: string, init: RequestInit = {}) =>
      fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) } });
    try {
      const { id } = (await (await on('/v1/transactions', { method: 'POST' })).json()) as { id: string };
      const aborted = new Promise<TransactionEvent>((resolve) => {
        const stop = idle.transactions.subscribe((event) => {
          if (event.id === id) {
            stop();
            resolve(event);
          }
        });
      });
      expect(await aborted).toMatchObject({ type: 'transaction_aborted', reason: `unused for ${IDLE_MS} ms` });
      const late = await on('/v1/files/draft.md', { method: 'PUT', body: 'late\n', headers: { [TX]: id } });
      expect(late.status).toBe(404);
      expect(((await late.json()) as { error: { message: string } }).error.message).toMatch(/aborted.*begin a new one/);
      expect((await on('/v1/files/draft.md')).status).toBe(404);
    } finally {
      await server.close();
      await idle.stop();
    }
  });

  it('refuses bad input and unknown ids with typed errors', async () => {
    const unknown = await call('/v1/files/a/one.md', { tx: 'feedfacecafe' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('ENOENT');
    expect((await call('/v1/transactions/feedfacecafe/abort', { method: 'POST' })).status).toBe(404);
    expect((await call('/v1/files/a/one.md', { tx: 'not an id!' })).status).toBe(400);
    expect((await call('/v1/transactions/abc/rollback', { method: 'POST' })).status).toBe(404);

    const badOption = await call('/v1/transactions', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ onConflict: 'merge' }) });
    expect(badOption.status).toBe(400);
    expect(((await badOption.json()) as { error: { message: string } }).error.message).toMatch(/"onConflict" must be "fail".*or "copy"/);
    const badField = await call('/v1/transactions', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ idleMs: 5 }) });
    expect(badField.status).toBe(400);

    // Scope-wide operations are refused inside one.
    const tx = await begin();
    const checkpoint = await call('/v1/checkpoints', { method: 'POST', tx: tx.id, headers: JSON_TYPE, body: JSON.stringify({ name: 'inside' }) });
    expect(checkpoint.status).toBe(400);
    expect(((await checkpoint.json()) as { error: { message: string } }).error.message).toMatch(/not available inside a transaction/);
    await call(`/v1/transactions/${tx.id}/abort`, { method: 'POST' });
  });

  it('a read-only token cannot begin; a limited token works inside its grant, on its own transactions only', async () => {
    const refused = await call('/v1/transactions', { method: 'POST', token: tokens.reader });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/token "reader" may not begin a transaction.*may write nowhere/);

    const tx = await begin({}, tokens.notes);
    expect(tx.actor).toBe('token:notes-bot');
    expect((await put('/notes/n.md', 'by the bot\n', tx.id, tokens.notes)).status).toBe(200);
    const outside = await put('/docs/d.md', 'not allowed\n', tx.id, tokens.notes);
    expect(outside.status).toBe(403);
    expect(((await outside.json()) as { error: { message: string } }).error.message).toMatch(/outside its grant/);
    // A refusal inside a transaction is in the audit log like one outside.
    const refusals = (await scope.audit!({ actor: 'token:notes-bot' })).filter((e) => e.result === 'refused');
    expect(refusals.map((e) => [e.operation, e.paths.join(' '), e.code])).toContainEqual(['write', '/docs/d.md', 'EACCES']);
    expect((await call('/v1/files/secret.md', { tx: tx.id, token: tokens.notes })).status).toBe(403);

    // Another caller neither sees nor uses it; the owner does.
    expect((await call(`/v1/transactions/${tx.id}`, { token: tokens.reader })).status).toBe(404);
    expect((await call('/v1/files/notes/n.md', { tx: tx.id, token: tokens.reader })).status).toBe(404);
    expect(((await (await call('/v1/transactions', { token: tokens.reader })).json()) as { transactions: unknown[] }).transactions).toEqual([]);
    expect(await text('/notes/n.md', tx.id)).toBe('by the bot\n');

    const res = await commit(tx.id, tokens.notes);
    expect(res.status).toBe(200);
    expect(await text('/notes/n.md')).toBe('by the bot\n');
  });

  it('MCP over HTTP with the header: the tools act inside the transaction', async () => {
    const tx = await begin();
    const client = new Client({ name: 'tx-test', version: '1.0.0' });
    const headers = { authorization: `Bearer ${TOKEN}`, [TX]: tx.id };
    await client.connect(new StreamableHTTPClientTransport(new URL(`${http.url}/mcp`), { requestInit: { headers } }));
    try {
      const wrote = await client.callTool({ name: 'write_file', arguments: { path: '/m/via-mcp.md', content: 'inside\n' } });
      expect(wrote.isError).not.toBe(true);
      expect(await text('/m/via-mcp.md')).toBe(404);
      expect(await text('/m/via-mcp.md', tx.id)).toBe('inside\n');
    } finally {
      await client.close();
    }
    expect((await commit(tx.id)).status).toBe(200);
    expect(await text('/m/via-mcp.md')).toBe('inside\n');
  });
});

describe('transactions under a multi-scope server', () => {
  it('are served under /v1/scopes/<scope>/v1/transactions, one scope at a time', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'scopefs-tenants-tx-'));
    const server = await startTenantServer({ port: 0, auth: { mode: 'token', token: TOKEN }, onError: () => undefined, pool: { dataDir, scopeOptions: () => ({ watch: false }) } });
    const as = (path: string, init: RequestInit = {}) =>
      fetch(`${server.url}/v1/scopes/alice${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) } });
    try {
      const begun = await as('/v1/transactions', { method: 'POST' });
      expect(begun.status).toBe(201);
      const { id } = (await begun.json()) as { id: string };
      expect((await as('/v1/files/t.md', { method: 'PUT', body: 'tenant tx\n', headers: { [TX]: id } })).status).toBe(200);
      expect((await as('/v1/files/t.md')).status).toBe(404);
      // Another scope does not know the id.
      const other = await fetch(`${server.url}/v1/scopes/bob/v1/files/t.md`, { headers: { authorization: `Bearer ${TOKEN}`, [TX]: id } });
      expect(other.status).toBe(404);
      expect((await as(`/v1/transactions/${id}/commit`, { method: 'POST' })).status).toBe(200);
      expect(await (await as('/v1/files/t.md')).text()).toBe('tenant tx\n');
    } finally {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
