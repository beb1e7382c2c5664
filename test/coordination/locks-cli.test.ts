/** `scopefs lock` / `unlock` / `locks` against a real `scopefs serve` process. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, type ServeProcess } from '../cli/helpers.js';

let dir: string;
let root: string;
let serve: ServeProcess;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-locks-cli-'));
  root = join(dir, 'root');
  serve = await startServe(['--root', root, '--port', '0']);
}, 90_000);
afterAll(async () => {
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

const cli = async (...args: string[]) => {
  const result = await runCli([...args, '--root', root]);
  return { ...result, out: result.stdout.toString('utf8') };
};

describe('scopefs lock, unlock, locks', () => {
  it('a lock taken by one command holds against another command until unlocked', async () => {
    const taken = await cli('lock', 'docs', '--ttl', '60000', '--owner', 'release-bot', '--json');
    expect(taken.code).toBe(0);
    const grant = JSON.parse(taken.out) as { token: string; path: string; owner: string; fence: number };
    expect(grant).toMatchObject({ path: '/docs', owner: 'release-bot' });

    const refusedWrite = await runCli(['write', '/docs/a.md', '--root', root], { input: 'x' });
    expect(refusedWrite.code).toBe(1);
    expect(refusedWrite.stderr).toMatch(/locked by "release-bot"/);
    const refusedLock = await cli('lock', '/docs/a.md', '--json');
    expect(refusedLock.code).toBe(1);
    expect(JSON.parse(refusedLock.stderr)).toMatchObject({ error: { code: 'ELOCKED' } });

    const listed = await cli('locks');
    expect(listed.out).toMatch(/^\/docs\s+release-bot\s+fence \d+\s+until /);

    expect((await cli('unlock', grant.token, '--json')).out.trim()).toBe('{"released":true}');
    expect((await cli('unlock', grant.token)).out.trim()).toMatch(/no longer held/);
    expect((await cli('locks', '--json')).out.trim()).toBe('[]');
    expect((await runCli(['write', '/docs/a.md', '--root', root], { input: 'x' })).code).toBe(0);
  }, 60_000);

  it('without a running serve, says to start one', async () => {
    const result = await runCli(['lock', '/a.md', '--root', join(dir, 'nothing-here')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no serve is running .* start `scopefs serve/);
  }, 30_000);
});
