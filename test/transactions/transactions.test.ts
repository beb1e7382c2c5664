/**
 * Transactions on a running scope: snapshot reads, commit as one step with
 * three-way merges, abort on a throw or a signal, limits, idle abort, and
 * the events.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import type { TransactionEvent } from '../../src/transactions/types.js';
import type { FileSystem } from '../../src/types.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';

const scopes: RunningScope[] = [];
afterEach(async () => {
  await Promise.all(scopes.splice(0).map((scope) => scope.stop()));
});

async function scope(options: Partial<Parameters<typeof startScope>[0]> = {}): Promise<RunningScope> {
  const started = await startScope({ scopeKey: `tx-${randomBytes(4).toString('hex')}`, ...options });
  scopes.push(started);
  return started;
}

async function files(fs: FileSystem, prefix = '/'): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const path of await fs.listFiles(prefix)) found[path] = await fs.readFile(path);
  return found;
}

function events(running: RunningScope): TransactionEvent[] {
  const seen: TransactionEvent[] = [];
  running.transactions.subscribe((event) => seen.push(event));
  return seen;
}

describe('scope.transaction', () => {
  it('sees the scope as of its start plus its own writes; nothing is visible outside until it commits', async () => {
    const s = await scope();
    await s.fs.writeFile('/a.md', 'a at start');
    await s.fs.writeFile('/b.md', 'b at start');
    const tx = await s.transactions.begin();
    await s.fs.writeFile('/a.md', 'a changed outside'); // after the start: the transaction keeps seeing the start
    await s.fs.writeFile('/outside-new.md', 'new outside');
    await s.fs.deleteFile('/b.md');
    expect(await tx.fs.readFile('/a.md')).toBe('a at start');
    expect(await tx.fs.readFile('/b.md')).toBe('b at start');
    expect(await tx.fs.fileExists('/outside-new.md')).toBe(false);
    await tx.fs.writeFile('/mine/c.md', 'c');
    await tx.fs.appendFile('/b.md', ' + more');
    expect(await files(tx.fs)).toEqual({ '/a.md': 'a at start', '/b.md': 'b at start + more', '/mine/c.md': 'c' });
    expect(await s.fs.fileExists('/mine/c.md')).toBe(false);
    tx.abort('test');
    expect(await files(s.fs)).toEqual({ '/a.md': 'a changed outside', '/outside-new.md': 'new outside' });
    await expect(tx.fs.readFile('/a.md')).rejects.toMatchObject({ code: 'ESTOPPED', message: expect.stringContaining('run it again') });
  });

  it('commits every change as one step, records a checkpoint and reports the revisions', async () => {
    const s = await scope();
    await s.fs.writeFile('/keep.md', 'keep');
    await s.fs.writeFile('/old.md', 'old');
    const seen = events(s);
    const fsEvents: string[] = [];
    s.fs.subscribe((event) => void fsEvents.push(event.type));
    const result = await s.transaction(
      async (fs) => {
        await fs.writeFile('/keep.md', 'kept, edited');
        await fs.writeFile('/new/one.md', 'one');
        await fs.moveFile('/old.md', '/new/old.md');
        return 'done';
      },
      { name: 'tidy', actor: 'agent:tidy' },
    );
    expect(result).toMatchObject({ committed: true, value: 'done', conflicts: [], name: 'tidy' });
    expect(result.changes.map((c) => `${c.change} ${c.path}`).sort()).toEqual(['deleted /old.md', 'written /keep.md', 'written /new/old.md', 'written /new/one.md']);
    for (const change of result.changes.filter((c) => c.change === 'written')) expect(change.revision).toBe((await s.fs.stat(change.path)).revision);
    expect(await files(s.fs)).toEqual({ '/keep.md': 'kept, edited', '/new/old.md': 'old', '/new/one.md': 'one' });
    expect(result.checkpoint).toMatch(/^tidy-/);
    expect((await s.fs.listCheckpoints()).map((c) => c.name)).toContain(result.checkpoint);
    expect(seen).toEqual([expect.objectContaining({ type: 'transaction_committed', name: 'tidy', actor: 'agent:tidy', changes: result.changes })]);
    expect((await s.fs.history('/keep.md'))[0]).toMatchObject({ actor: 'agent:tidy' });
  });

  it('merges with changes made outside meanwhile, and with onConflict fail commits nothing when a path conflicts', async () => {
    const s = await scope();
    await s.fs.writeFile('/notes.md', 'one\ntwo\nthree\n');
    await s.fs.writeFile('/data.bin', new Uint8Array([1, 2, 3]));
    const merging = await s.transactions.begin();
    await merging.fs.editFile('/notes.md', 'one', 'ONE');
    await s.fs.editFile('/notes.md', 'three', 'THREE');
    const merged = await merging.commit();
    expect(merged).toMatchObject({ committed: true, changes: [{ path: '/notes.md', change: 'written', merged: true }] });
    expect(await s.fs.readFile('/notes.md')).toBe('ONE\ntwo\nTHREE\n');

    const conflicting = await s.transactions.begin();
    await conflicting.fs.writeFile('/data.bin', new Uint8Array([0xff]));
    await conflicting.fs.writeFile('/other.md', 'would be new');
    await s.fs.writeFile('/data.bin', new Uint8Array([7]));
    const failed = await conflicting.commit();
    expect(failed.committed).toBe(false);
    expect(failed.conflicts).toEqual([expect.objectContaining({ path: '/data.bin', why: expect.stringContaining('binary'), ours: '<1 bytes>' })]);
    expect(await s.fs.fileExists('/other.md')).toBe(false);
    expect(await s.fs.readFile('/data.bin', { encoding: 'bytes' })).toEqual(new Uint8Array([7]));
  });

  it('keeps the start version of a file in memory even when the history lost it, and still merges', async () => {
    // History keeps one version per path: the start version of /notes.md is gone from it once changed outside.
    const s = await scope({ historyRetention: { maxVersionsPerPath: 1 } });
    await s.fs.writeFile('/notes.md', 'one\ntwo\nthree\nfour\nfive\n');
    const tx = await s.transactions.begin({ checkpoint: false });
    await s.fs.editFile('/notes.md', 'three', 'THREE');
    await s.fs.editFile('/notes.md', 'five', 'FIVE');
    expect((await s.fs.history('/notes.md')).length).toBe(1); // the recorder caught up: the start version is pruned
    await tx.fs.editFile('/notes.md', 'one', 'ONE');
    expect(await tx.fs.readFile('/notes.md')).toBe('ONE\ntwo\nthree\nfour\nfive\n');
    expect(await tx.commit()).toMatchObject({ committed: true, changes: [{ path: '/notes.md', merged: true }] });
    expect(await s.fs.readFile('/notes.md')).toBe('ONE\ntwo\nTHREE\nfour\nFIVE\n');
  });

  it('finds the start version of a file only on disk in the history once it changed outside', async () => {
    const root = await mkdtemp(join(tmpdir(), 'scopefs-tx-disk-'));
    try {
      const first = await startScope({ scopeKey: `tx-disk-${randomBytes(4).toString('hex')}`, root });
      await first.fs.writeFile('/notes.md', 'one\ntwo\nthree\nfour\nfive\n');
      await first.fs.writeFile('/data.bin', new Uint8Array([1, 2, 3]));
      await first.stop();
      // Started again: the files are on disk, not in memory, so the transaction holds only their metadata.
      const s = await scope({ root });
      expect((await s.fs.stat('/notes.md')).loaded).toBe(false);
      const tx = await s.transactions.begin({ checkpoint: false });
      await s.fs.editFile('/notes.md', 'five', 'FIVE');
      await s.fs.writeFile('/data.bin', new Uint8Array([7]));
      await tx.fs.editFile('/notes.md', 'one', 'ONE');
      expect([...(await tx.fs.readFile('/data.bin', { encoding: 'bytes' }))]).toEqual([1, 2, 3]);
      expect(await tx.commit()).toMatchObject({ committed: true, changes: [{ path: '/notes.md', merged: true }] });
      expect(await s.fs.readFile('/notes.md')).toBe('ONE\ntwo\nthree\nfour\nFIVE\n');
    } finally {
      await Promise.all(scopes.splice(0).map((started) => started.stop()));
      await rm(root, { recursive: true, force: true });
    }
  });

  it('with onConflict copy commits what merged and keeps the conflicting version as a copy', async () => {
    const s = await scope();
    await s.fs.writeFile('/memory.md', 'likes: tea\n');
    const tx = await s.transactions.begin({ onConflict: 'copy' });
    await tx.fs.writeFile('/memory.md', 'likes: coffee\n');
    await tx.fs.writeFile('/fine.md', 'fine');
    await s.fs.writeFile('/memory.md', 'likes: water\n');
    const result = await tx.commit();
    expect(result.committed).toBe(true);
    const copy = result.conflicts[0]!.copyPath!;
    expect(await files(s.fs)).toEqual({ '/fine.md': 'fine', '/memory.md': 'likes: water\n', [copy]: 'likes: coffee\n' });
  });

  it('a throw or the signal discards everything; the throw reaches the caller', async () => {
    const s = await scope();
    const seen = events(s);
    await expect(
      s.transaction(async (fs) => {
        await fs.writeFile('/half.md', 'half');
        throw new Error('agent gave up');
      }),
    ).rejects.toThrow('agent gave up');
    const controller = new AbortController();
    const aborted = s.transaction(async (fs) => {
      await fs.writeFile('/signalled.md', 'x');
      controller.abort();
      await fs.writeFile('/after-abort.md', 'y');
    }, { signal: controller.signal });
    await expect(aborted).rejects.toMatchObject({ code: 'ESTOPPED', message: expect.stringContaining('signal') });
    expect(await s.fs.listFiles('/')).toEqual([]);
    expect(seen.map((e) => [e.type, e.type === 'transaction_aborted' ? e.paths : []])).toEqual([
      ['transaction_aborted', ['/half.md']],
      ['transaction_aborted', ['/signalled.md']],
    ]);
    expect(s.transactions.list()).toEqual([]);
  });

  it('refuses more open transactions than the limit, and more bytes than a transaction may hold', async () => {
    const s = await scope({ transactions: { maxOpen: 2, maxBytes: 1_000 } });
    const first = await s.transactions.begin();
    await s.transactions.begin();
    await expect(s.transactions.begin()).rejects.toMatchObject({ code: 'ELOCKED', message: expect.stringContaining('commit or abort one') });
    first.abort();
    const third = await s.transactions.begin();
    await third.fs.writeFile('/a.bin', new Uint8Array(600));
    await third.fs.writeFile('/a.bin', new Uint8Array(900)); // replaces its own 600 bytes
    const over = await third.fs.writeFile('/b.bin', new Uint8Array(200)).catch((err: unknown) => err);
    expect(isScopeFsError(over, 'EFBIG')).toBe(true);
    expect((over as Error).message).toContain('commit smaller transactions');
    expect(s.transactions.list().map((info) => info.bytes)).toContain(900);
  });

  it('aborts a transaction begun for a session once it is unused for the idle time', async () => {
    const s = await scope({ transactions: { idleMs: 50 } });
    const seen = events(s);
    const done = new Promise<TransactionEvent>((resolve) => s.transactions.subscribe(resolve));
    const tx = await s.transactions.begin({ idle: true, name: 'session' });
    await tx.fs.writeFile('/draft.md', 'draft');
    expect(await done).toMatchObject({ type: 'transaction_aborted', name: 'session', reason: expect.stringContaining('unused for 50 ms'), paths: ['/draft.md'] });
    expect(seen).toHaveLength(1);
    await expect(tx.commit()).rejects.toMatchObject({ code: 'ESTOPPED' });
    expect(await s.fs.fileExists('/draft.md')).toBe(false);
  });

  it('two transactions with disjoint edits both commit', async () => {
    const s = await scope();
    await s.fs.writeFile('/shared.md', 'a\nb\nc\nd\n');
    const [one, two] = await Promise.all([s.transactions.begin(), s.transactions.begin()]);
    await one.fs.editFile('/shared.md', 'a', 'A');
    await one.fs.writeFile('/one.md', '1');
    await two.fs.editFile('/shared.md', 'd', 'D');
    await two.fs.writeFile('/two.md', '2');
    const results = await Promise.all([one.commit(), two.commit()]);
    expect(results.map((r) => r.committed)).toEqual([true, true]);
    expect(await files(s.fs)).toEqual({ '/one.md': '1', '/shared.md': 'A\nb\nc\nD\n', '/two.md': '2' });
  });

  it('refuses scope-wide operations inside, with what to do instead', async () => {
    const s = await scope();
    const tx = await s.transactions.begin();
    await expect(tx.fs.reset()).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('commit or abort the transaction first') });
    await expect(tx.fs.checkpoint('x')).rejects.toMatchObject({ code: 'EINVAL' });
    await tx.fs.writeFile('/f', 'file');
    await expect(tx.fs.writeFile('/f/under', 'x')).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('is a file') });
    await expect(tx.fs.writeFile('/f', 'x', { ifRevision: 12_345 })).rejects.toMatchObject({ code: 'ESTALE' });
    tx.abort();
  });
});
