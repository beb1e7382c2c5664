/**
 * The sync actor's protocol through its client API (sync-client.ts): reads
 * are calls, so they are answered in mailbox order, after whatever was sent
 * before them; filesystem events reach the actor as one cast whose meaning
 * is decided inside it (fs-reaction.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { heardBySync, reactionTo, type FsEventView } from '../../src/sync/fs-reaction.js';
import { SYNC_CONFIG_PATH } from '../../src/sync/sync-target.js';
import type { EntryMeta, FsEvent } from '../../src/types.js';
import { SyncLab } from '../helpers/sync-scopes.js';

describe('sync client: reads in mailbox order', () => {
  let lab: SyncLab;
  beforeEach(async () => {
    lab = await SyncLab.create();
  });
  afterEach(() => lab.remove());

  it('a status or conflicts read sent right after a resolve sees the conflict resolved', async () => {
    const { a } = await lab.conflictOnC();
    expect((await a.sync!.status()).conflicts).toEqual(['/c.json']);
    // Not awaited: the reads are queued behind the resolve, which writes files before it answers.
    const resolving = a.sync!.resolveConflict('/c.json', 'local');
    const [status, conflicts] = await Promise.all([a.sync!.status(), a.sync!.conflicts()]);
    await resolving;
    expect(status.conflicts).toEqual([]);
    expect(conflicts).toEqual([]);
  });

  it('a status read sent right after a pause sees the paused state', async () => {
    const a = await lab.start('a');
    await a.sync!.idle();
    const pausing = a.sync!.pause();
    const status = await a.sync!.status();
    await pausing;
    expect(status).toMatchObject({ state: 'paused', pausedReason: 'paused by request' });
  });

  it('a local write is reported pending by a read sent after the write was acknowledged', async () => {
    const a = await lab.start('a', { debounceMs: 60_000 });
    await a.sync!.idle();
    await a.fs.writeFile('/later.md', 'not pushed before the debounce');
    // The write's event was cast before this read, so the read is answered after the actor heard it.
    expect((await a.sync!.status()).pending).toEqual(['/later.md']);
  });
});

describe('fs-reaction: what one filesystem event means for sync', () => {
  const meta = { path: '/a.md' } as EntryMeta;
  const view = (synced: string[] = ['/a.md', '/b.md', SYNC_CONFIG_PATH], copies: string[] = []): FsEventView => ({
    syncs: (p) => synced.includes(p),
    isConflictCopy: (p) => copies.includes(p),
  });

  it('ignores snapshots and sync’s own writes', () => {
    expect(heardBySync({ type: 'snapshot', entries: [] })).toBe(false);
    expect(heardBySync({ type: 'file_deleted', path: '/a.md', revision: 2, origin: 'sync' })).toBe(false);
    expect(heardBySync({ type: 'file_deleted', path: '/a.md', revision: 2, origin: 'local' })).toBe(true);
    expect(reactionTo({ type: 'snapshot', entries: [] }, view())).toBeNull();
    expect(reactionTo({ type: 'file_updated', path: '/a.md', meta, created: false, origin: 'sync' }, view())).toBeNull();
  });

  it('a local write of a synced path wakes it and marks it changed; an unsynced one only wakes', () => {
    const event: FsEvent = { type: 'file_updated', path: '/a.md', meta, created: true, origin: 'local' };
    expect(reactionTo(event, view())).toEqual({ configChanged: false, wake: ['/a.md'], changed: ['/a.md'], statusChanged: false });
    expect(reactionTo(event, view([]))).toEqual({ configChanged: false, wake: ['/a.md'], changed: [], statusChanged: false });
  });

  it('a move carries conflicts along and changes both paths', () => {
    const event: FsEvent = { type: 'file_moved', from: '/a.md', to: '/b.md', meta, origin: 'local' };
    expect(reactionTo(event, view())).toMatchObject({ moved: { from: '/a.md', to: '/b.md' }, changed: ['/a.md', '/b.md'] });
  });

  it('deleting a conflict copy resolves its conflict; deleting another file does not', () => {
    const event: FsEvent = { type: 'file_deleted', path: '/a.sync-conflict.md', revision: 3, origin: 'local' };
    expect(reactionTo(event, view([], ['/a.sync-conflict.md']))?.copyDeleted).toBe('/a.sync-conflict.md');
    expect(reactionTo(event, view([], []))?.copyDeleted).toBeUndefined();
  });

  it('a disk conflict holds the path and rewrites the status; a disk alert rewrites the status', () => {
    const conflict: FsEvent = { type: 'disk_conflict', path: '/a.md', copyPath: '/a.copy.md', reason: 'overlap', origin: 'disk' };
    expect(reactionTo(conflict, view())).toMatchObject({ diskConflict: { path: '/a.md', copyPath: '/a.copy.md' }, changed: ['/a.md'], statusChanged: true });
    const alert: FsEvent = { type: 'disk_alert', alert: 'unreadable', path: '/a.md', message: 'EACCES', origin: 'disk' };
    expect(reactionTo(alert, view())).toEqual({ configChanged: false, wake: ['/a.md'], changed: ['/a.md'], statusChanged: true });
  });

  it('an edit of sync-config.json reloads the config', () => {
    const event: FsEvent = { type: 'file_updated', path: SYNC_CONFIG_PATH, meta, created: false, origin: 'local' };
    expect(reactionTo(event, view())?.configChanged).toBe(true);
  });
});
