/** Retention and pruning, part of the HistoryStore contract (history-contract.ts). */
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import type { HistoryStore } from '../../persistence/history/types.js';
import { bytes, errorCode, freshScope, version } from './history-contract.js';

export function describeRetentionContract(getHistory: () => HistoryStore): void {
  describe('retention', () => {
    it('keeps at most maxVersionsPerPath versions per path, oldest removed first, within the row budget', async () => {
      const history = getHistory();
      const scope = freshScope();
      await history.record(scope, ['1', '2', '3', '4', '5'].map((n) => version('/a.md', n)));
      await history.record(scope, [version('/b.md', 'b')]);
      expect(await history.prune(scope, { maxVersionsPerPath: 2 }, { maxRows: 2 })).toEqual({ removed: 2, more: true });
      expect(await history.prune(scope, { maxVersionsPerPath: 2 }, { maxRows: 2 })).toEqual({ removed: 1, more: false });
      expect((await history.versions(scope, '/a.md')).map((v) => v.revision)).toEqual([5, 4]);
      expect(await history.content(scope, sha256('1'))).toBeNull();
      expect(await history.prune(scope, { maxVersionsPerPath: 2 }, { maxRows: 2 })).toEqual({ removed: 0, more: false });
    });

    it('drops versions older than maxAgeMs but never a path latest version', async () => {
      const history = getHistory();
      const scope = freshScope();
      await history.record(scope, [version('/a.md', 'old', 100), version('/a.md', 'newer', 200), version('/b.md', 'only', 100)]);
      expect(await history.prune(scope, { maxAgeMs: 50 }, { maxRows: 10, now: 1_000 })).toEqual({ removed: 1, more: false });
      expect((await history.versions(scope, '/a.md')).map((v) => v.at)).toEqual([200]);
      expect((await history.versions(scope, '/b.md')).map((v) => v.at)).toEqual([100]);
    });

    it('drops the oldest versions while over maxBytes, counting shared content once', async () => {
      const history = getHistory();
      const scope = freshScope();
      const body = (n: number) => String(n).repeat(100);
      await history.record(scope, [1, 2, 3, 4].map((n) => version('/a.md', body(n))));
      expect(await history.storedBytes(scope)).toBe(400);
      const result = await history.prune(scope, { maxBytes: 250 }, { maxRows: 10 });
      expect(result).toEqual({ removed: 2, more: false });
      expect(await history.storedBytes(scope)).toBe(200);
      expect((await history.versions(scope, '/a.md')).map((v) => v.revision)).toEqual([4, 3]);
    });

    it('never removes a version a checkpoint references until the checkpoint is deleted', async () => {
      const history = getHistory();
      const scope = freshScope();
      await history.record(scope, [version('/a.md', 'kept'), version('/a.md', 'v2'), version('/a.md', 'v3')]);
      await history.saveCheckpoint(scope, { name: 'keep', prefix: '/', at: 1, files: [{ path: '/a.md', hash: sha256('kept'), size: 4 }] });
      await history.prune(scope, { maxVersionsPerPath: 1, maxAgeMs: 0, maxBytes: 0 }, { maxRows: 100, now: 10_000 });
      expect((await history.versions(scope, '/a.md')).map((v) => v.hash)).toEqual([sha256('v3'), sha256('kept')]);
      await history.deleteCheckpoint(scope, 'keep');
      await history.prune(scope, { maxVersionsPerPath: 1 }, { maxRows: 100 });
      expect((await history.versions(scope, '/a.md')).map((v) => v.hash)).toEqual([sha256('v3')]);
      expect(await history.storedBytes(scope)).toBe(2);
    });

    it('keeps content a checkpoint references even when its versions are gone', async () => {
      const history = getHistory();
      const scope = freshScope();
      await history.saveCheckpoint(scope, { name: 'c', prefix: '/', at: 1, files: [{ path: '/x.md', hash: sha256('x'), size: 1, content: bytes('x') }] });
      await history.prune(scope, { maxBytes: 0 }, { maxRows: 10 });
      expect(Buffer.from((await history.content(scope, sha256('x')))!).toString()).toBe('x');
    });

    it('rejects bad limits with EINVAL', async () => {
      const history = getHistory();
      expect(await errorCode(history.prune(freshScope(), { maxVersionsPerPath: 0 }, { maxRows: 1 }))).toBe('EINVAL');
      expect(await errorCode(history.prune(freshScope(), {}, { maxRows: 0 }))).toBe('EINVAL');
    });
  });
}
