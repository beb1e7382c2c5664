/**
 * The push side of an atomic commit: when one path of A's commit lost its
 * compare-and-swap (B changed it, and A had not heard), the store refuses
 * the whole batch, so no instance sees the commit without that path; A then
 * merges B's change and pushes the commit again, as one batch.
 */
import { afterEach, expect, it } from 'vitest';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SHARED_OWNER, type PushChange, type PushOutcome, type StoreHint } from '../../persistence/stores/types.js';
import { SyncLab } from '../helpers/sync-scopes.js';
import { LostReplyStore } from '../sync/fixtures/lost-reply-store.js';

/** Drops hints while deaf (so A pushes without pulling first); records every push's outcomes. */
class DeafRecordingStore extends LostReplyStore {
  deaf = false;
  readonly pushes: Array<{ changes: readonly PushChange[]; outcomes: PushOutcome[] }> = [];

  override async push(app: string, instanceId: string, changes: readonly PushChange[]): Promise<PushOutcome[]> {
    const outcomes = await super.push(app, instanceId, changes);
    this.pushes.push({ changes, outcomes });
    return outcomes;
  }

  override watch(app: string, listener: (hint: StoreHint) => void): Promise<() => Promise<void>> {
    return super.watch(app, (hint) => {
      if (!this.deaf || hint.error !== undefined) listener(hint);
    });
  }
}

const paths = Array.from({ length: 20 }, (_, i) => `/run/f-${String(i).padStart(2, '0')}.md`);
let lab: SyncLab;
afterEach(() => lab?.remove());

it("refuses the whole commit when one of its paths is stale, then pushes it again, merged, as one batch", async () => {
  const memory = new MemoryStore();
  lab = await SyncLab.create(memory);
  const deaf = new DeafRecordingStore(memory);
  const a = await lab.start('a', { store: deaf });
  const b = await lab.start('b');
  await a.fs.applyBatch(paths.map((path) => ({ path, content: `first line of ${path}\nlast line\n` })));
  await lab.settle(a, b);

  deaf.deaf = true;
  await b.fs.writeFile(paths[7]!, `B's new top line\nfirst line of ${paths[7]}\nlast line\n`);
  await b.sync!.idle();
  deaf.pushes.length = 0;
  const result = await a.transaction(async (tx) => {
    for (const path of paths) await tx.writeFile(path, `first line of ${path}\nlast line, edited by A\n`);
  });
  expect(result.committed).toBe(true);
  deaf.deaf = false;
  await lab.settle(a, b);

  // First push: the commit as one batch, refused whole because of the one stale path.
  const [refused, accepted] = deaf.pushes;
  expect(refused!.changes.map((c) => c.batch)).toEqual(paths.map(() => refused!.changes[0]!.batch));
  expect(refused!.changes[0]!.batch).toBeDefined();
  expect(refused!.outcomes.map((o) => o.status)).toEqual(paths.map(() => 'conflict'));
  // Then, with B's change merged into its path: the whole commit again, accepted as one batch.
  expect(accepted!.changes.map((c) => c.path).sort()).toEqual(paths);
  expect(new Set(accepted!.changes.map((c) => c.batch)).size).toBe(1);
  expect(accepted!.outcomes.map((o) => o.status)).toEqual(paths.map(() => 'ok'));
  const merged = `B's new top line\nfirst line of ${paths[7]}\nlast line, edited by A\n`;
  expect(await a.fs.readFile(paths[7]!)).toBe(merged);
  expect(await b.fs.readFile(paths[7]!)).toBe(merged);
  expect(await b.fs.readFile(paths[3]!)).toBe(`first line of ${paths[3]}\nlast line, edited by A\n`);
  const row = await memory.get('lab', SHARED_OWNER, paths[0]!);
  expect(row!.batch).toBe(accepted!.changes[0]!.batch);
}, 60_000);
