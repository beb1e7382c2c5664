/** `scopefs serve --data` and `scopefs token create --data --for-scope` as a user runs them (real child processes). */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startServe } from '../cli/helpers.js';

const OWNER = 'owner-token-of-the-serve-data-test';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-serve-data-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('serves scope-claimed tokens their scopes only, and stops with every file on disk', async () => {
  const data = join(dir, 'data');
  const created = await runCli(['token', 'create', '--data', data, '--name', 'alice', '--for-scope', 'user/alice', '--write', '/', '--json']);
  expect(created.stderr).toBe('');
  const { token, scopes } = JSON.parse(created.stdout.toString()) as { token: string; scopes: string[] };
  expect(scopes).toEqual(['user/alice']);
  const unscoped = await runCli(['token', 'create', '--data', data, '--name', 'nobody', '--write', '/']);
  expect(unscoped.code).not.toBe(0);
  expect(unscoped.stderr).toMatch(/--for-scope/);

  const serve = await startServe(['--data', data, '--port', '0'], { SCOPEFS_TOKEN: OWNER });
  try {
    const call = (bearer: string, path: string, init: RequestInit = {}) =>
      fetch(`${serve.info.url}${path}`, { ...init, headers: { authorization: `Bearer ${bearer}` } });
    expect((await call(token, '/v1/scopes/user%2Falice/v1/files/todo.md', { method: 'PUT', body: '- ship' })).status).toBe(200);
    expect((await call(token, '/v1/scopes/user%2Fbob/v1/files/todo.md', { method: 'PUT', body: 'no' })).status).toBe(403);
    expect((await call(OWNER, '/v1/scopes/user%2Fbob/v1/files/todo.md', { method: 'PUT', body: 'bob' })).status).toBe(200);
    const listed = (await (await call(token, '/v1/scopes')).json()) as { scopes: Array<{ key: string }> };
    expect(listed.scopes.map((scope) => scope.key)).toEqual(['user/alice']);
  } finally {
    expect(await serve.stop('SIGTERM')).toBe(0);
  }
  expect(await readFile(join(data, 'user~2falice', 'todo.md'), 'utf8')).toBe('- ship');
  expect(await readFile(join(data, 'user~2fbob', 'todo.md'), 'utf8')).toBe('bob');
}, 60_000);

it('refuses --ephemeral-disk without sync', async () => {
  const result = await runCli(['serve', '--data', join(dir, 'eph'), '--no-sync', '--ephemeral-disk', '--port', '0']);
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/--ephemeral-disk needs sync/);
}, 30_000);
