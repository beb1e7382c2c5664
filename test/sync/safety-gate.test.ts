import { describe, expect, it } from 'vitest';
import { checkDeletionSafety } from '../../src/sync/safety-gate.js';

describe('checkDeletionSafety', () => {
  it('lets ordinary deletions through', () => {
    expect(checkDeletionSafety({ syncedCount: 100, deletions: 3, localFileCount: 97 })).toEqual({ ok: true });
    expect(checkDeletionSafety({ syncedCount: 10, deletions: 5, localFileCount: 5 })).toEqual({ ok: true });
  });

  it('holds a reconciliation that would delete more than half the synced files', () => {
    const result = checkDeletionSafety({ syncedCount: 10, deletions: 6, localFileCount: 4 });
    expect(result).toEqual({
      ok: false,
      reason: 'sync paused by the safety gate: this reconciliation would delete 6 of 10 synced files (60%, over the 50% limit); confirm to go ahead',
    });
  });

  it('honours a configured ratio', () => {
    expect(checkDeletionSafety({ syncedCount: 100, deletions: 11, localFileCount: 89, maxDeleteRatio: 0.1 }).ok).toBe(false);
    expect(checkDeletionSafety({ syncedCount: 100, deletions: 90, localFileCount: 10, maxDeleteRatio: 0.9 }).ok).toBe(true);
  });

  it('holds when the root was emptied', () => {
    const result = checkDeletionSafety({ syncedCount: 8, deletions: 0, localFileCount: 0 });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/root is empty but 8 files were synced/);
  });

  it('never holds tiny sets, where deleting most files is everyday work', () => {
    expect(checkDeletionSafety({ syncedCount: 3, deletions: 3, localFileCount: 0 })).toEqual({ ok: true });
    expect(checkDeletionSafety({ syncedCount: 4, deletions: 3, localFileCount: 1 }).ok).toBe(false);
    expect(checkDeletionSafety({ syncedCount: 2, deletions: 2, localFileCount: 0, minGuardedFiles: 1 }).ok).toBe(false);
  });

  it('accepts an empty scope', () => {
    expect(checkDeletionSafety({ syncedCount: 0, deletions: 0, localFileCount: 0 })).toEqual({ ok: true });
  });

  it.each([
    [{ syncedCount: -1, deletions: 0, localFileCount: 0 }, /syncedCount/],
    [{ syncedCount: 10, deletions: 1.5, localFileCount: 0 }, /deletions/],
    [{ syncedCount: 10, deletions: 1, localFileCount: 9, maxDeleteRatio: 2 }, /maxDeleteRatio/],
    [{ syncedCount: 10, deletions: 1, localFileCount: 9, maxDeleteRatio: Number.NaN }, /maxDeleteRatio/],
  ])('rejects bad input with EINVAL: %o', (input, message) => {
    expect(() => checkDeletionSafety(input)).toThrow(expect.objectContaining({ code: 'EINVAL', message: expect.stringMatching(message) }));
  });
});
