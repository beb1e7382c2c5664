/**
 * `scopefs token` against a running `scopefs serve` (separate processes, as
 * an operator would use them): a created token works within its grant at
 * once, and a revoke refuses it on the next request and ends its open event
 * stream.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, startServe, type ServeProcess } from '../cli/helpers.js';
import { SseClient } from './sse-client.js';

let dir: string;
let root: string;
let serve: ServeProcess;
let owner: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-tokens-cli-'));
  root = join(dir, 'ws');
  serve = await startServe(['--root', root, '--port', '0', '--no-sync']);
  owner = (await readFile(serve.info.tokenFile!, 'utf8')).trim();
}, 60_000);

afterAll(async () => {
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

const as = (token: string, path: string, init: RequestInit = {}) =>
  fetch(`${serve.info.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });

describe('scopefs token with a running serve', () => {
  it('creates a token that works within its grant, lists it without the secret, and revokes it', async () => {
    const created = await runCli(['token', 'create', '--root', root, '--name', 'ci-bot', '--read', '/docs', '--write', '/notes', '--no-delete', '--expires', '30d', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const { token, expiresAt } = JSON.parse(created.stdout.toString()) as { token: string; expiresAt: string };
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(await readFile(join(root, '.scopefs', 'tokens.json'), 'utf8')).not.toContain(token);

    expect((await as(owner, '/v1/files/docs/a.md', { method: 'PUT', body: 'doc' })).status).toBe(200);
    expect(await (await as(token, '/v1/files/docs/a.md')).text()).toBe('doc');
    expect((await as(token, '/v1/files/docs/a.md', { method: 'PUT', body: 'x' })).status).toBe(403);
    expect((await as(token, '/v1/files/notes/n.md', { method: 'PUT', body: 'note' })).status).toBe(200);
    expect((await as(token, '/v1/files/notes/n.md', { method: 'DELETE' })).status).toBe(403);

    const listed = await runCli(['token', 'list', '--root', root]);
    expect(listed.stdout.toString()).toMatch(/^ci-bot\s+read \/docs; write \/notes; no deletes\s+expires /);
    expect(listed.stdout.toString()).not.toContain(token);

    const stream = await SseClient.connect(`${serve.info.url}/v1/events`, { token });
    const revoked = await runCli(['token', 'revoke', '--root', root, 'ci-bot']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout.toString()).toBe('Revoked token "ci-bot".\n');
    expect((await as(token, '/v1/files/docs/a.md')).status).toBe(401);
    await vi.waitFor(() => expect(stream.ended).toBe(true), { timeout: 10_000, interval: 20 });
    expect((await as(owner, '/v1/files/docs/a.md')).status).toBe(200);
  }, 60_000);

  it('refuses bad input with what to do (exit 1)', async () => {
    const noGrant = await runCli(['token', 'create', '--root', root, '--name', 'empty']);
    expect(noGrant.code).toBe(1);
    expect(noGrant.stderr).toContain('give --read and/or --write prefixes');
    const missing = await runCli(['token', 'revoke', '--root', root, 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('scopefs token list shows the tokens');
  }, 60_000);
});
