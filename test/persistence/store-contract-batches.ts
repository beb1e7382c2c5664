/** The SyncStore contract for batches (PushChange.batch): all or none, rows that carry their batch. */
import { describe, expect, it } from 'vitest';
import { SHARED_OWNER, type PushChange, type SyncStore } from '../../persistence/stores/types.js';
import { INSTANCE, change, expectEinval, freshApp, readAll, revisionOf, text } from './store-contract-helpers.js';

const inBatch = (batch: string, item: PushChange): PushChange => ({ ...item, batch });

export function describeBatchContract(getStore: () => SyncStore): void {
  describe('batches', () => {
    it('commits a batch whole, and its rows carry the batch in since and get', async () => {
      const store = getStore();
      const app = freshApp();
      const outcomes = await store.push(app, INSTANCE, [inBatch('b1', change('/a.md', 'a')), inBatch('b1', change('/b.md', 'b')), change('/c.md', 'c')]);
      expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'ok']);
      const { rows } = await readAll(store, app, [SHARED_OWNER]);
      expect(rows.map((row) => [row.path, row.batch])).toEqual([
        ['/a.md', 'b1'],
        ['/b.md', 'b1'],
        ['/c.md', undefined],
      ]);
      expect((await store.get(app, SHARED_OWNER, '/b.md'))?.batch).toBe('b1');
    });

    it('refuses every change of a batch when one base is stale, and commits the rest of the push', async () => {
      const store = getStore();
      const app = freshApp();
      const existing = revisionOf((await store.push(app, INSTANCE, [change('/b.md', 'b')]))[0]);
      const outcomes = await store.push(app, INSTANCE, [
        inBatch('tx', change('/a.md', 'a')),
        change('/outside.md', 'o'),
        inBatch('tx', change('/b.md', 'b2', existing + 5)),
        inBatch('tx', change('/c.md', null, 0)),
      ]);
      expect(outcomes.map((o) => [o.path, o.status])).toEqual([
        ['/a.md', 'conflict'],
        ['/outside.md', 'ok'],
        ['/b.md', 'conflict'],
        ['/c.md', 'conflict'],
      ]);
      const refusedB = outcomes[2];
      expect(refusedB?.status === 'conflict' && refusedB.current?.revision).toBe(existing);
      const refusedA = outcomes[0];
      expect(refusedA?.status === 'conflict' && refusedA.current).toBeNull();
      expect(await store.get(app, SHARED_OWNER, '/a.md')).toBeNull();
      expect(text((await store.get(app, SHARED_OWNER, '/b.md'))!.content)).toBe('b');
      expect(await store.head(app)).toBe(revisionOf(outcomes[1]));
    });

    it('forgets the batch of a row written again outside one', async () => {
      const store = getStore();
      const app = freshApp();
      const [first] = await store.push(app, INSTANCE, [inBatch('b1', change('/a.md', 'a')), inBatch('b1', change('/b.md', 'b'))]);
      await store.push(app, INSTANCE, [change('/a.md', 'a2', revisionOf(first))]);
      const row = await store.get(app, SHARED_OWNER, '/a.md');
      expect([text(row!.content), row!.batch]).toEqual(['a2', undefined]);
    });

    it('rejects a malformed batch id with EINVAL and writes nothing', async () => {
      const store = getStore();
      const app = freshApp();
      await expectEinval(store.push(app, INSTANCE, [inBatch('', change('/a.md', 'x'))]));
      await expectEinval(store.push(app, INSTANCE, [{ ...change('/a.md', 'x'), batch: 42 as never }]));
      await expectEinval(store.push(app, INSTANCE, [inBatch('x'.repeat(201), change('/a.md', 'x'))]));
      expect(await store.head(app)).toBe(0);
    });
  });
}
