/**
 * A push the store committed but whose outcome never reached the engine (a
 * SIGKILL or a dropped connection between the store's commit and the local
 * record). The next pass meets the row it wrote itself: that row is this
 * instance's own earlier content, adopted as the base, never a conflict with
 * itself, whatever the local file did since. Real processes killed with
 * SIGKILL at that moment: test/reliability/kill9.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SyncLab, type SyncedScope } from '../helpers/sync-scopes.js';
import { LostReplyStore } from './fixtures/lost-reply-store.js';

let lab: SyncLab;
let lossy: LostReplyStore;
let a: SyncedScope;
let b: SyncedScope;

beforeEach(async () => {
  const store = new MemoryStore();
  lab = await SyncLab.create(store);
  lossy = new LostReplyStore(store);
  a = await lab.start('a', { store: lossy });
  b = await lab.start('b');
});
afterEach(() => lab.remove());

/** Runs `change` on a, lets its push commit, runs `then` while the outcome is lost, then fails the push. */
async function loseThePushOf(change: () => Promise<unknown>, then: () => Promise<unknown> = async () => undefined): Promise<void> {
  const committed = lossy.loseNextReply();
  await change();
  const fail = await committed;
  await then();
  fail();
  await lab.settle(a, b);
}

async function expectConverged(files: Record<string, string | null>): Promise<void> {
  for (const scope of [a, b]) {
    expect(await scope.sync!.conflicts(), `${scope.key}: no conflict with its own push`).toEqual([]);
    for (const [path, content] of Object.entries(files)) {
      if (content === null) expect(await scope.fs.fileExists(path), `${path} on ${scope.key}`).toBe(false);
      else expect(await scope.fs.readFile(path), `${path} on ${scope.key}`).toBe(content);
    }
    const status = await scope.sync!.status();
    expect(status.pending).toEqual([]);
    expect(status.failedPaths).toEqual([]);
  }
}

describe('a push committed in the store whose outcome was lost', () => {
  it('is adopted as the base when the file did not change since', async () => {
    await a.fs.writeFile('/notes.md', 'one\n');
    await lab.settle(a, b);
    await loseThePushOf(() => a.fs.writeFile('/notes.md', 'one\ntwo\n'));
    await expectConverged({ '/notes.md': 'one\ntwo\n' });
  });

  it('is the base of a later local edit, which is pushed (not a conflict with itself)', async () => {
    await a.fs.writeFile('/notes.md', 'one\n');
    await lab.settle(a, b);
    await loseThePushOf(
      () => a.fs.writeFile('/notes.md', 'one\ntwo\n'),
      () => a.fs.writeFile('/notes.md', 'one\ntwo\nthree\n'),
    );
    await expectConverged({ '/notes.md': 'one\ntwo\nthree\n' });
  });

  it('of a new file is the base of a later local edit', async () => {
    await loseThePushOf(
      () => a.fs.writeFile('/new.md', 'first\n'),
      () => a.fs.writeFile('/new.md', 'first\nsecond\n'),
    );
    await expectConverged({ '/new.md': 'first\nsecond\n' });
  });

  it('of a delete does not delete the file written again since, with the same content', async () => {
    await a.fs.writeFile('/kept.md', 'keep me\n');
    await lab.settle(a, b);
    await loseThePushOf(
      () => a.fs.deleteFile('/kept.md'),
      () => a.fs.writeFile('/kept.md', 'keep me\n'),
    );
    await expectConverged({ '/kept.md': 'keep me\n' });
  });

  it('of a move is the base of a later edit at the new path', async () => {
    await a.fs.writeFile('/from.md', 'alpha\n');
    await lab.settle(a, b);
    await loseThePushOf(
      () => a.fs.moveFile('/from.md', '/to.md'),
      () => a.fs.writeFile('/to.md', 'alpha\nbeta\n'),
    );
    await expectConverged({ '/from.md': null, '/to.md': 'alpha\nbeta\n' });
  });

  it('is recorded once however often the row is seen again (a restart re-reads it)', async () => {
    await a.fs.writeFile('/notes.md', 'one\n');
    await lab.settle(a, b);
    await loseThePushOf(
      () => a.fs.writeFile('/notes.md', 'one\ntwo\n'),
      () => a.fs.writeFile('/notes.md', 'one\ntwo\nthree\n'),
    );
    // A crashed sync actor starts over from the persisted state and sees the rows again.
    a.supervisor.child('sync')?.exit(new Error('injected crash'));
    await a.fs.writeFile('/notes.md', 'one\ntwo\nthree\nfour\n');
    await lab.settle(a, b);
    await lab.settle(a, b);
    await expectConverged({ '/notes.md': 'one\ntwo\nthree\nfour\n' });
  });
});
