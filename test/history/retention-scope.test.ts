/**
 * History retention through startScope (ScopeOptions.historyRetention):
 * versions beyond the limits are pruned as the scope records, and at the
 * next start under tighter limits without any write; what a checkpoint
 * references stays; content nothing references any more goes; bad limits
 * fail the start with EINVAL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
});

async function tempRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'scopefs-retention-'));
  cleanup.push(() => rm(root, { recursive: true, force: true }));
  return root;
}

const texts = async (scope: RunningScope, path: string) =>
  Promise.all((await scope.fs.history(path)).map((v) => scope.fs.readFile(path, { revision: v.revision })));

describe('history retention of a scope', () => {
  it('keeps the newest versions per path and what a checkpoint references, as it records and at the next start', async () => {
    const root = await tempRoot();
    const scopeKey = ['retention', basename(root)];
    const first = await startScope({ scopeKey, root, historyRetention: { maxVersionsPerPath: 3 } });
    await first.fs.writeFile('/a.md', 'v1 (checkpointed)');
    await first.fs.checkpoint('keep');
    for (let i = 2; i <= 6; i++) {
      await first.fs.writeFile('/a.md', `v${i}`);
      await first.fs.history('/a.md'); // waits for the recorder: each write is followed by a prune step
    }
    expect(await texts(first, '/a.md')).toEqual(['v6', 'v5', 'v4', 'v1 (checkpointed)']);
    await first.stop();

    // Tighter limits apply at start, before anything is written.
    const again = await startScope({ scopeKey, root, historyRetention: { maxAgeMs: 0 } });
    cleanup.push(() => again.stop());
    expect(await texts(again, '/a.md')).toEqual(['v6', 'v1 (checkpointed)']);
    expect(await again.fs.restoreCheckpoint('keep')).toMatchObject({ written: ['/a.md'] });
    expect(await again.fs.readFile('/a.md')).toBe('v1 (checkpointed)');
  });

  it('after deleteCheckpoint the versions only it kept are pruned, here at the next start', async () => {
    const root = await tempRoot();
    const scopeKey = ['retention-delete', basename(root)];
    const first = await startScope({ scopeKey, root, historyRetention: { maxVersionsPerPath: 2 } });
    await first.fs.writeFile('/a.md', 'v1 (checkpointed)');
    await first.fs.checkpoint('keep');
    for (let i = 2; i <= 4; i++) {
      await first.fs.writeFile('/a.md', `v${i}`);
      await first.fs.history('/a.md');
    }
    expect(await texts(first, '/a.md')).toEqual(['v4', 'v3', 'v1 (checkpointed)']);
    await first.fs.deleteCheckpoint('keep');
    await first.stop();

    const again = await startScope({ scopeKey, root, historyRetention: { maxVersionsPerPath: 2 } });
    cleanup.push(() => again.stop());
    expect(await texts(again, '/a.md')).toEqual(['v4', 'v3']);
    await expect(again.fs.restoreCheckpoint('keep')).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('"keep"') });
  });

  it('refuses bad limits at start with EINVAL naming them', async () => {
    const root = await tempRoot();
    await expect(startScope({ scopeKey: ['retention-bad', basename(root)], root, historyRetention: { maxVersionsPerPath: 0 } })).rejects.toMatchObject({
      code: 'EINVAL',
      message: expect.stringContaining('maxVersionsPerPath'),
    });
  });
});
