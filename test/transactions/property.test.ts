/**
 * Random interleavings of transactions and plain writes and deletes, checked
 * against a model: the final state is the plain changes and the committed
 * transactions applied in commit order, each transaction commits exactly
 * when no path it changed was changed by someone else since it began (binary
 * files, which never merge), and a failed commit changes nothing.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transaction } from '../../src/transactions/transactions.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';

const PATHS = ['/p0.bin', '/p1.bin', '/p2.bin', '/d/p3.bin'];
const TXS = 3;

type Action =
  | { kind: 'begin'; tx: number }
  | { kind: 'tx_write'; tx: number; path: number }
  | { kind: 'tx_delete'; tx: number; path: number }
  | { kind: 'write'; path: number }
  | { kind: 'delete'; path: number }
  | { kind: 'commit'; tx: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('begin' as const), tx: fc.nat(TXS - 1) }),
  fc.record({ kind: fc.constant('tx_write' as const), tx: fc.nat(TXS - 1), path: fc.nat(PATHS.length - 1) }),
  fc.record({ kind: fc.constant('tx_delete' as const), tx: fc.nat(TXS - 1), path: fc.nat(PATHS.length - 1) }),
  fc.record({ kind: fc.constant('write' as const), path: fc.nat(PATHS.length - 1) }),
  fc.record({ kind: fc.constant('delete' as const), path: fc.nat(PATHS.length - 1) }),
  fc.record({ kind: fc.constant('commit' as const), tx: fc.nat(TXS - 1) }),
);

type State = Map<string, string>;
interface ModelTx {
  snapshot: State;
  writes: Map<string, string | null>;
}

/** The model's commit: all of it when nothing it changed moved since the start, else nothing. */
function modelCommit(live: State, tx: ModelTx): boolean {
  const moved = [...tx.writes].some(([path, ours]) => {
    const theirs = live.get(path) ?? null;
    return theirs !== (tx.snapshot.get(path) ?? null) && theirs !== ours;
  });
  if (moved) return false;
  for (const [path, ours] of tx.writes) {
    if (ours === null) live.delete(path);
    else live.set(path, ours);
  }
  return true;
}

let scope: RunningScope;
beforeAll(async () => {
  scope = await startScope({ scopeKey: `tx-property-${randomBytes(4).toString('hex')}` });
});
afterAll(() => scope.stop());

async function liveState(): Promise<State> {
  const state: State = new Map();
  for (const path of await scope.fs.listFiles('/')) state.set(path, Buffer.from(await scope.fs.readFile(path, { encoding: 'bytes' })).subarray(1).toString());
  return state;
}

/** Binary content (a leading NUL): never merged, so the model's conflict rule is exact. */
const bytes = (token: string) => Buffer.concat([Buffer.from([0]), Buffer.from(token)]);

describe('transactions against a model', () => {
  it('random interleavings end in the model\'s state, committing exactly when the model does', async () => {
    let token = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 5, maxLength: 40 }), async (actions) => {
        for (const path of await scope.fs.listFiles('/')) await scope.fs.deleteFile(path);
        const live: State = new Map();
        const open = new Map<number, { real: Transaction; model: ModelTx }>();
        for (const a of actions) {
          const path = 'path' in a ? PATHS[a.path]! : '';
          const t = 'tx' in a ? open.get(a.tx) : undefined;
          switch (a.kind) {
            case 'begin':
              if (open.has(a.tx)) break;
              open.set(a.tx, { real: await scope.transactions.begin({ checkpoint: false }), model: { snapshot: new Map(live), writes: new Map() } });
              break;
            case 'tx_write': {
              if (!t) break;
              const value = `t${token++}`;
              await t.real.fs.writeFile(path, bytes(value));
              t.model.writes.set(path, value);
              break;
            }
            case 'tx_delete': {
              const sees = t && (t.model.writes.has(path) ? t.model.writes.get(path) !== null : t.model.snapshot.has(path));
              if (!t || !sees) break;
              await t.real.fs.deleteFile(path);
              // Created and deleted inside the transaction: nothing to commit for it.
              if (!t.model.snapshot.has(path)) t.model.writes.delete(path);
              else t.model.writes.set(path, null);
              break;
            }
            case 'write': {
              const value = `w${token++}`;
              await scope.fs.writeFile(path, bytes(value));
              live.set(path, value);
              break;
            }
            case 'delete':
              if (!live.has(path)) break;
              await scope.fs.deleteFile(path);
              live.delete(path);
              break;
            case 'commit': {
              if (!t) break;
              open.delete(a.tx);
              const expected = modelCommit(live, t.model);
              const result = await t.real.commit();
              expect(result.committed, JSON.stringify(result.conflicts)).toBe(expected);
              expect(await liveState()).toEqual(live);
              break;
            }
          }
        }
        for (const { real } of open.values()) real.abort('the run ended');
        expect(await liveState()).toEqual(live);
      }),
      { numRuns: 60 },
    );
  });
});
