import { describe, expect, it } from 'vitest';
import { startScope } from 'scopefs';
import type { FileLocks, LockGrant } from '../../src/coordination/locks.js';
import { until } from '../fs/helpers.js';

let counter = 0;
const key = (name: string) => ['locks-scope', ++counter, name];

/** A scope's fs has the lock methods (src/coordination/locks.ts). */
const locksOf = (fs: unknown) => fs as FileLocks;

describe("a scope's locks", () => {
  it('a lock taken through an agent context is released when the agent ends, crashes included', async () => {
    const taken: LockGrant[] = [];
    let release!: () => void;
    const finish = new Promise<void>((resolve) => (release = resolve));
    const scope = await startScope({
      scopeKey: key('agent'),
      agents: [
        {
          id: 'writer',
          restart: 'temporary',
          run: async ({ locks }) => {
            taken.push(await locks!.lock('/report.md', { ttlMs: 60_000 }));
            await finish;
            throw new Error('the agent crashes while holding its lock');
          },
        },
      ],
    });
    try {
      await until(() => taken.length === 1);
      expect(await locksOf(scope.fs).locks()).toEqual([
        { path: '/report.md', owner: 'agent:writer', fence: taken[0]!.fence, expiresAt: taken[0]!.expiresAt },
      ]);
      await expect(scope.fs.writeFile('/report.md', 'x')).rejects.toMatchObject({
        code: 'ELOCKED',
        message: expect.stringContaining('"agent:writer"'),
      });
      release();
      await until(async () => (await locksOf(scope.fs).locks()).length === 0);
      await scope.fs.writeFile('/report.md', 'free again');
    } finally {
      await scope.stop();
    }
  });

  it('locks survive a restart of the filesystem server: still enforced, and the token still writes', async () => {
    const scope = await startScope({ scopeKey: key('restart') });
    try {
      const grant = await scope.locks!.lock('/held.md', { ttlMs: 60_000, owner: 'survivor' });
      const restarted = new Promise<void>((resolve) =>
        scope.supervisor.onChildEvent((e) => e.type === 'restarted' && e.id === 'fs' && resolve()),
      );
      scope.supervisor.child('fs')!.exit(new Error('injected'));
      await restarted;
      await expect(scope.fs.writeFile('/held.md', 'x')).rejects.toMatchObject({ code: 'ELOCKED' });
      await scope.fs.writeFile('/held.md', 'mine', { lockToken: grant.token });
      expect(await scope.fs.readFile('/held.md')).toBe('mine');
    } finally {
      await scope.stop();
    }
  });

  it("an agent still running when the scope stops has its locks released at its stop", async () => {
    let grant: LockGrant | undefined;
    const scope = await startScope({
      scopeKey: key('stop'),
      agents: [
        {
          id: 'idle',
          run: async ({ locks, signal }) => {
            grant = await locks!.lock('/docs', { ttlMs: 60_000 });
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          },
        },
      ],
    });
    const fs = locksOf(scope.fs);
    await until(() => grant !== undefined);
    await scope.stop();
    // The table outlives the stop (it belongs to the scope's fs), so it can be read: empty.
    expect(await fs.locks()).toEqual([]);
  });
});
