/** scopefs log / cat --revision / restore / checkpoint / checkpoints [--delete] / rollback, directly and through a running serve. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, type CliResult, type ServeProcess } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-cli-history-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const json = (result: CliResult) => {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.toString());
};

/** The same walk through every history command, whichever target the CLI picks for the root. */
async function walk(root: string, env: Record<string, string> = {}): Promise<void> {
  const at = ['--root', root];
  const cli = (args: string[], input?: string) => runCli([...args, ...at], { env, ...(input === undefined ? {} : { input }) });
  expect((await cli(['write', '/plan.md'], 'first')).code).toBe(0);
  expect((await cli(['write', '/plan.md'], 'second')).code).toBe(0);

  const versions = json(await cli(['log', '/plan.md', '--json'])) as Array<{ revision: number; size: number }>;
  expect(versions.map((v) => v.size)).toEqual([6, 5]);
  const human = await cli(['log', '/plan.md']);
  expect(human.stdout.toString()).toMatch(new RegExp(`^${versions[0]!.revision}\\s`));
  expect((await cli(['cat', '/plan.md', '--revision', String(versions[1]!.revision)])).stdout.toString()).toBe('first');

  expect(json(await cli(['checkpoint', 'cp', '-m', 'two drafts', '--json']))).toMatchObject({ name: 'cp', fileCount: 1, message: 'two drafts' });
  expect(json(await cli(['restore', '/plan.md', '--revision', String(versions[1]!.revision), '--json']))).toMatchObject({ path: '/plan.md', size: 5 });
  expect((await cli(['cat', '/plan.md'])).stdout.toString()).toBe('first');
  expect((json(await cli(['checkpoints', '--json'])) as Array<{ name: string }>).map((c) => c.name)).toEqual(['cp']);

  expect(json(await cli(['rollback', 'cp', '--dry-run', '--json']))).toMatchObject({ dryRun: true, written: ['/plan.md'] });
  expect((await cli(['cat', '/plan.md'])).stdout.toString()).toBe('first');
  const rolled = await cli(['rollback', 'cp']);
  expect(rolled.stdout.toString()).toContain('write /plan.md');
  expect((await cli(['cat', '/plan.md'])).stdout.toString()).toBe('second');

  const unknown = await cli(['rollback', 'nope', '--json']);
  expect(unknown.code).toBe(1);
  expect(JSON.parse(unknown.stderr)).toMatchObject({ error: { code: 'ENOENT', message: expect.stringContaining('"nope"') } });
  const badRevision = await cli(['cat', '/plan.md', '--revision', '999999', '--json']);
  expect(JSON.parse(badRevision.stderr)).toMatchObject({ error: { code: 'ENOENT', message: expect.stringContaining('no revision 999999') } });
  expect((await cli(['restore', '/plan.md', '--revision', 'x'])).code).toBe(2);

  expect(json(await cli(['checkpoints', '--delete', 'cp', '--json']))).toEqual({ deleted: 'cp' });
  expect(json(await cli(['checkpoints', '--json']))).toEqual([]);
  const gone = await cli(['checkpoints', '--delete', 'cp', '--json']);
  expect(gone.code).toBe(1);
  expect(JSON.parse(gone.stderr)).toMatchObject({ error: { code: 'ENOENT', message: expect.stringContaining('"cp"') } });
}

describe('history commands', () => {
  it('without a serve (the scope opened directly; history in .scopefs/history.db)', async () => {
    const root = join(dir, 'direct');
    await mkdir(root);
    await walk(root);
  }, 120_000);

  it('through a running serve (its HTTP API)', async () => {
    const root = join(dir, 'served');
    await mkdir(root);
    const serve: ServeProcess = await startServe(['--root', root, '--port', '0']);
    try {
      await walk(root);
    } finally {
      await serve.stop();
    }
  }, 120_000);
});
