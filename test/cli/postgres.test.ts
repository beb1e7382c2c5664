import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { fileEvent, SseClient } from '../http/sse-client.js';
import { runCli, startServe } from './helpers.js';

describePostgres('the CLI on a PostgreSQL store', () => {
  const db = useTestDatabase('cli');

  it('brings a fresh database to the current schema, then finds nothing to do', async () => {
    const first = await runCli(['migrate', '--store', db.url, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const applied = JSON.parse(first.stdout.toString());
    expect(applied).toMatchObject({ from: 0 });
    expect(applied.to).toBeGreaterThanOrEqual(1);
    // It names each migration it applied, oldest first.
    expect(applied.applied[0]).toBe('001_tables');
    expect(applied.applied).toHaveLength(applied.to);

    const again = await runCli(['migrate', '--store', db.url, '--json']);
    expect(JSON.parse(again.stdout.toString())).toMatchObject({ from: applied.to, to: applied.to, applied: [] });
    const told = await runCli(['migrate', '--store', db.url]);
    expect(told.stdout.toString()).toMatch(/^no migration to apply\n.* is at schema version/);
  }, 60_000);

  it('names the store without its password when it cannot connect', async () => {
    const url = new URL(db.url);
    url.password = 'not-the-password';
    url.port = '1';
    const failed = await runCli(['migrate', '--store', url.toString()]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).not.toContain('not-the-password');
  }, 60_000);

  it('two serves sync through postgres://', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scopefs-pg-serve-'));
    const [a, b] = await Promise.all([
      startServe(['--root', join(dir, 'a'), '--port', '0', '--store', db.url]),
      startServe(['--root', join(dir, 'b'), '--port', '0', '--store', db.url]),
    ]);
    const tokenOf = async (file: string | null) => (await readFile(file!, 'utf8')).trim();
    try {
      expect(a.info.store).toBe(db.url.replace(/:[^:@/]*@/, ':***@'));
      const events = await SseClient.connect(`${b.info.url}/v1/events`, { token: await tokenOf(b.info.tokenFile) });
      try {
        await events.waitFor((m) => m.event === 'ready');
        const put = await fetch(`${a.info.url}/v1/files/pg.md`, { method: 'PUT', body: 'via postgres', headers: { authorization: `Bearer ${await tokenOf(a.info.tokenFile)}` } });
        expect(put.status).toBe(200);
        await events.waitFor(fileEvent('file_updated', '/pg.md', 'sync'), 40_000);
      } finally {
        events.close();
      }
    } finally {
      expect(await Promise.all([a.stop(), b.stop()])).toEqual([0, 0]);
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
