/**
 * Conflict strategies end to end: two instances (real scopes with roots on
 * disk) edit the same file while one is cut off, through a real SQLite file
 * and a real PostgreSQL database. Each strategy ends with the same winner on
 * both sides and the loser recoverable on the instance that decided (a
 * resolved copy), or with both kept (manual), or with the path held
 * untouched until resolved (fail-stop).
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConflictStrategy, StrategyAppliedEvent } from '../../src/sync/strategies.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { SyncLab, nextEvent, type SyncedScope } from '../helpers/sync-scopes.js';

const PATH = '/tasks/status.json';
const BASE = '{"state":"todo"}';
const A_SIDE = '{"state":"doing","by":"a"}';
const B_SIDE = '{"state":"done","by":"b"}';

let apps = 0;

const read = (scope: SyncedScope, path = PATH) => scope.fs.readFile(path, { encoding: 'utf8' });

/** The rule both instances get: this strategy for tasks/, merge (the default) elsewhere. */
const rules = (strategy: ConflictStrategy) => ({ conflictStrategies: [{ pattern: 'tasks/', strategy }] });

function strategySuite(backend: string, storeUrl: (lab: SyncLab) => string): void {
  describe(`conflict strategies through ${backend}`, () => {
    let lab: SyncLab;
    beforeEach(async () => {
      lab = await SyncLab.create();
    });
    afterEach(async () => {
      await lab.remove();
    });

    /**
     * a and b agree on BASE, then both edit while a is cut off: b pushes
     * first, so a is the instance that meets the conflict and decides.
     * `order`: which instance writes first (for `newest`).
     */
    async function contest(strategy: ConflictStrategy, order: 'a-first' | 'b-first' = 'a-first') {
      const sync = { store: storeUrl(lab), app: `strategies-${++apps}`, ...rules(strategy) };
      const a = await lab.start('a', sync);
      const b = await lab.start('b', sync);
      await a.fs.writeFile(PATH, BASE);
      await lab.settle(a, b);
      await lab.editConcurrently(a, b, async () => {
        if (order === 'a-first') {
          await a.fs.writeFile(PATH, A_SIDE);
          await b.fs.writeFile(PATH, B_SIDE);
        } else {
          await b.fs.writeFile(PATH, B_SIDE);
          await b.sync!.idle(); // b's version is in the store before a's edit is made
          await a.fs.writeFile(PATH, A_SIDE);
        }
      });
      return { a, b };
    }

    /** The decision a made, after both settled: same winner on both, the loser in a resolved copy on a. */
    async function expectResolved(a: SyncedScope, b: SyncedScope, strategy: ConflictStrategy, kept: 'local' | 'remote') {
      const event: StrategyAppliedEvent = await nextEvent(a, 'strategy_applied');
      await lab.settle(a, b);
      const [winner, loser] = kept === 'local' ? [A_SIDE, B_SIDE] : [B_SIDE, A_SIDE];
      expect(await read(a)).toBe(winner);
      expect(await read(b)).toBe(winner);
      expect(event).toMatchObject({ path: PATH, strategy, kept, rule: `options.conflictStrategies[0] "tasks/" -> ${strategy}` });
      expect(event.resolvedCopy).toMatch(/^\/tasks\/status\.sync-resolved-\d{8}-\d{6}-[ab]\.json$/);
      expect(event.resolvedCopy).toContain(kept === 'local' ? '-b.json' : '-a.json'); // named after whose content it holds
      expect(await read(a, event.resolvedCopy)).toBe(loser);
      // The copy stays where the decision was made: it never syncs.
      expect(await b.fs.fileExists(event.resolvedCopy)).toBe(false);
      expect((await a.sync!.status()).conflicts).toEqual([]);
      expect(await a.sync!.conflicts()).toEqual([]);
      // The audit log names the strategy and the rule that discarded a side, and where that side is.
      const resolved = (await a.audit!({ path: PATH })).find((entry) => entry.operation === 'resolve');
      expect(resolved).toMatchObject({ actor: 'sync', paths: [PATH, event.resolvedCopy], result: 'ok' });
      expect(resolved!.message).toContain(`${strategy} (${event.rule}) kept the ${kept} side`);
    }

    it('local: this instance keeps its side; the store side is kept as a resolved copy', async () => {
      const { a, b } = await contest('local');
      await expectResolved(a, b, 'local', 'local');
    });

    it('remote: the store side wins; this instance keeps its own as a resolved copy', async () => {
      const { a, b } = await contest('remote');
      await expectResolved(a, b, 'remote', 'remote');
    });

    it('newest: a local edit made after the store version wins', async () => {
      const later = await contest('newest', 'b-first');
      await expectResolved(later.a, later.b, 'newest', 'local');
    });

    it('newest: a local edit older than the store version loses', async () => {
      const { a, b } = await contest('newest', 'a-first');
      await expectResolved(a, b, 'newest', 'remote');
    });

    it('manual: never merged, both kept, the conflict names its rule; resolving settles both sides', async () => {
      const { a, b } = await contest('manual');
      const { conflict } = await nextEvent(a, 'conflict');
      expect(conflict).toMatchObject({ path: PATH, strategy: 'manual', rule: 'options.conflictStrategies[0] "tasks/" -> manual' });
      expect(await read(a)).toBe(A_SIDE);
      expect(await read(a, conflict.copyPath)).toBe(B_SIDE);
      await a.sync!.resolveConflict(PATH, 'remote');
      await lab.settle(a, b);
      expect(await read(a)).toBe(B_SIDE);
      expect(await read(b)).toBe(B_SIDE);
    });

    it('fail-stop: nothing is touched, the path is held in status; resolving keeps the chosen side and the other as a copy', async () => {
      const { a, b } = await contest('fail-stop');
      const { held } = await nextEvent(a, 'path_held');
      await lab.settle(a, b); // a held path is not pending: idle is reached
      expect(held).toMatchObject({ path: PATH, strategy: 'fail-stop', case: 'both_changed', rule: 'options.conflictStrategies[0] "tasks/" -> fail-stop' });
      const status = await a.sync!.status();
      expect(status.held).toEqual([held]);
      expect(status.pending).toEqual([]);
      expect(await read(a)).toBe(A_SIDE);
      expect(await read(b)).toBe(B_SIDE);
      expect(await a.fs.listFiles('/tasks')).toEqual([PATH]);
      const hold = (await a.audit!({ path: PATH })).find((entry) => entry.operation === 'hold');
      expect(hold).toMatchObject({ actor: 'sync', paths: [PATH], result: 'ok' });
      expect(hold!.message).toContain(`fail-stop (${held.rule}) holds it`);

      await a.sync!.resolveConflict(PATH, 'local');
      const applied = await nextEvent(a, 'strategy_applied');
      await lab.settle(a, b);
      expect(applied).toMatchObject({ strategy: 'local', kept: 'local', rule: 'resolved by request -> local' });
      expect(await read(a)).toBe(A_SIDE);
      expect(await read(b)).toBe(A_SIDE);
      expect(await read(a, applied.resolvedCopy)).toBe(B_SIDE);
      expect((await a.sync!.status()).held).toBeUndefined();
    });
  });
}

strategySuite('SQLite', (lab) => `sqlite:${join(lab.dir, 'store.db')}`);

describePostgres('PostgreSQL', () => {
  const db = useTestDatabase('strategies');
  strategySuite('PostgreSQL', () => db.url);
});

describe('fail-stop holds: released by agreement, settled with given content', () => {
  let lab: SyncLab;
  beforeEach(async () => {
    lab = await SyncLab.create();
  });
  afterEach(async () => {
    await lab.remove();
  });

  async function heldOnA() {
    const a = await lab.start('a', rules('fail-stop'));
    const b = await lab.start('b', rules('fail-stop'));
    await a.fs.writeFile(PATH, BASE);
    await lab.settle(a, b);
    await lab.editConcurrently(a, b, async () => {
      await a.fs.writeFile(PATH, A_SIDE);
      await b.fs.writeFile(PATH, B_SIDE);
    });
    await nextEvent(a, 'path_held');
    return { a, b };
  }

  it('an edit that makes both sides equal releases the hold, with nothing to keep', async () => {
    const { a, b } = await heldOnA();
    await a.fs.writeFile(PATH, B_SIDE);
    await lab.settle(a, b);
    expect((await a.sync!.status()).held).toBeUndefined();
    expect(await read(a)).toBe(B_SIDE);
    expect(a.events.some((e) => e.type === 'strategy_applied')).toBe(false);
  });

  it('resolving with content writes it on both sides and keeps the store side as a resolved copy', async () => {
    const { a, b } = await heldOnA();
    const merged = '{"state":"done","by":["a","b"]}';
    await a.sync!.resolveConflict(PATH, { content: merged });
    const applied = await nextEvent(a, 'strategy_applied');
    await lab.settle(a, b);
    expect(await read(a)).toBe(merged);
    expect(await read(b)).toBe(merged);
    expect(await read(a, applied.resolvedCopy)).toBe(B_SIDE);
    expect(a.events).toContainEqual({ type: 'conflict_resolved', path: PATH, resolution: 'content' });
  });

  it('resolving a path that is neither in conflict nor held is refused', async () => {
    const a = await lab.start('a', rules('fail-stop'));
    await expect(a.sync!.resolveConflict('/free.md', 'local')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('conflict strategy rules: bad input pauses sync with a clear error', () => {
  let lab: SyncLab;
  beforeEach(async () => {
    lab = await SyncLab.create();
  });
  afterEach(async () => {
    await lab.remove();
  });

  it('an unknown strategy in the sync options', async () => {
    const a = await lab.start('a', { conflictStrategies: [{ pattern: '**', strategy: 'server' as ConflictStrategy }] });
    const status = await a.sync!.status(); // paused from the start: the options are checked before connecting
    expect(status.state).toBe('paused');
    expect(status.pausedReason).toMatch(/conflictStrategies option is invalid: conflictStrategies\[0\]\.strategy: the strategy must be one of merge, newest, local, remote, manual, fail-stop/);
  });

  it('a negated or empty pattern in sync-config.json, until the file is fixed', async () => {
    const a = await lab.start('a');
    await a.sync!.idle();
    await a.fs.writeFile('/sync-config.json', JSON.stringify({ conflictStrategies: [{ pattern: '!notes/**', strategy: 'local' }, { pattern: '/', strategy: 'newest' }] }));
    await nextEvent(a, 'sync_state', (e) => e.state === 'paused');
    const { pausedReason } = await a.sync!.status();
    expect(pausedReason).toMatch(/^sync-config\.json is invalid: .*conflictStrategies\[0\]\.pattern: a strategy pattern cannot be negated/);
    expect(pausedReason).toMatch(/conflictStrategies\[1\]\.pattern: a pattern must not be empty/);
    await a.fs.writeFile('/sync-config.json', JSON.stringify({ conflictStrategies: [{ pattern: 'notes/**', strategy: 'local' }] }));
    await a.sync!.idle();
    expect((await a.sync!.status()).state).toBe('live');
  });
});
