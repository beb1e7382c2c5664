/**
 * `scopefs audit`: without a serve (the root's log, opened directly) and
 * against a running serve (over its HTTP API), with --json and each filter.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/types.js';
import { runCli, startServe } from '../cli/helpers.js';

let dir: string;
let root: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-audit-cli-'));
  root = join(dir, 'ws');
  await mkdir(root);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const parsed = (out: Buffer): AuditEntry[] => JSON.parse(out.toString()) as AuditEntry[];

describe('scopefs audit', () => {
  it('reads the root\'s log without a serve: --json, filters, and lines for people', async () => {
    expect((await runCli(['write', '/docs/a.md', '--root', root], { input: 'a' })).code).toBe(0);
    expect((await runCli(['write', '/notes/b.md', '--root', root], { input: 'b' })).code).toBe(0);
    expect((await runCli(['mv', '/notes/b.md', '/notes/c.md', '--root', root])).code).toBe(0);

    const all = await runCli(['audit', '--json', '--root', root]);
    expect(all.code, all.stderr.toString()).toBe(0);
    expect(parsed(all.stdout).map((e) => [e.operation, e.paths.join(' ')])).toEqual([
      ['move', '/notes/b.md /notes/c.md'],
      ['create', '/notes/b.md'],
      ['create', '/docs/a.md'],
    ]);
    const [byPath, limited, none, human] = await Promise.all([
      runCli(['audit', '--json', '--path', '/docs', '--root', root]),
      runCli(['audit', '--json', '--limit', '1', '--root', root]),
      runCli(['audit', '--json', '--actor', 'token:nobody', '--since', new Date(Date.now() - 3_600_000).toISOString(), '--root', root]),
      runCli(['audit', '--root', root]),
    ]);
    expect(parsed(byPath.stdout).map((e) => e.paths[0])).toEqual(['/docs/a.md']);
    expect(parsed(limited.stdout).map((e) => e.operation)).toEqual(['move']);
    expect(parsed(none.stdout)).toEqual([]);
    expect(human.stdout.toString()).toMatch(/^\d{4}-\d\d-\d\dT\S+Z\s+local\s+move\s+ok r\d+\s+\/notes\/b\.md -> \/notes\/c\.md\n/);
  }, 60_000);

  it('answers a bad filter with EINVAL saying what to pass', async () => {
    const bad = await runCli(['audit', '--json', '--limit', 'lots', '--root', root]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr.toString())).toMatchObject({ error: { code: 'EINVAL', message: expect.stringContaining('integer from 1') } });
  });

  it('asks the running serve when there is one', async () => {
    const served = join(dir, 'served');
    await mkdir(served);
    const serve = await startServe(['--root', served, '--port', '0']);
    try {
      expect((await runCli(['write', '/x.md', '--root', served], { input: 'x' })).code).toBe(0);
      const res = await runCli(['audit', '--json', '--root', served]);
      expect(res.code, res.stderr.toString()).toBe(0);
      expect(parsed(res.stdout).map((e) => [e.actor, e.operation, e.paths[0]])).toEqual([['owner', 'create', '/x.md']]);
    } finally {
      await serve.stop();
    }
  }, 60_000);
});
