import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SyncStateDb } from '../../src/sync/state-db.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-state-shared-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SyncStateDb.open of a file already open in the process', () => {
  it('shares the open state; each close commits what is staged, the last one closes', () => {
    const file = join(dir, 'a', 'sync-state.db');
    const first = SyncStateDb.open(file);
    const id = first.instanceId();
    const second = SyncStateDb.open(file);
    expect(second.instanceId()).toBe(id);
    second.cursor = 7;
    second.putPath({ path: '/x', owner: 'o', baseHash: 'h', baseRevision: 7, remoteHash: 'h', remoteRevision: 7 });
    expect(first.cursor).toBe(7); // one state: staged writes are seen through either handle
    second.close();
    second.close(); // idempotent: does not close the first handle's state
    expect(first.isOpen).toBe(true);
    first.close();
    expect(first.isOpen).toBe(false);
    const reopened = SyncStateDb.open(file);
    expect(reopened.cursor).toBe(7);
    expect(reopened.allPaths()).toEqual([expect.objectContaining({ path: '/x', baseRevision: 7 })]);
    expect(reopened.instanceId()).toBe(id);
    reopened.close();
  });

  it('keeps :memory: states apart', () => {
    const a = SyncStateDb.open(':memory:');
    const b = SyncStateDb.open(':memory:');
    a.cursor = 3;
    a.commit();
    expect(b.cursor).toBe(0);
    a.close();
    b.close();
  });
});
