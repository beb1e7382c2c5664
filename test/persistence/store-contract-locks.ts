/**
 * The store-locks contract (persistence/locks/types.ts), run against every
 * store: memory, SQLite, PostgreSQL, Supabase. `open` answers a new handle
 * on the same locks each time (a new connection where the store has them),
 * so "two handles" stands for two instances of an app.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { StoreLockAnswer, StoreLocks } from '../../persistence/locks/types.js';
import { waitFor } from '../helpers/postgres.js';
import { expectEinval, freshApp } from './store-contract-helpers.js';

const TTL = 30_000;

function granted(answer: StoreLockAnswer) {
  if (!answer.acquired) throw new Error(`expected the lock to be granted, it is held by ${JSON.stringify(answer.holder)}`);
  return answer.lock;
}

export function describeLocksContract(name: string, open: () => Promise<StoreLocks>): void {
  describe(`store locks contract: ${name}`, () => {
    const handles: StoreLocks[] = [];
    const handle = async () => {
      const locks = await open();
      handles.push(locks);
      return locks;
    };
    afterAll(async () => {
      for (const locks of handles.splice(0)) await locks.close();
    });

    it('grants a lock with a token and a fence, and refuses an overlapping one, naming the holder', async () => {
      const [a, b] = [await handle(), await handle()];
      const app = freshApp();
      const lock = granted(await a.acquire(app, { target: '/docs/', owner: 'alice', ttlMs: TTL }));
      expect(lock).toMatchObject({ target: '/docs', owner: 'alice', fence: 1 });
      expect(lock.token).toMatch(/^lk_/);
      expect(lock.expiresAt).toBeGreaterThan(Date.now() + TTL - 5_000);
      for (const target of ['/docs', '/docs/a.md', '/docs/deep/b.md', '/']) {
        const refused = await b.acquire(app, { target, owner: 'bob', ttlMs: TTL });
        expect(refused, target).toEqual({ acquired: false, holder: lock });
      }
      granted(await b.acquire(app, { target: '/docsx', owner: 'bob', ttlMs: TTL }));
      granted(await b.acquire(app, { target: '/notes/a.md', owner: 'bob', ttlMs: TTL }));
    });

    it('a lock on a parent is refused while a child is locked; % and _ in paths are not wildcards', async () => {
      const locks = await handle();
      const app = freshApp();
      const child = granted(await locks.acquire(app, { target: '/a_b/c.md', owner: 'alice', ttlMs: TTL }));
      expect(await locks.acquire(app, { target: '/a_b', owner: 'bob', ttlMs: TTL })).toEqual({ acquired: false, holder: child });
      granted(await locks.acquire(app, { target: '/axb', owner: 'bob', ttlMs: TTL }));
      granted(await locks.acquire(app, { target: '/100%', owner: 'bob', ttlMs: TTL }));
      granted(await locks.acquire(app, { target: '/100x/y', owner: 'bob', ttlMs: TTL }));
    });

    it('fences only grow, across releases and handles; apps are separate', async () => {
      const [a, b] = [await handle(), await handle()];
      const app = freshApp();
      const first = granted(await a.acquire(app, { target: '/f', owner: 'alice', ttlMs: TTL }));
      expect(await a.release(app, first.token)).toBe(true);
      const second = granted(await b.acquire(app, { target: '/f', owner: 'bob', ttlMs: TTL }));
      const third = granted(await a.acquire(app, { target: '/g', owner: 'alice', ttlMs: TTL }));
      expect([first.fence, second.fence, third.fence]).toEqual([1, 2, 3]);
      const other = granted(await a.acquire(freshApp(), { target: '/f', owner: 'carol', ttlMs: TTL }));
      expect(other.fence).toBe(1);
    });

    it('renew extends a live lock; release, check and renew agree on a released one', async () => {
      const [a, b] = [await handle(), await handle()];
      const app = freshApp();
      const lock = granted(await a.acquire(app, { target: '/r.md', owner: 'alice', ttlMs: 1_000 }));
      const renewed = await b.renew(app, lock.token, TTL);
      expect(renewed).toMatchObject({ token: lock.token, fence: lock.fence, target: '/r.md' });
      expect(renewed!.expiresAt).toBeGreaterThan(lock.expiresAt);
      expect(await b.check(app, lock.token)).toEqual(renewed);
      expect(await a.live(app)).toEqual([renewed]);
      expect(await b.release(app, lock.token)).toBe(true);
      expect(await a.release(app, lock.token)).toBe(false);
      expect(await a.check(app, lock.token)).toBeNull();
      expect(await a.renew(app, lock.token, TTL)).toBeNull();
      expect(await a.live(app)).toEqual([]);
      expect(await a.check(app, 'lk_never-issued')).toBeNull();
    });

    it('an expired lock frees its target, and never revives: check null, renew null, the next holder fences higher', async () => {
      const [a, b] = [await handle(), await handle()];
      const app = freshApp();
      const short = granted(await a.acquire(app, { target: '/e', owner: 'alice', ttlMs: 150 }));
      await waitFor(async () => (await b.check(app, short.token)) === null, 5_000, 'the lock to expire');
      expect(Date.now()).toBeGreaterThanOrEqual(short.expiresAt - 50); // not before its TTL (clocks may differ slightly)
      expect(await a.renew(app, short.token, TTL)).toBeNull();
      expect(await b.live(app)).toEqual([]);
      const next = granted(await b.acquire(app, { target: '/e/x.md', owner: 'bob', ttlMs: TTL }));
      expect(next.fence).toBeGreaterThan(short.fence);
      expect(await a.release(app, short.token)).toBe(false);
    });

    it('lists live locks by target then fence', async () => {
      const locks = await handle();
      const app = freshApp();
      const z = granted(await locks.acquire(app, { target: '/z', owner: 'o', ttlMs: TTL }));
      const b = granted(await locks.acquire(app, { target: '/b', owner: 'o', ttlMs: TTL }));
      const m = granted(await locks.acquire(app, { target: '/m/n', owner: 'o', ttlMs: TTL }));
      expect(await locks.live(app)).toEqual([b, m, z]);
    });

    it('of many concurrent acquires of one target through two handles, exactly one is granted', async () => {
      const [a, b] = [await handle(), await handle()];
      const app = freshApp();
      const answers = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).acquire(app, { target: i % 3 ? '/c' : '/c/deep.md', owner: `o${i}`, ttlMs: TTL })),
      );
      const winners = answers.filter((answer) => answer.acquired);
      expect(winners).toHaveLength(1);
      expect(await a.live(app)).toHaveLength(1);
    });

    it('refuses bad input with EINVAL', async () => {
      const locks = await handle();
      const app = freshApp();
      await expectEinval(locks.acquire(app, { target: '/x', owner: 'o', ttlMs: 0 }));
      await expectEinval(locks.acquire(app, { target: '/x', owner: '', ttlMs: TTL }));
      await expectEinval(locks.acquire(app, { target: 'relative/x', owner: 'o', ttlMs: TTL }));
      await expectEinval(locks.acquire('', { target: '/x', owner: 'o', ttlMs: TTL }));
      await expectEinval(locks.renew(app, '', TTL));
      await expectEinval(locks.renew(app, 'lk_x', -1));
      expect(await locks.live(app)).toEqual([]);
    });
  });
}
