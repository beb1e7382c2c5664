/**
 * History through startScope: where it lives (the root's .scopefs/history.db,
 * or the sync store's database), across a restart, and across two instances
 * sharing a store: a restore on A reaches B, B's history shows A's versions,
 * and a path deleted by sync is undeleted.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { SyncLab, type SyncedScope } from '../helpers/sync-scopes.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { until } from './helpers.js';

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
});

describe('history of a scope without a store', () => {
  it('lives in <root>/.scopefs/history.db and survives a restart', async () => {
    const root = await mkdtemp(join(tmpdir(), 'scopefs-history-'));
    cleanup.push(() => rm(root, { recursive: true, force: true }));
    const first: RunningScope = await startScope({ scopeKey: ['history', 'restart'], root });
    await first.fs.writeFile('/notes.md', 'first draft', { actor: 'agent-1' });
    await first.fs.writeFile('/notes.md', 'second draft');
    await first.fs.checkpoint('drafts');
    await first.stop();
    await stat(join(root, '.scopefs', 'history.db'));

    const again = await startScope({ scopeKey: ['history', 'restart'], root });
    cleanup.push(() => again.stop());
    const versions = await again.fs.history('/notes.md');
    expect(versions.map((v) => v.actor)).toEqual([undefined, 'agent-1']);
    await again.fs.restore('/notes.md', versions[1]!.revision);
    expect(await again.fs.readFile('/notes.md')).toBe('first draft');
    expect(await again.fs.restoreCheckpoint('drafts')).toMatchObject({ written: ['/notes.md'] });
    expect(await again.fs.readFile('/notes.md')).toBe('second draft');
  });

  it('a memory-only scope keeps its history in memory', async () => {
    const scope = await startScope({ scopeKey: ['history', 'memory'] });
    cleanup.push(() => scope.stop());
    await scope.fs.writeFile('/a.md', 'x');
    expect(await scope.fs.history('/a.md')).toHaveLength(1);
  });
});

describe.each([
  ['memory store', (_dir: string) => ({})],
  ['SQLite store', (dir: string) => ({ store: `sqlite:${join(dir, 'shared.db')}` })],
])('history shared through the %s', (_name, storeOf) => sharedHistory(storeOf));

describePostgres('history shared through the PostgreSQL store', () => {
  const db = useTestDatabase('history_scope');
  sharedHistory(() => ({ store: db.url }));
});

/** Two instances of one app, each with its own connection to the store. */
function sharedHistory(storeOf: (dir: string) => { store?: string }): void {
  async function twoInstances(): Promise<{ lab: SyncLab; a: SyncedScope; b: SyncedScope }> {
    const lab = await SyncLab.create();
    cleanup.push(() => lab.remove());
    const a = await lab.start('a', storeOf(lab.dir));
    const b = await lab.start('b', storeOf(lab.dir));
    return { lab, a, b };
  }

  it("B's history shows A's versions, and a restore on A reaches B", async () => {
    const { lab, a, b } = await twoInstances();
    await a.fs.writeFile('/plan.md', 'v1', { actor: 'agent-a' });
    await lab.settle(a, b);
    await a.fs.writeFile('/plan.md', 'v2 (bad)');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/plan.md')).toBe('v2 (bad)');

    // A records its versions in batches (25 ms), so B may see the file before A's history has it.
    await until(async () => (await b.fs.history('/plan.md')).length === 2);
    const seenByB = await b.fs.history('/plan.md');
    expect(seenByB.map((v) => [v.instance, v.size])).toEqual([
      ['a', 8],
      ['a', 2],
    ]);
    expect(seenByB[1]!.actor).toBe('agent-a');

    await a.fs.restore('/plan.md', seenByB[1]!.revision);
    await lab.settle(a, b);
    await until(async () => (await b.fs.readFile('/plan.md')) === 'v1');
    await until(async () => (await b.fs.history('/plan.md')).length === 3);
    expect((await b.fs.history('/plan.md'))[0]).toMatchObject({ instance: 'a', size: 2 });
  });

  it('records the instance id sync generated when none is configured', async () => {
    const lab = await SyncLab.create();
    cleanup.push(() => lab.remove());
    const c = await lab.start('c', { ...storeOf(lab.dir), instanceId: undefined });
    await c.fs.writeFile('/who.md', 'me');
    const { instanceId } = await c.sync!.status();
    expect(instanceId).toMatch(/\S/);
    expect((await c.fs.history('/who.md'))[0]).toMatchObject({ instance: instanceId });
  });

  it('undeletes a file deleted by sync', async () => {
    const { lab, a, b } = await twoInstances();
    await a.fs.writeFile('/keep.md', 'precious');
    await lab.settle(a, b);
    await b.fs.deleteFile('/keep.md');
    await lab.settle(a, b);
    await until(async () => !(await a.fs.fileExists('/keep.md')));

    await until(async () => (await a.fs.listDeleted()).length === 1);
    const [deleted] = await a.fs.listDeleted();
    expect(deleted).toMatchObject({ path: '/keep.md', instance: 'b' });
    const [, before] = await a.fs.history('/keep.md');
    await a.fs.restore('/keep.md', before!.revision);
    await lab.settle(a, b);
    await until(async () => (await b.fs.fileExists('/keep.md')) && (await b.fs.readFile('/keep.md')) === 'precious');
  });
}
