import { describe, expect, it } from 'vitest';
import { covers, lockTarget, overlaps } from '../../src/coordination/lock-rules.js';
import { LockTable, backoffMs } from '../../src/coordination/locks.js';

/** A table on a clock the test moves. */
function tableAt(start = 1_000_000) {
  const clock = { now: start };
  return { table: new LockTable(() => clock.now), clock };
}

describe('lock rules', () => {
  it.each([
    ['/docs', '/docs', true],
    ['/docs', '/docs/a.md', true],
    ['/docs', '/docs/deep/b.md', true],
    ['/docs', '/docsx/a.md', false],
    ['/docs', '/doc', false],
    ['/docs/a.md', '/docs', false],
    ['/', '/anything/at/all', true],
  ])('a lock on %s covers %s: %s', (target, path, expected) => {
    expect(covers(target, path)).toBe(expected);
  });

  it('a prefix and a path under it overlap either way round; siblings do not', () => {
    expect(overlaps('/docs', '/docs/a.md')).toBe(true);
    expect(overlaps('/docs/a.md', '/docs')).toBe(true);
    expect(overlaps('/docs/a.md', '/docs/b.md')).toBe(false);
  });

  it('normalises /docs, /docs/ and NFD spellings to one target, and refuses relative paths', () => {
    expect(lockTarget('/docs/')).toBe('/docs');
    expect(lockTarget('/docs')).toBe('/docs');
    expect(lockTarget('/')).toBe('/');
    expect(lockTarget('/cafe\u0301')).toBe('/caf\u00e9');
    expect(() => lockTarget('docs')).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffMs(0, () => 1)).toBe(10);
    expect(backoffMs(3, () => 1)).toBe(80);
    expect(backoffMs(30, () => 1)).toBe(500);
    expect(backoffMs(5, () => 0)).toBe(1);
    expect(backoffMs(2, () => 0.5)).toBe(20);
  });
});

describe('LockTable', () => {
  it('grants increasing fences and excludes overlapping locks, naming the holder and its expiry', () => {
    const { table } = tableAt();
    const docs = table.tryLock('/docs', { ttlMs: 5_000, owner: 'agent-a' });
    expect(docs).toMatchObject({ path: '/docs', owner: 'agent-a', fence: 1, expiresAt: 1_005_000 });
    const sibling = table.tryLock('/notes/a.md', { ttlMs: 1_000 });
    expect(sibling.fence).toBe(2);
    let refusal: unknown;
    try {
      table.tryLock('/docs/a.md', { ttlMs: 1_000, owner: 'agent-b' });
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toMatchObject({ code: 'ELOCKED' });
    expect((refusal as Error).message).toContain('"agent-a"');
    expect((refusal as Error).message).toContain('expires in 5000 ms');
    expect((refusal as Error).message).toContain(new Date(1_005_000).toISOString());
    expect(() => table.tryLock('/', { ttlMs: 1_000 })).toThrow(expect.objectContaining({ code: 'ELOCKED' }));
  });

  it('an expired lock frees its paths; the next holder gets a higher fence and the old token is ESTALE', () => {
    const { table, clock } = tableAt();
    const first = table.tryLock('/a.md', { ttlMs: 100, owner: 'first' });
    clock.now += 100;
    const second = table.tryLock('/a.md', { ttlMs: 100, owner: 'second' });
    expect(second.fence).toBeGreaterThan(first.fence);
    expect(() => table.assertWritable('/a.md', first.token)).toThrow(expect.objectContaining({ code: 'ESTALE' }));
    expect(() => table.assertWritable('/a.md', second.token)).not.toThrow();
    expect(() => table.renew(first.token, { ttlMs: 100 })).toThrow(expect.objectContaining({ code: 'ESTALE' }));
  });

  it('renew extends from now; unlock frees at once and answers whether the lock was still held', () => {
    const { table, clock } = tableAt();
    const grant = table.tryLock('/a.md', { ttlMs: 100 });
    clock.now += 90;
    expect(table.renew(grant.token, { ttlMs: 100 }).expiresAt).toBe(clock.now + 100);
    clock.now += 90;
    expect(() => table.assertWritable('/a.md', undefined)).toThrow(expect.objectContaining({ code: 'ELOCKED' }));
    expect(table.unlock(grant.token)).toBe(true);
    expect(table.unlock(grant.token)).toBe(false);
    expect(() => table.assertWritable('/a.md', undefined)).not.toThrow();
    expect(table.list()).toEqual([]);
  });

  it('a token presented for a path its lock does not cover does not get past another lock there', () => {
    const { table } = tableAt();
    const mine = table.tryLock('/a.md', { ttlMs: 1_000, owner: 'me' });
    table.tryLock('/b.md', { ttlMs: 1_000, owner: 'them' });
    expect(() => table.assertWritable('/b.md', mine.token)).toThrow(expect.objectContaining({ code: 'ELOCKED' }));
    expect(() => table.assertWritable('/c.md', mine.token)).not.toThrow();
  });

  it('releases every lock of one owner, and lists live locks without their tokens', () => {
    const { table } = tableAt();
    table.tryLock('/a.md', { ttlMs: 1_000, owner: 'agent:x' });
    table.tryLock('/b', { ttlMs: 1_000, owner: 'agent:x' });
    table.tryLock('/c.md', { ttlMs: 1_000, owner: 'agent:y' });
    expect(table.releaseOwner('agent:x')).toBe(2);
    expect(table.list()).toEqual([{ path: '/c.md', owner: 'agent:y', fence: 3, expiresAt: 1_001_000 }]);
  });

  it.each([
    [{ ttlMs: 0 }],
    [{ ttlMs: -5 }],
    [{ ttlMs: 1.5 }],
    [{ ttlMs: 86_400_001 }],
    [{ ttlMs: 100, owner: '' }],
    [{ ttlMs: 100, wait: -1 }],
  ])('refuses bad options %j with EINVAL', async (options) => {
    const { table } = tableAt();
    await expect(table.lock('/a.md', options as never)).rejects.toMatchObject({ code: 'EINVAL' });
  });
});
