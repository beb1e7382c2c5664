/**
 * What every AuditLog does, run over each implementation: idempotent append,
 * each query filter, newest first, limits, typed errors, retention.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEntry, AuditLog } from '../../src/audit/types.js';

export function entry(n: number, fields: Partial<AuditEntry> = {}): AuditEntry {
  return { id: `t-${n}`, at: 1_000 + n, actor: 'owner', operation: 'write', paths: [`/f/${n}.txt`], revision: n, result: 'ok', ...fields };
}

export function auditLogContract(name: string, open: () => Promise<{ log: AuditLog; close(): Promise<void> }>): void {
  describe(`AuditLog contract: ${name}`, () => {
    const withLog = (test: (log: AuditLog) => Promise<void>) => async () => {
      const { log, close } = await open();
      try {
        await test(log);
      } finally {
        await close();
      }
    };

    it('keeps every field, newest first, and one copy of an entry appended twice', withLog(async (log) => {
      const refused = entry(2, { result: 'refused', code: 'ESTALE', message: 'stale', revision: undefined, source: 'i-2', instance: 'i-1' });
      delete refused.revision;
      await log.append([entry(1), refused]);
      await log.append([entry(1), refused]);
      expect(await log.query()).toEqual([refused, entry(1)]);
    }));

    it('filters by path (a file, or a directory and what is under it), actor, since, and limits', withLog(async (log) => {
      await log.append([
        entry(1, { paths: ['/docs/a.md'] }),
        entry(2, { paths: ['/docs2/b.md'], actor: 'token:ci' }),
        entry(3, { paths: ['/x.md', '/docs/sub/c.md'], operation: 'move' }),
        entry(4, { paths: ['/docs'], actor: 'token:ci' }),
      ]);
      const ids = (entries: AuditEntry[]) => entries.map((e) => e.id);
      expect(ids(await log.query({ path: '/docs' }))).toEqual(['t-4', 't-3', 't-1']);
      expect(ids(await log.query({ path: '/docs/' }))).toEqual(['t-4', 't-3', 't-1']);
      expect(ids(await log.query({ path: '/docs/a.md' }))).toEqual(['t-1']);
      expect(ids(await log.query({ actor: 'token:ci' }))).toEqual(['t-4', 't-2']);
      expect(ids(await log.query({ since: 1_003 }))).toEqual(['t-4', 't-3']);
      expect(ids(await log.query({ limit: 1 }))).toEqual(['t-4']);
      expect(ids(await log.query({ path: '/docs', actor: 'owner', since: 1_002 }))).toEqual(['t-3']);
    }));

    it('refuses a bad query with EINVAL saying what to pass', withLog(async (log) => {
      await expect(log.query({ limit: 0 })).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('from 1 to') });
      await expect(log.query({ path: 'docs' })).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(log.query({ since: Number.NaN })).rejects.toMatchObject({ code: 'EINVAL' });
      await expect(log.prune({ maxEntries: -1 })).rejects.toMatchObject({ code: 'EINVAL' });
    }));

    it('prunes by count and by age, oldest first', withLog(async (log) => {
      const now = Date.now();
      await log.append([1, 2, 3, 4, 5].map((n) => entry(n, { at: now - (10 - n) * 60_000 })));
      expect(await log.prune({ maxEntries: 4 })).toBe(1);
      expect((await log.query()).map((e) => e.id)).toEqual(['t-5', 't-4', 't-3', 't-2']);
      // Older than 6.5 minutes: t-2 (8 min) and t-3 (7 min) go.
      expect(await log.prune({ maxAgeMs: 6.5 * 60_000 })).toBe(2);
      expect((await log.query()).map((e) => e.id)).toEqual(['t-5', 't-4']);
      expect(await log.prune({ maxEntries: 10, maxAgeMs: 3_600_000 })).toBe(0);
    }));
  });
}
