/** sync-config.json's `tail` list: files inside the scope are tailed; an outside directory is refused and reported. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startScope } from '../../supervisors/scope/scopes.js';
import { waitFor } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-tail-config-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

it('tails the scope files sync-config.json names, and refuses its outside entries', async () => {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'logs'), { recursive: true });
  writeFileSync(join(root, 'logs', 'a.jsonl'), '{"n":1}\n');
  writeFileSync(join(root, 'sync-config.json'), JSON.stringify({ tail: [{ glob: 'logs/*.jsonl', name: 'logs' }, { glob: '/etc/*.jsonl' }] }));
  const scope = await startScope({ scopeKey: `tail-config-${process.pid}`, root });
  try {
    await waitFor(async () => (await scope.records!.since(0)).records.length === 1, 10_000, 'the record');
    const { records } = await scope.records!.since(0);
    expect(records[0]).toMatchObject({ source: 'logs', file: '/logs/a.jsonl', json: { n: 1 } });
    const status = scope.tail!.status();
    expect(status.sources.map((s) => s.source)).toEqual(['logs']);
    expect(status.configErrors.join('\n')).toMatch(/may only tail files inside the scope/);
  } finally {
    await scope.stop();
  }
});

it('refuses a bad tail option at start, naming the entry', async () => {
  await expect(startScope({ scopeKey: `tail-bad-${process.pid}`, root: join(dir, 'bad'), tail: [{ glob: 'a', inside: 'relative' }] })).rejects.toThrow(
    /tail\[0\]: inside must be 'scope' or an absolute directory/,
  );
});
