/**
 * A pass with only local news pushes without pulling first; the push is a
 * compare-and-swap on the path's base, so a remote change whose hint never
 * arrived makes it lose, and the pass after pulls and reconciles.
 * The store proxy for `a` drops its hints and records the order of calls.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import type { PushChange, PushOutcome, StoreHint } from '../../persistence/stores/types.js';
import { SyncLab, type SyncedScope } from '../helpers/sync-scopes.js';
import { LostReplyStore } from './fixtures/lost-reply-store.js';

/** Passes everything through, except hints while deaf; logs since/push calls. */
class DeafStore extends LostReplyStore {
  deaf = false;
  readonly calls: string[] = [];

  override since(app: string, owners: readonly string[], cursor: number, limit?: number) {
    this.calls.push('since');
    return super.since(app, owners, cursor, limit);
  }

  override push(app: string, instanceId: string, changes: readonly PushChange[]): Promise<PushOutcome[]> {
    this.calls.push('push');
    return super.push(app, instanceId, changes);
  }

  override watch(app: string, listener: (hint: StoreHint) => void): Promise<() => Promise<void>> {
    return super.watch(app, (hint) => {
      if (!this.deaf || hint.error !== undefined) listener(hint);
    });
  }
}

let lab: SyncLab;
let deaf: DeafStore;
let a: SyncedScope;
let b: SyncedScope;

beforeEach(async () => {
  const store = new MemoryStore();
  lab = await SyncLab.create(store);
  deaf = new DeafStore(store);
  a = await lab.start('a', { store: deaf });
  b = await lab.start('b');
  await a.fs.writeFile('/notes.md', 'one\ntwo\nthree\n');
  await lab.settle(a, b);
});
afterEach(() => lab.remove());

describe('a pass with only local news', () => {
  it('pushes without asking the store for rows first', async () => {
    deaf.calls.length = 0;
    await a.fs.writeFile('/notes.md', 'one\ntwo\nthree\nfour\n');
    await lab.settle(a, b);
    expect(deaf.calls[0]).toBe('push');
    expect(await b.fs.readFile('/notes.md')).toBe('one\ntwo\nthree\nfour\n');
  });

  it('loses its push against a remote change it never heard of, then pulls and merges', async () => {
    deaf.deaf = true;
    await b.fs.writeFile('/notes.md', 'ONE\ntwo\nthree\n');
    await b.sync!.idle();
    deaf.calls.length = 0;
    await a.fs.writeFile('/notes.md', 'one\ntwo\nTHREE\n');
    await a.sync!.idle({ timeoutMs: 20_000 });
    expect(deaf.calls.slice(0, 2)).toEqual(['push', 'since']);
    deaf.deaf = false;
    await lab.settle(a, b);
    for (const scope of [a, b]) {
      expect(await scope.fs.readFile('/notes.md'), scope.key).toBe('ONE\ntwo\nTHREE\n');
      expect(await scope.sync!.conflicts()).toEqual([]);
    }
  });
});
