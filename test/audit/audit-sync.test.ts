/**
 * A syncing scope ships its audit log to the store, so every instance's
 * entries are in one log: two instances through SQLite and through real
 * PostgreSQL. The shipper re-ships after a crash without doubling and
 * retries a store that failed.
 */
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteAuditLog } from '../../persistence/audit/sqlite-audit.js';
import { AuditShipper } from '../../src/audit/audit-shipper.js';
import { AuditSpool } from '../../src/audit/audit-spool.js';
import type { AuditEntry, AuditLog } from '../../src/audit/types.js';
import { startScope, stopAllScopes } from '../../supervisors/scope/scopes.js';
import { describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';
import { entry } from './audit-contract.js';

let dirs: string[] = [];
afterEach(async () => {
  await stopAllScopes();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'scopefs-audit-sync-'));
  dirs.push(dir);
  return dir;
}

async function twoInstancesSeeEachOther(store: string): Promise<void> {
  const dir = await tempDir();
  const [a, b] = await Promise.all(
    ['A', 'B'].map((instanceId) => startScope({ scopeKey: `audit-${instanceId}-${dir}`, root: join(dir, instanceId), sync: { store, app: 'audited', instanceId } })),
  );
  await a!.fs.writeFile('/notes/from-a.md', 'a', { actor: 'alice' });
  await b!.fs.writeFile('/notes/from-b.md', 'b', { actor: 'bob' });
  await b!.fs.writeFile('/notes/from-b.md', 'stale', { actor: 'bob', ifRevision: 999 }).catch(() => undefined);
  const bob = async (): Promise<AuditEntry[]> => a!.audit!({ actor: 'bob' });
  await waitFor(async () => (await bob()).length === 2, 15_000, "B's entries in A's audit log");
  expect((await bob()).map((e) => [e.operation, e.result, e.instance])).toEqual([
    ['write', 'refused', 'B'],
    ['create', 'ok', 'B'],
  ]);
  await waitFor(async () => (await b!.audit!({ actor: 'alice' })).length === 1, 15_000, "A's entry in B's audit log");
  // Each entry once, though A holds its own both locally and in the store.
  expect((await a!.audit!({ path: '/notes' })).filter((e) => e.actor === 'alice')).toHaveLength(1);
}

describe('audit log in the store', () => {
  it('two instances through one SQLite store see each other\'s entries', async () => {
    const dir = await tempDir();
    await twoInstancesSeeEachOther(`sqlite:${join(dir, 'store.db')}`);
  }, 60_000);

  it('two instances through one memory store see each other\'s entries', async () => {
    await twoInstancesSeeEachOther(`memory:audit-${Date.now()}`);
  }, 60_000);

  it('re-shipping after a crash before the position was saved stores nothing twice; a failed store is retried', async () => {
    const dir = await tempDir();
    const spool = new AuditSpool(join(dir, 'spool'));
    const store = new SqliteAuditLog(join(dir, 'store.db'), 'app');
    let failures = 1;
    const flaky: AuditLog = {
      append: async (entries) => {
        if (failures-- > 0) throw new Error('store down');
        await store.append(entries);
      },
      query: (q) => store.query(q),
      prune: (r) => store.prune(r),
    };
    const errors: string[] = [];
    const position = join(dir, 'spool', 'shipped.json');
    const shipper = new AuditShipper(spool, flaky, position, { intervalMs: 60_000, onError: (m) => errors.push(m) });
    for (let n = 1; n <= 5; n++) spool.appendSync([entry(n)]);
    await shipper.ship();
    expect(errors).toEqual([expect.stringContaining('store down')]);
    expect(await store.query()).toEqual([]);
    await shipper.ship();
    expect((await store.query()).length).toBe(5);
    await unlink(position);
    spool.appendSync([entry(6)]);
    await shipper.ship();
    expect((await store.query({ limit: 100 })).map((e) => e.id)).toEqual(['t-6', 't-5', 't-4', 't-3', 't-2', 't-1']);
    await shipper.close();
    spool.close();
    store.close();
  });
});

describePostgres('audit log in a PostgreSQL store', () => {
  const db = useTestDatabase('audit_sync');
  it('two instances through one PostgreSQL store see each other\'s entries', async () => {
    await twoInstancesSeeEachOther(db.url);
  }, 60_000);
});
