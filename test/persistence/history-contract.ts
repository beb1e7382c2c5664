/**
 * The HistoryStore contract suite. Every implementation runs it:
 *
 *   describeHistoryContract('sqlite', () => new SqliteHistory({ file }), { reopen: true });
 *
 * `makeHistory` is called once for the history under test and, with
 * `shared`, once more for a second connection to the same data (a second
 * instance or a restart). Each test works in a fresh scope.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { isScopeFsError } from '../../src/errors.js';
import type { HistoryStore, NewVersion } from '../../persistence/history/types.js';
import { describeRetentionContract } from './history-contract-retention.js';

export interface HistoryContractOptions {
  /** makeHistory() returns a second connection to the same data (restart, second instance). */
  shared?: boolean;
  cleanup?: () => Promise<void>;
}

export const freshScope = () => `history-${randomUUID()}`;
export const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));
const text = (content: Uint8Array | null) => (content === null ? null : Buffer.from(content).toString('utf8'));

/** A version of `path` with `content` (null: a deletion) at time `at`. */
export function version(path: string, content: string | null, at = 1_000, extra: Partial<NewVersion> = {}): NewVersion {
  const data = content === null ? null : bytes(content);
  return { path, content: data, hash: data && sha256(data), at, origin: 'local', ...extra };
}

export async function errorCode(promise: Promise<unknown>): Promise<string | null> {
  const error = await promise.then(() => null, (err: unknown) => err);
  if (error === null) return null;
  if (!isScopeFsError(error)) throw error;
  return error.code;
}

export function describeHistoryContract(
  name: string,
  makeHistory: () => HistoryStore | Promise<HistoryStore>,
  options: HistoryContractOptions = {},
): void {
  describe(`HistoryStore contract: ${name}`, () => {
    const opened: HistoryStore[] = [];
    let history: HistoryStore;
    const open = async () => {
      const made = await makeHistory();
      opened.push(made);
      return made;
    };

    beforeAll(async () => {
      history = await open();
    });
    afterAll(async () => {
      for (const each of opened.reverse()) await each.close();
      await options.cleanup?.();
    });

    describe('versions', () => {
      it('records versions with increasing revisions and reads them newest first with every field', async () => {
        const scope = freshScope();
        const recorded = await history.record(scope, [
          version('/a.md', 'one', 10, { actor: 'agent-1', instance: 'i-1' }),
          version('/b.md', 'bee', 11, { origin: 'sync' }),
          version('/a.md', 'two', 12),
        ]);
        expect(recorded.map((v) => v.revision)).toEqual([1, 2, 3]);
        const versions = await history.versions(scope, '/a.md');
        expect(versions).toEqual([
          { path: '/a.md', revision: 3, hash: sha256('two'), size: 3, at: 12, origin: 'local', deleted: false },
          { path: '/a.md', revision: 1, hash: sha256('one'), size: 3, at: 10, origin: 'local', actor: 'agent-1', instance: 'i-1', deleted: false },
        ]);
        expect(await history.version(scope, '/b.md', 2)).toMatchObject({ origin: 'sync', hash: sha256('bee') });
        expect(await history.version(scope, '/b.md', 3)).toBeNull();
        expect(text(await history.content(scope, sha256('one')))).toBe('one');
        expect(await history.content(scope, sha256('never'))).toBeNull();
      });

      it('reads several contents in one call: each found hash once, unknown ones left out, another scope\'s never', async () => {
        const scope = freshScope();
        await history.record(scope, [version('/a.md', 'one'), version('/b.md', 'two'), version('/c.md', 'one')]);
        await history.record(freshScope(), [version('/x.md', 'elsewhere')]);
        const found = await history.contents(scope, [sha256('one'), sha256('two'), sha256('one'), sha256('never'), sha256('elsewhere')]);
        expect([...found.keys()].sort()).toEqual([sha256('one'), sha256('two')].sort());
        expect(text(found.get(sha256('two'))!)).toBe('two');
        expect((await history.contents(scope, [])).size).toBe(0);
        await expect(history.contents(scope, [''])).rejects.toMatchObject({ code: 'EINVAL' });
      });

      it('is idempotent: the same content or a repeated deletion records nothing, so a replay adds no version', async () => {
        const scope = freshScope();
        await history.record(scope, [version('/a.md', 'x'), version('/a.md', null)]);
        const replay = await history.record(scope, [version('/a.md', null), version('/never.md', null)]);
        expect(replay).toEqual([]);
        const again = await history.record(scope, [version('/a.md', 'x'), version('/a.md', 'x')]);
        expect(again.map((v) => v.revision)).toEqual([3]);
        expect((await history.versions(scope, '/a.md')).map((v) => v.deleted)).toEqual([false, true, false]);
      });

      it('stores one copy of each distinct content per scope', async () => {
        const scope = freshScope();
        const big = 'z'.repeat(10_000);
        await history.record(scope, [version('/a.md', big), version('/b.md', big), version('/a.md', 'small'), version('/a.md', big)]);
        expect(await history.storedBytes(scope)).toBe(10_000 + 5);
      });

      it('pages with limit and before', async () => {
        const scope = freshScope();
        await history.record(scope, ['1', '2', '3', '4', '5'].map((n) => version('/p.md', n)));
        const first = await history.versions(scope, '/p.md', { limit: 2 });
        expect(first.map((v) => v.revision)).toEqual([5, 4]);
        const next = await history.versions(scope, '/p.md', { limit: 2, before: first.at(-1)!.revision });
        expect(next.map((v) => v.revision)).toEqual([3, 2]);
      });

      it('lists paths whose latest version is a deletion, newest first, under a prefix', async () => {
        const scope = freshScope();
        await history.record(scope, [
          version('/docs/a.md', 'a'), version('/docs/b.md', 'b'), version('/other.md', 'o'), version('/docs2/c.md', 'c'),
          version('/docs/a.md', null, 20), version('/other.md', null, 21), version('/docs/b.md', null, 22), version('/docs/b.md', 'back', 23),
          version('/docs2/c.md', null, 24),
        ]);
        expect((await history.deleted(scope, '/')).map((v) => v.path)).toEqual(['/docs2/c.md', '/other.md', '/docs/a.md']);
        const docs = await history.deleted(scope, '/docs');
        expect(docs).toEqual([{ path: '/docs/a.md', revision: 5, hash: null, size: 0, at: 20, origin: 'local', deleted: true }]);
        expect(await history.deleted(scope, '/', 1)).toHaveLength(1);
      });

      it('keeps scopes apart', async () => {
        const [one, two] = [freshScope(), freshScope()];
        await history.record(one, [version('/a.md', 'secret')]);
        expect(await history.versions(two, '/a.md')).toEqual([]);
        expect(await history.content(two, sha256('secret'))).toBeNull();
      });

      it('rejects bad input with EINVAL naming what to pass', async () => {
        const scope = freshScope();
        expect(await errorCode(history.record(scope, [{ ...version('/a.md', 'x'), hash: sha256('y') }]))).toBe('EINVAL');
        expect(await errorCode(history.record(scope, [{ ...version('/a.md', 'x'), origin: 'nope' as never }]))).toBe('EINVAL');
        expect(await errorCode(history.record('', [version('/a.md', 'x')]))).toBe('EINVAL');
        expect(await errorCode(history.versions(scope, '/a.md', { limit: 0 }))).toBe('EINVAL');
        expect(await errorCode(history.version(scope, '/a.md', -1))).toBe('EINVAL');
        expect(await errorCode(history.deleted(scope, 'relative'))).toBe('EINVAL');
        // A rejected batch records nothing.
        expect(await errorCode(history.record(scope, [version('/ok.md', 'x'), { ...version('/b.md', 'y'), at: -1 }]))).toBe('EINVAL');
        expect(await history.versions(scope, '/ok.md')).toEqual([]);
      });

      if (options.shared) {
        it('a second connection (restart, another instance) sees the same history and continues its revisions', async () => {
          const scope = freshScope();
          await history.record(scope, [version('/a.md', 'one')]);
          const other = await open();
          expect((await other.versions(scope, '/a.md')).map((v) => v.revision)).toEqual([1]);
          expect(await other.record(scope, [version('/a.md', 'one')])).toEqual([]);
          await other.record(scope, [version('/a.md', 'two')]);
          expect((await history.versions(scope, '/a.md')).map((v) => v.revision)).toEqual([2, 1]);
        });
      }
    });

    describe('checkpoints', () => {
      it('saves a named manifest and reads it back sorted by path', async () => {
        const scope = freshScope();
        await history.record(scope, [version('/b.md', 'bee'), version('/a.md', 'a')]);
        const info = await history.saveCheckpoint(scope, {
          name: 'first', message: 'before the refactor', prefix: '/', at: 50,
          files: [{ path: '/b.md', hash: sha256('bee'), size: 3 }, { path: '/a.md', hash: sha256('a'), size: 1 }],
        });
        expect(info).toEqual({ name: 'first', message: 'before the refactor', prefix: '/', at: 50, fileCount: 2, bytes: 4 });
        expect(await history.checkpoint(scope, 'first')).toEqual({
          ...info,
          files: [{ path: '/a.md', hash: sha256('a'), size: 1 }, { path: '/b.md', hash: sha256('bee'), size: 3 }],
        });
        expect(await history.checkpoint(scope, 'missing')).toBeNull();
      });

      it('keeps every checkpoint of a prefix exact while only changes add rows', async () => {
        const scope = freshScope();
        const files = (contents: Record<string, string>) =>
          Object.entries(contents).map(([path, body]) => ({ path, hash: sha256(body), size: body.length, content: bytes(body) }));
        const states: Array<Record<string, string>> = [
          { '/a.md': 'a1', '/b.md': 'b1', '/c.md': 'c1' },
          { '/a.md': 'a2', '/b.md': 'b1', '/d.md': 'd1' },
          { '/a.md': 'a2', '/b.md': 'b1', '/d.md': 'd1' },
          { '/a.md': 'a1', '/c.md': 'c1' },
        ];
        for (const [i, state] of states.entries()) await history.saveCheckpoint(scope, { name: `c${i}`, prefix: '/docs', at: i, files: files(state) });
        await history.saveCheckpoint(scope, { name: 'root', prefix: '/', at: 9, files: files({ '/x.md': 'x' }) });
        for (const [i, state] of states.entries()) {
          const read = await history.checkpoint(scope, `c${i}`);
          expect(read?.prefix).toBe('/docs/');
          expect(Object.fromEntries(read!.files.map((f) => [f.path, f.hash]))).toEqual(
            Object.fromEntries(Object.entries(state).map(([path, body]) => [path, sha256(body)])),
          );
        }
        expect((await history.listCheckpoints(scope)).map((c) => c.name)).toEqual(['root', 'c3', 'c2', 'c1', 'c0']);
      });

      it('deleting a checkpoint leaves the others intact', async () => {
        const scope = freshScope();
        const file = (body: string) => ({ path: '/f.md', hash: sha256(body), size: body.length, content: bytes(body) });
        await history.saveCheckpoint(scope, { name: 'one', prefix: '/', at: 1, files: [file('v1')] });
        await history.saveCheckpoint(scope, { name: 'two', prefix: '/', at: 2, files: [file('v2')] });
        await history.saveCheckpoint(scope, { name: 'three', prefix: '/', at: 3, files: [file('v2')] });
        expect(await history.deleteCheckpoint(scope, 'two')).toBe(true);
        expect(await history.deleteCheckpoint(scope, 'two')).toBe(false);
        expect((await history.checkpoint(scope, 'one'))?.files.map((f) => f.hash)).toEqual([sha256('v1')]);
        expect((await history.checkpoint(scope, 'three'))?.files.map((f) => f.hash)).toEqual([sha256('v2')]);
        expect(text(await history.content(scope, sha256('v2')))).toBe('v2');
        await history.deleteCheckpoint(scope, 'three');
        expect(await history.content(scope, sha256('v2'))).toBeNull();
        await history.saveCheckpoint(scope, { name: 'four', prefix: '/', at: 4, files: [file('v2')] });
        expect((await history.checkpoint(scope, 'four'))?.files.map((f) => f.hash)).toEqual([sha256('v2')]);
      });

      it('refuses a taken name (EEXIST), a hash without content and a bad name (EINVAL)', async () => {
        const scope = freshScope();
        await history.saveCheckpoint(scope, { name: 'x', prefix: '/', at: 1, files: [] });
        expect(await errorCode(history.saveCheckpoint(scope, { name: 'x', prefix: '/', at: 2, files: [] }))).toBe('EEXIST');
        const unknown = { path: '/a.md', hash: sha256('nothing recorded'), size: 3 };
        expect(await errorCode(history.saveCheckpoint(scope, { name: 'y', prefix: '/', at: 2, files: [unknown] }))).toBe('EINVAL');
        expect(await history.checkpoint(scope, 'y')).toBeNull();
        expect(await errorCode(history.saveCheckpoint(scope, { name: ' bad', prefix: '/', at: 2, files: [] }))).toBe('EINVAL');
        expect(await errorCode(history.checkpoint(scope, ''))).toBe('EINVAL');
      });
    });

    describeRetentionContract(() => history);
  });
}
