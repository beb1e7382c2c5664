/**
 * A pass commits the cursor after each page it pulls, before it applies the
 * rows. When the pass then fails (here: the next page's read), the rows it
 * had fetched are past the cursor and no later pull brings them again; their
 * paths must still be applied. (Seen in the SQLite lock-fault suite: an
 * instance settled on the store's cursor with one path's old content.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import type { StoreHint } from '../../persistence/stores/types.js';
import { SyncLab, type SyncedScope } from '../helpers/sync-scopes.js';
import { LostReplyStore } from './fixtures/lost-reply-store.js';

/** Pages of one row; once armed, the second read of rows fails. Hints are held while `holding`. */
class FailingSecondPage extends LostReplyStore {
  failures = 0;
  holding = false;
  private reads = -1;
  private held: Array<() => void> = [];

  arm(): void {
    this.reads = 0;
  }

  releaseHints(): void {
    this.holding = false;
    for (const deliver of this.held.splice(0)) deliver();
  }

  override async since(app: string, owners: readonly string[], cursor: number) {
    if (this.reads >= 0 && this.reads++ === 1) {
      this.failures++;
      throw new Error('connection reset while reading the second page');
    }
    return super.since(app, owners, cursor, 1);
  }

  override watch(app: string, listener: (hint: StoreHint) => void): Promise<() => Promise<void>> {
    return super.watch(app, (hint) => {
      if (this.holding) this.held.push(() => listener(hint));
      else listener(hint);
    });
  }
}

let lab: SyncLab;
let flaky: FailingSecondPage;
let a: SyncedScope;
let b: SyncedScope;

beforeEach(async () => {
  const store = new MemoryStore();
  lab = await SyncLab.create(store);
  flaky = new FailingSecondPage(store);
  a = await lab.start('a', { store: flaky });
  b = await lab.start('b');
  await a.fs.writeFile('/start.md', 'start\n');
  await lab.settle(a, b);
});
afterEach(() => lab.remove());

describe('a pass that fails after pulling a page', () => {
  it('still applies the rows of the page it pulled', async () => {
    flaky.holding = true;
    await b.fs.writeFile('/one.md', 'one\n');
    await b.fs.writeFile('/two.md', 'two\n');
    await b.sync!.idle();
    flaky.arm();
    flaky.releaseHints(); // a pulls /one.md, commits its cursor, then the read of the next page fails
    await lab.settle(a, b);
    expect(flaky.failures).toBe(1);
    expect(await a.fs.readFile('/two.md')).toBe('two\n');
    expect(await a.fs.readFile('/one.md')).toBe('one\n');
  });
});
