/**
 * A change's audit entry rides on its journal record: durable with the
 * change, written to the log later, and at the latest before the journal
 * drops the record; a filesystem server that crashes and restarts in the
 * same process writes none twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditSpool } from '../../src/audit/audit-spool.js';
import { Journal } from '../../src/fs/journal.js';
import { startScope, stopAllScopes } from '../../supervisors/scope/scopes.js';

let dirs: string[] = [];
afterEach(async () => {
  await stopAllScopes();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

async function tempRoot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scopefs-audit-journal-'));
  dirs.push(dir);
  return dir;
}

/** What the log on disk holds now, read as another process would. */
async function onDisk(root: string): Promise<string[]> {
  const spool = new AuditSpool(join(root, '.scopefs', 'audit'));
  try {
    return (await spool.all()).map((e) => `${e.actor} ${e.operation} ${e.paths.join(' ')}`);
  } finally {
    spool.close();
  }
}

function carriedByJournal(root: string): string[] {
  const { records } = Journal.read(join(root, '.scopefs', 'journal.log'), () => new Uint8Array());
  return records.flatMap((ops) => ops.flatMap((op) => op.audit ?? [])).map((e) => `${e.actor} ${e.operation} ${e.paths.join(' ')} r${e.revision}`);
}

describe('audit entries in the journal', () => {
  it('are in the change\'s journal record when it is acknowledged, and reach the log when queried', async () => {
    const root = await tempRoot();
    const scope = await startScope({ scopeKey: `audit-journal-${root}`, root, debounceMs: 60_000, audit: { flushAfterMs: 60_000 } });
    const meta = await scope.fs.writeFile('/notes/a.md', 'one', { actor: 'alice' });
    await scope.fs.moveFile('/notes/a.md', '/notes/b.md', { actor: 'bob' });
    expect(carriedByJournal(root)).toEqual([`alice create /notes/a.md r${meta.revision}`, `bob move /notes/a.md /notes/b.md r${meta.revision + 1}`]);
    expect(await onDisk(root)).toEqual([]);
    const queried = await scope.audit!();
    expect(queried.map((e) => `${e.actor} ${e.operation}`)).toEqual(['bob move', 'alice create']);
    expect(await onDisk(root)).toEqual(['alice create /notes/a.md', 'bob move /notes/a.md /notes/b.md']);
  });

  it('reach the log before the journal drops the records that carry them', async () => {
    const root = await tempRoot();
    const scope = await startScope({ scopeKey: `audit-journal-drop-${root}`, root, debounceMs: 60_000, audit: { flushAfterMs: 60_000 } });
    await scope.fs.writeFile('/a.md', 'a', { actor: 'alice' });
    await scope.fs.deleteFile('/a.md', { actor: 'alice' });
    expect(await onDisk(root)).toEqual([]);
    await scope.fs.flushAll(); // everything persisted: the journal is truncated
    expect(carriedByJournal(root)).toEqual([]);
    expect(await onDisk(root)).toEqual(['alice create /a.md', 'alice delete /a.md']);
  });

  it('are written once when the filesystem server crashes and restarts, whether they waited or were written', async () => {
    const root = await tempRoot();
    const scope = await startScope({ scopeKey: `audit-journal-crash-${root}`, root, debounceMs: 60_000, audit: { flushAfterMs: 60_000 } });
    await scope.fs.writeFile('/written.md', 'w', { actor: 'alice' });
    await scope.audit!(); // written to the log; the journal still carries it
    await scope.fs.writeFile('/waiting.md', 'w', { actor: 'alice' });
    const restarted = new Promise<void>((resolve) => scope.supervisor.onChildEvent((e) => e.type === 'restarted' && e.id === 'fs' && resolve()));
    scope.supervisor.child('fs')!.exit(new Error('injected'));
    await restarted;
    await scope.fs.writeFile('/after.md', 'w', { actor: 'alice' });
    const entries = await scope.audit!({ actor: 'alice' });
    expect(entries.map((e) => e.paths[0])).toEqual(['/after.md', '/waiting.md', '/written.md']);
    expect(await onDisk(root)).toEqual(['alice create /written.md', 'alice create /waiting.md', 'alice create /after.md']);
  });
});
