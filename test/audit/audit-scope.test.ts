/**
 * The scope's audit log as a library: outside edits on disk are `disk`'s,
 * changes pulled from another instance are `sync`'s (with the instance they
 * came from), retention applies at start, and auditing can be turned off.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startScope, stopAllScopes } from '../../supervisors/scope/scopes.js';
import { waitFor } from '../helpers/postgres.js';

let dirs: string[] = [];
afterEach(async () => {
  await stopAllScopes();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scopefs-audit-scope-'));
  dirs.push(dir);
  return dir;
}

describe('scope.audit', () => {
  it('records an outside edit on disk as disk\'s', async () => {
    const root = await tempDir();
    const scope = await startScope({ scopeKey: `audit-disk-${root}`, root, watch: true });
    await writeFile(join(root, 'outside.md'), 'edited by another program');
    await scope.fs.checkDisk('/outside.md');
    expect((await scope.audit!({ path: '/outside.md' })).map((e) => [e.actor, e.operation, e.result])).toEqual([['disk', 'create', 'ok']]);
  });

  it('records a change pulled from another instance as sync\'s, naming that instance', async () => {
    const dir = await tempDir();
    const store = `memory:audit-scope-${Date.now()}`;
    const a = await startScope({ scopeKey: `audit-sa-${dir}`, root: join(dir, 'a'), sync: { store, app: 'x', instanceId: 'A' } });
    const b = await startScope({ scopeKey: `audit-sb-${dir}`, root: join(dir, 'b'), sync: { store, app: 'x', instanceId: 'B' } });
    await a.fs.writeFile('/shared.md', 'from A', { actor: 'alice' });
    await waitFor(() => b.fs.fileExists('/shared.md'), 15_000, 'the change to reach B');
    const pulled = (await b.audit!({ path: '/shared.md', actor: 'sync' })).filter((e) => e.instance === 'B');
    expect(pulled.map((e) => [e.actor, e.operation, e.source])).toEqual([['sync', 'create', 'A']]);
  }, 30_000);

  it('records a refused batch once, naming its paths, and an applied one as its changes', async () => {
    const root = await tempDir();
    const scope = await startScope({ scopeKey: `audit-batch-${root}`, root });
    await scope.fs.applyBatch([{ path: '/a.md', content: 'a' }, { path: '/b.md', content: 'b' }], { actor: 'alice' });
    await scope.fs.applyBatch([{ path: '/c.md', content: 'c' }, { path: '/missing.md', delete: true }], { actor: 'alice' }).catch(() => undefined);
    expect((await scope.audit!()).map((e) => [e.actor, e.operation, e.paths.join(' '), e.result, e.code])).toEqual([
      ['alice', 'batch', '/c.md /missing.md', 'refused', 'ENOENT'],
      ['alice', 'create', '/b.md', 'ok', undefined],
      ['alice', 'create', '/a.md', 'ok', undefined],
    ]);
  });

  it('applies retention at start, and can be turned off', async () => {
    const root = await tempDir();
    const first = await startScope({ scopeKey: `audit-ret-${root}`, root });
    for (let i = 0; i < 5; i++) await first.fs.writeFile(`/f${i}.md`, 'x');
    await first.stop();
    const again = await startScope({ scopeKey: `audit-ret-${root}`, root, audit: { retention: { maxEntries: 2 } } });
    // Pruning at start runs beside the first calls; its result is what a query after it sees.
    await waitFor(async () => (await again.audit!({ limit: 100 })).length === 2, 5_000, 'retention to apply');
    expect((await again.audit!()).map((e) => e.paths[0])).toEqual(['/f4.md', '/f3.md']);
    await again.stop();
    const off = await startScope({ scopeKey: `audit-off-${root}`, root: join(root, 'off'), audit: { enabled: false } });
    expect(off.audit).toBeUndefined();
  });
});

describe('actingAs', () => {
  it('names its actor on every change that names none (an agent\'s filesystem)', async () => {
    const { actingAs } = await import('../../src/audit/audit-fs.js');
    const root = await tempDir();
    const scope = await startScope({ scopeKey: `audit-acting-${root}`, root });
    const agentFs = actingAs(scope.fs, 'agent:planner');
    await agentFs.writeFile('/plan.md', 'a');
    await agentFs.appendFile('/plan.md', 'b');
    await agentFs.moveFile('/plan.md', '/done.md');
    await agentFs.writeFile('/own.md', 'c', { actor: 'agent:other' });
    await agentFs.deleteFile('/missing.md').catch(() => undefined);
    expect((await scope.audit!()).map((e) => [e.actor, e.operation, e.result])).toEqual([
      ['agent:planner', 'delete', 'refused'],
      ['agent:other', 'create', 'ok'],
      ['agent:planner', 'move', 'ok'],
      ['agent:planner', 'write', 'ok'],
      ['agent:planner', 'create', 'ok'],
    ]);
  });

  it('an agent of the scope acts as agent:<id>, its refusals included', async () => {
    const root = await tempDir();
    let done!: () => void;
    const ran = new Promise<void>((resolve) => (done = resolve));
    const scope = await startScope({
      scopeKey: `audit-agent-${root}`,
      root,
      agents: [{ id: 'summarizer', restart: 'transient', run: async ({ fs }) => {
        await fs.writeFile('/summary.md', 'short');
        await fs.editFile('/summary.md', 'long', 'longer').catch(() => undefined);
        done();
      } }],
    });
    await ran;
    // Its refusals too: it holds the scope's own filesystem, no interface's facade.
    expect((await scope.audit!({ path: '/summary.md' })).map((e) => [e.actor, e.operation, e.result, e.code])).toEqual([
      ['agent:summarizer', 'edit', 'refused', 'EINVAL'],
      ['agent:summarizer', 'create', 'ok', undefined],
    ]);
    await scope.stop();
  });
});
