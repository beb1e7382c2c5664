import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { call } from '../mcp/scenario.js';
import { runCli, startServe, type ServeProcess } from './helpers.js';

/**
 * A real serve on a PostgreSQL store whose URL carries `?password=` (the
 * server trusts loopback, so the password is sent nowhere): the secret must
 * show up in none of the places a store is shown.
 */
describePostgres('store secrets', () => {
  const db = useTestDatabase('secrets');
  const secret = `pw-${randomBytes(8).toString('hex')}`;
  let dir: string;
  let url: string;
  let serve: ServeProcess;
  let token: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scopefs-secrets-'));
    url = `${db.url}?password=${secret}&application_name=scopefs-secrets`;
    serve = await startServe(['--root', join(dir, 'ws'), '--port', '0', '--store', url]);
    token = (await readFile(serve.info.tokenFile!, 'utf8')).trim();
  }, 90_000);

  afterAll(async () => {
    await serve?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string) => fetch(`${serve.info.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  it('keeps the password out of the banner, serve.json, /v1/status, .sync-status.json and sync_status', async () => {
    expect(serve.info.store).toBe(`${db.url}?password=***&application_name=scopefs-secrets`);
    expect(serve.stdout()).not.toContain(secret);
    expect(serve.stderr()).toMatch(/warning: the --store URL holds a password/);
    expect(serve.stderr()).not.toContain(secret);

    const serveJson = await readFile(join(dir, 'ws', '.scopefs', 'serve.json'), 'utf8');
    expect(JSON.parse(serveJson).store).toBe(serve.info.store);
    expect(serveJson).not.toContain(secret);

    await expect.poll(async () => ((await (await get('/v1/status')).json()) as { sync: { state: string } }).sync.state, { timeout: 30_000 }).toBe('live');
    const status = await (await get('/v1/status')).text();
    expect(JSON.parse(status).sync.store).toBe(serve.info.store);
    expect(status).not.toContain(secret);

    const statusFile = join(dir, 'ws', '.sync-status.json');
    await expect.poll(() => existsSync(statusFile), { timeout: 30_000 }).toBe(true);
    const onDisk = await readFile(statusFile, 'utf8');
    expect(onDisk).toContain('password=***');
    expect(onDisk).not.toContain(secret);

    const client = new Client({ name: 'scopefs-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(serve.info.mcp), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
    );
    try {
      const reply = await call(client, 'sync_status');
      expect(reply.isError).toBe(false);
      expect(reply.texts.join('')).toContain('password=***');
      expect(reply.texts.join('')).not.toContain(secret);
    } finally {
      await client.close();
    }
  }, 90_000);

  it('keeps it out of `scopefs status`, for people and for scripts', async () => {
    const root = ['--root', join(dir, 'ws')];
    const [human, json] = await Promise.all([runCli(['status', ...root]), runCli(['status', '--json', ...root])]);
    expect(human.code).toBe(0);
    expect(human.stdout.toString()).toContain('password=***');
    expect(JSON.parse(json.stdout.toString()).sync.store).toBe(serve.info.store);
    for (const result of [human, json]) expect(result.stdout.toString() + result.stderr).not.toContain(secret);
  }, 60_000);

  it('keeps it out of the error when the store cannot be reached', async () => {
    const unreachable = new URL(url);
    unreachable.port = '1';
    const failed = await runCli(['migrate', '--store', unreachable.toString()]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/password=\*\*\*/);
    expect(failed.stderr).not.toContain(secret);
  }, 60_000);

  it('takes the URL from --store-file or SCOPEFS_STORE, without the warning', async () => {
    const file = join(dir, 'store-url');
    await writeFile(file, `${url}\n`, { mode: 0o600 });
    const [fromFile, fromEnv] = await Promise.all([
      runCli(['migrate', '--store-file', file, '--json']),
      runCli(['migrate', '--json'], { env: { SCOPEFS_STORE: url } }),
    ]);
    for (const result of [fromFile, fromEnv]) {
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout.toString()).store).toBe(serve.info.store);
    }
    const both = await runCli(['migrate', '--store-file', file, '--store', url]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either with --store or with --store-file/);
    const missing = await runCli(['migrate', '--store-file', join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ENOENT: the store file .*nope does not exist/);
  }, 60_000);
});
