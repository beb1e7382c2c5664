/**
 * The SyncStore contract suite. Every store runs it:
 *
 *   describeStoreContract('sqlite', () => new SqliteStore({ path }), { cleanup });
 *
 * `makeStore` is called once for the store under test and once more for a
 * second connection to the same database (the watch test pushes through it),
 * so for an in-process store it must return a store sharing the same data.
 * Each test works in a fresh `app`, so the stores can hold earlier data.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { SHARED_OWNER, type SyncStore } from '../../persistence/stores/types.js';
import { describeBatchContract } from './store-contract-batches.js';
import { describeLeaseContract } from './store-contract-leases.js';
import { INSTANCE, bytes, change, expectEinval, freshApp, readAll, revisionOf, text, withDeadline } from './store-contract-helpers.js';

export interface StoreContractOptions {
  cleanup?: () => Promise<void>;
}

export function describeStoreContract(
  name: string,
  makeStore: () => Promise<SyncStore> | SyncStore,
  options: StoreContractOptions = {},
): void {
  describe(`SyncStore contract: ${name}`, () => {
    const opened: SyncStore[] = [];
    let store: SyncStore;

    async function openStore(): Promise<SyncStore> {
      const created = await makeStore();
      await created.open();
      opened.push(created);
      return created;
    }

    beforeAll(async () => {
      store = await openStore();
    });

    afterAll(async () => {
      for (const each of opened.reverse()) await each.close();
      await options.cleanup?.();
    });

    describe('basics', () => {
      it('starts empty: head 0, no rows, no file', async () => {
        const app = freshApp();
        expect(await store.head(app)).toBe(0);
        expect(await store.since(app, [SHARED_OWNER], 0)).toEqual({ rows: [], cursor: 0, more: false });
        expect(await store.get(app, SHARED_OWNER, '/missing.md')).toBeNull();
      });

      it('open is idempotent', async () => {
        await store.open();
        expect(await store.head(freshApp())).toBe(0);
      });

      it('pushes a new file on base 0 and gets it back with every field populated', async () => {
        const app = freshApp();
        const before = Date.now();
        const [outcome] = await store.push(app, INSTANCE, [change('/a.md', 'hello')]);
        const revision = revisionOf(outcome);
        expect(outcome).toMatchObject({ owner: SHARED_OWNER, path: '/a.md', status: 'ok' });
        expect(revision).toBeGreaterThan(0);
        expect(await store.head(app)).toBe(revision);
        const row = await store.get(app, SHARED_OWNER, '/a.md');
        expect(row).toMatchObject({
          app,
          owner: SHARED_OWNER,
          path: '/a.md',
          revision,
          hash: sha256('hello'),
          size: 5,
          deleted: false,
          updatedBy: INSTANCE,
        });
        expect(text(row!.content)).toBe('hello');
        // Generous bounds: a database server's clock may differ slightly from ours.
        expect(row!.updatedAt).toBeGreaterThan(before - 60_000);
        expect(row!.updatedAt).toBeLessThan(Date.now() + 60_000);
      });

      it('an empty push changes nothing', async () => {
        const app = freshApp();
        expect(await store.push(app, INSTANCE, [])).toEqual([]);
        expect(await store.head(app)).toBe(0);
      });

      it('keeps the bytes it stored independent of the caller buffers', async () => {
        const app = freshApp();
        const content = bytes('original');
        await store.push(app, INSTANCE, [change('/a.bin', content)]);
        content.fill(0);
        const first = await store.get(app, SHARED_OWNER, '/a.bin');
        first!.content!.fill(0);
        expect(text((await store.get(app, SHARED_OWNER, '/a.bin'))!.content)).toBe('original');
      });
    });

    describe('compare-and-swap', () => {
      it('refuses base 0 for an existing file and returns the current row with content', async () => {
        const app = freshApp();
        const revision = revisionOf((await store.push(app, INSTANCE, [change('/a.md', 'first')]))[0]);
        const [outcome] = await store.push(app, 'instance-b', [change('/a.md', 'second')]);
        expect(outcome).toMatchObject({ owner: SHARED_OWNER, path: '/a.md', status: 'conflict' });
        const current = outcome?.status === 'conflict' ? outcome.current : null;
        expect(current).toMatchObject({ revision, updatedBy: INSTANCE, deleted: false });
        expect(text(current!.content)).toBe('first');
        expect(await store.head(app)).toBe(revision);
      });

      it('refuses a non-zero base for a missing file, with current null', async () => {
        const app = freshApp();
        const [outcome] = await store.push(app, INSTANCE, [change('/ghost.md', 'x', 7)]);
        expect(outcome).toEqual({ owner: SHARED_OWNER, path: '/ghost.md', status: 'conflict', current: null });
        expect(await store.head(app)).toBe(0);
      });

      it('refuses a stale base after another writer pushed, and accepts the fresh one', async () => {
        const app = freshApp();
        const r1 = revisionOf((await store.push(app, 'a', [change('/doc.md', 'v1')]))[0]);
        const r2 = revisionOf((await store.push(app, 'b', [change('/doc.md', 'v2 by b', r1)]))[0]);
        expect(r2).toBeGreaterThan(r1);
        const [stale] = await store.push(app, 'a', [change('/doc.md', 'v2 by a', r1)]);
        expect(stale?.status).toBe('conflict');
        const current = stale?.status === 'conflict' ? stale.current : null;
        expect(current).toMatchObject({ revision: r2, updatedBy: 'b' });
        expect(text(current!.content)).toBe('v2 by b');
        const r3 = revisionOf((await store.push(app, 'a', [change('/doc.md', 'merged', r2)]))[0]);
        expect(r3).toBeGreaterThan(r2);
        expect(text((await store.get(app, SHARED_OWNER, '/doc.md'))!.content)).toBe('merged');
      });

      it('returns outcomes in order for a batch of mixed successes and conflicts', async () => {
        const app = freshApp();
        const existing = revisionOf((await store.push(app, INSTANCE, [change('/b.md', 'b')]))[0]);
        const outcomes = await store.push(app, INSTANCE, [
          change('/a.md', 'a'),
          change('/b.md', 'b2', existing + 100),
          change('/c.md', 'c'),
          change('/b.md', 'b3', existing),
        ]);
        expect(outcomes.map((o) => [o.path, o.status])).toEqual([
          ['/a.md', 'ok'],
          ['/b.md', 'conflict'],
          ['/c.md', 'ok'],
          ['/b.md', 'ok'],
        ]);
        const [a, , c, b] = outcomes.map((o) => (o.status === 'ok' ? o.revision : 0));
        expect(a).toBeGreaterThan(existing);
        expect(c).toBeGreaterThan(a!);
        expect(b).toBeGreaterThan(c!);
        expect(await store.head(app)).toBe(b);
        const conflict = outcomes[1];
        expect(conflict?.status === 'conflict' && conflict.current?.revision).toBe(existing);
      });

      it('lets exactly one of many concurrent creators of a path win', async () => {
        const app = freshApp();
        const results = await Promise.all(
          Array.from({ length: 12 }, (_, i) => store.push(app, `writer-${i}`, [change('/race.md', `from ${i}`)])),
        );
        const outcomes = results.flat();
        const winners = outcomes.filter((o) => o.status === 'ok');
        expect(winners).toHaveLength(1);
        const row = await store.get(app, SHARED_OWNER, '/race.md');
        for (const loser of outcomes.filter((o) => o.status === 'conflict')) {
          expect(loser.status === 'conflict' && loser.current?.revision).toBe(row!.revision);
        }
      });
    });

    describe('tombstones', () => {
      it('deletes as a tombstone that shows in since and can be re-created on its revision', async () => {
        const app = freshApp();
        const created = revisionOf((await store.push(app, INSTANCE, [change('/t.md', 'alive')]))[0]);
        const deleted = revisionOf((await store.push(app, 'deleter', [change('/t.md', null, created)]))[0]);
        expect(deleted).toBeGreaterThan(created);

        const tombstone = await store.get(app, SHARED_OWNER, '/t.md');
        expect(tombstone).toMatchObject({ revision: deleted, deleted: true, content: null, hash: null, size: 0 });
        expect(tombstone!.updatedBy).toBe('deleter');

        const { rows } = await readAll(store, app, [SHARED_OWNER]);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ path: '/t.md', revision: deleted, deleted: true, content: null, hash: null });

        const [onZero] = await store.push(app, INSTANCE, [change('/t.md', 'reborn', 0)]);
        expect(onZero?.status === 'conflict' && onZero.current).toMatchObject({ revision: deleted, deleted: true });
        const reborn = revisionOf((await store.push(app, INSTANCE, [change('/t.md', 'reborn', deleted)]))[0]);
        expect(reborn).toBeGreaterThan(deleted);
        expect(await store.get(app, SHARED_OWNER, '/t.md')).toMatchObject({ deleted: false, size: 6 });
      });
    });

    describe('since', () => {
      it('returns the latest version of each row, ascending, and pages with a cursor', async () => {
        const app = freshApp();
        const first = await store.push(app, INSTANCE, ['/1', '/2', '/3', '/4', '/5'].map((p) => change(p, p)));
        const second = await store.push(app, INSTANCE, ['/6', '/7'].map((p) => change(p, p)));
        const two = revisionOf(first[1]);
        const updated = revisionOf((await store.push(app, INSTANCE, [change('/2', 'two again', two)]))[0]);
        const head = await store.head(app);
        expect(head).toBe(updated);

        const pages = [];
        let cursor = 0;
        for (;;) {
          const page = await store.since(app, [SHARED_OWNER], cursor, 3);
          pages.push(page);
          expect(page.rows.length).toBeLessThanOrEqual(3);
          if (page.more) expect(page.cursor).toBe(page.rows.at(-1)!.revision);
          cursor = page.cursor;
          if (!page.more) break;
          expect(pages.length).toBeLessThan(10);
        }
        expect(pages.at(-1)!.cursor).toBe(head);
        const rows = pages.flatMap((page) => page.rows);
        expect(rows.map((row) => row.path)).toEqual(['/1', '/3', '/4', '/5', '/6', '/7', '/2']);
        const revisions = rows.map((row) => row.revision);
        expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
        expect(new Set(revisions).size).toBe(revisions.length);
        expect(revisions).toContain(revisionOf(second[1]));
        expect(text(rows.at(-1)!.content)).toBe('two again');

        expect(await store.since(app, [SHARED_OWNER], head)).toEqual({ rows: [], cursor: head, more: false });
        const tail = await store.since(app, [SHARED_OWNER], revisionOf(second[0]));
        expect(tail.rows.map((row) => row.path)).toEqual(['/7', '/2']);
      });

      it('returns at most 500 rows by default and the rest on the next page', async () => {
        const app = freshApp();
        await store.push(app, INSTANCE, Array.from({ length: 620 }, (_, i) => change(`/many/${i}.txt`, `${i}`)));
        const page = await store.since(app, [SHARED_OWNER], 0);
        expect(page.rows.length).toBeGreaterThan(0);
        expect(page.rows.length).toBeLessThanOrEqual(500);
        expect(page.more).toBe(true);
        const rest = await readAll(store, app, [SHARED_OWNER], page.cursor);
        expect(page.rows.length + rest.rows.length).toBe(620);
      });

      it('hides other owners but still advances the cursor to the head', async () => {
        const app = freshApp();
        const shared = revisionOf((await store.push(app, INSTANCE, [change('/same.md', 'shared')]))[0]);
        await store.push(app, INSTANCE, [change('/same.md', 'alice private', 0, 'alice')]);
        const bobs = revisionOf((await store.push(app, INSTANCE, [change('/same.md', 'bob private', 0, 'bob')]))[0]);

        const alice = await readAll(store, app, [SHARED_OWNER, 'alice']);
        expect(alice.rows.map((row) => [row.owner, text(row.content)])).toEqual([
          [SHARED_OWNER, 'shared'],
          ['alice', 'alice private'],
        ]);
        expect(alice.cursor).toBe(bobs);
        expect(await store.since(app, ['alice'], shared, 1)).toMatchObject({ more: false, cursor: bobs });
        expect(await store.since(app, [], 0)).toEqual({ rows: [], cursor: bobs, more: false });

        // The same path under three owners is three independent rows.
        expect(text((await store.get(app, 'bob', '/same.md'))!.content)).toBe('bob private');
        expect(text((await store.get(app, SHARED_OWNER, '/same.md'))!.content)).toBe('shared');
        expect(await store.get(app, 'carol', '/same.md')).toBeNull();
      });

      it('isolates apps: separate heads, rows and identities', async () => {
        const one = freshApp();
        const two = freshApp();
        await store.push(one, INSTANCE, [change('/x.md', 'one'), change('/y.md', 'one')]);
        const inTwo = revisionOf((await store.push(two, INSTANCE, [change('/x.md', 'two')]))[0]);
        expect(await store.head(two)).toBe(inTwo);
        expect(await store.head(one)).not.toBe(inTwo);
        const { rows } = await readAll(store, two, [SHARED_OWNER]);
        expect(rows.map((row) => [row.app, text(row.content)])).toEqual([[two, 'two']]);
        expect(text((await store.get(one, SHARED_OWNER, '/x.md'))!.content)).toBe('one');
        // Base 0 is right in `two` even though the path exists in `one`.
        expect((await store.push(two, INSTANCE, [change('/y.md', 'two')]))[0]?.status).toBe('ok');
      });
    });

    describe('content', () => {
      it('round-trips every byte value, empty content and 1 MiB exactly', async () => {
        const app = freshApp();
        const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
        const large = new Uint8Array(randomBytes(1024 * 1024));
        await store.push(app, INSTANCE, [
          change('/all.bin', allBytes),
          change('/empty.txt', new Uint8Array(0)),
          change('/large.bin', large),
        ]);
        for (const [path, expected] of [['/all.bin', allBytes], ['/empty.txt', new Uint8Array(0)], ['/large.bin', large]] as const) {
          const row = await store.get(app, SHARED_OWNER, path);
          expect(row).toMatchObject({ deleted: false, size: expected.byteLength, hash: sha256(expected) });
          expect(Buffer.from(row!.content!).equals(Buffer.from(expected))).toBe(true);
        }
        const { rows } = await readAll(store, app, [SHARED_OWNER]);
        const byPath = new Map(rows.map((row) => [row.path, row]));
        expect(byPath.get('/empty.txt')!.content).not.toBeNull();
        expect(byPath.get('/empty.txt')!.content!.byteLength).toBe(0);
        expect(Buffer.from(byPath.get('/all.bin')!.content!).equals(Buffer.from(allBytes))).toBe(true);
        expect(Buffer.from(byPath.get('/large.bin')!.content!).equals(Buffer.from(large))).toBe(true);
      });

      it('keeps unicode paths and owners exact', async () => {
        const app = freshApp();
        const paths = ['/日本語/ファイル.md', '/emoji/😀 notes.txt', '/ünïcödé/Ωmega.json'];
        await store.push(app, INSTANCE, paths.map((p) => change(p, p, 0, 'ユーザー')));
        const { rows } = await readAll(store, app, ['ユーザー']);
        expect(rows.map((row) => row.path)).toEqual(paths);
        for (const path of paths) expect(text((await store.get(app, 'ユーザー', path))!.content)).toBe(path);
      });
    });

    describe('watch', () => {
      it('hints after a push through another connection, and stops after unsubscribe', async () => {
        const app = freshApp();
        const other = await openStore();
        let resolveHint!: (head: number | undefined) => void;
        // The app is fresh, so any hint with a head above 0 comes from the push below.
        const hinted = new Promise<number | undefined>((resolve) => (resolveHint = resolve));
        let removedCalls = 0;
        const stopRemoved = await store.watch(app, () => removedCalls++);
        const stop = await store.watch(app, (hint) => {
          if (hint.head === undefined || hint.head > 0) resolveHint(hint.head);
        });
        await stopRemoved();
        const revision = revisionOf((await other.push(app, 'other', [change('/w.md', 'remote')]))[0]);
        const head = await withDeadline(hinted, 'a hint after another connection pushed');
        await stop();
        expect(removedCalls).toBe(0);
        if (head !== undefined) expect(head).toBe(revision);
        expect(await store.head(app)).toBe(revision);
      });

      it('hints after its own push', async () => {
        const app = freshApp();
        let resolveHint!: (head: number | undefined) => void;
        const hinted = new Promise<number | undefined>((resolve) => (resolveHint = resolve));
        const stop = await store.watch(app, (hint) => resolveHint(hint.head));
        const revision = revisionOf((await store.push(app, INSTANCE, [change('/own.md', 'mine')]))[0]);
        const head = await withDeadline(hinted, 'a hint after its own push');
        await stop();
        if (head !== undefined) expect(head).toBe(revision);
      });
    });

    describe('concurrency', () => {
      it('gives concurrent pushes distinct, gap-free revisions that a concurrent reader sees exactly once', async () => {
        const app = freshApp();
        const tasks = 16;
        const pushesPerTask = 8;
        let writing = true;
        const seen: number[] = [];
        const reader = (async () => {
          let cursor = 0;
          while (writing || cursor < (await store.head(app))) {
            const page = await store.since(app, [SHARED_OWNER], cursor, 7);
            seen.push(...page.rows.map((row) => row.revision));
            cursor = page.cursor;
          }
        })();
        const writers = Array.from({ length: tasks }, async (_, task) => {
          const revisions: number[] = [];
          for (let i = 0; i < pushesPerTask; i++) {
            const batch = [change(`/t${task}/${i}a`, `${task}.${i}`), change(`/t${task}/${i}b`, `${task}.${i}`)];
            const outcomes = await store.push(app, `task-${task}`, batch);
            revisions.push(...outcomes.map(revisionOf));
          }
          return revisions;
        });
        const pushed = (await Promise.all(writers).finally(() => (writing = false))).flat();
        await reader;

        const expected = [...pushed].sort((a, b) => a - b);
        expect(expected).toHaveLength(tasks * pushesPerTask * 2);
        expect(new Set(expected).size).toBe(expected.length);
        expected.forEach((revision, i) => expect(revision).toBe(expected[0]! + i));
        expect(await store.head(app)).toBe(expected.at(-1));
        expect(seen).toEqual(expected);
      });
    });

    describe('input validation', () => {
      it('rejects malformed arguments with EINVAL', async () => {
        const app = freshApp();
        await expectEinval(store.head(''));
        await expectEinval(store.since(app, [SHARED_OWNER], -1));
        await expectEinval(store.since(app, [SHARED_OWNER], 0, 0));
        await expectEinval(store.get(app, '', '/a.md'));
        await expectEinval(store.push(app, '', [change('/a.md', 'x')]));
        await expectEinval(store.push(app, INSTANCE, [{ ...change('/a.md', 'x'), baseRevision: 1.5 }]));
        await expectEinval(store.push(app, INSTANCE, [{ ...change('/a.md', 'x'), content: 'text' as never }]));
        expect(await store.head(app)).toBe(0);
      });
    });

    describeBatchContract(() => store);
    describeLeaseContract(() => store);
  });
}
