/** Two syncing scopes (two instances of one app) share their locks through the store. */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startScope, type ScopeHandle } from 'scopefs';
import type { FileLocks } from '../../src/coordination/locks.js';
import { waitFor } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-locks-store-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const locksOf = (scope: ScopeHandle) => scope.fs as unknown as FileLocks;
let counter = 0;

async function twoInstances(store: string): Promise<[ScopeHandle, ScopeHandle]> {
  const app = `locks-${++counter}`;
  const start = (name: string) =>
    startScope({ scopeKey: ['locks-store', counter, name], sync: { store, app, instanceId: name, debounceMs: 10 } });
  return [await start('a'), await start('b')];
}

describe.each([
  ['memory', () => `memory:locks-store-${counter + 1}`],
  ['sqlite', () => `sqlite:${join(dir, 'store.db')}`],
])('scope-wide locks through the %s store', (_name, storeUrl) => {
  it('a lock taken on one instance refuses the other: lock ELOCKED, plain writes ELOCKED; unlocking frees both', async () => {
    const [a, b] = await twoInstances(storeUrl());
    try {
      const grant = await locksOf(a).lock('/docs', { ttlMs: 30_000, owner: 'alice' });
      await expect(locksOf(b).lock('/docs/a.md', { ttlMs: 30_000 })).rejects.toMatchObject({
        code: 'ELOCKED',
        message: expect.stringContaining('"alice"'),
      });
      expect(await locksOf(b).locks()).toEqual([{ path: '/docs', owner: 'alice', fence: grant.fence, expiresAt: grant.expiresAt }]);
      await expect(b.fs.writeFile('/docs/a.md', 'b')).rejects.toMatchObject({ code: 'ELOCKED' });
      // The holder's token is good on either instance: the store, not the process, knows it.
      await b.fs.writeFile('/docs/a.md', 'with the token', { lockToken: grant.token });
      expect(await locksOf(b).unlock(grant.token)).toBe(true);
      await waitFor(async () => (await locksOf(a).locks()).length === 0, 5_000, 'a to see the unlock');
      await a.fs.writeFile('/docs/a.md', 'free again');
      const next = await locksOf(b).lock('/docs', { ttlMs: 30_000 });
      expect(next.fence).toBeGreaterThan(grant.fence);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a token that expired in the store fails ESTALE, even where the mirror still holds it', async () => {
    const [a, b] = await twoInstances(storeUrl());
    try {
      const grant = await locksOf(a).lock('/e.md', { ttlMs: 200 });
      await waitFor(async () => {
        try {
          await locksOf(b).lock('/e.md', { ttlMs: 30_000, owner: 'bob' });
          return true;
        } catch {
          return false;
        }
      }, 5_000, 'b to take the lock once a’s expired');
      await expect(a.fs.writeFile('/e.md', 'late', { lockToken: grant.token })).rejects.toMatchObject({ code: 'ESTALE' });
      await expect(locksOf(a).renew(grant.token, { ttlMs: 1_000 })).rejects.toMatchObject({ code: 'ESTALE' });
      // A plain write on a is refused once a's mirror has refreshed (within 1 s): bob holds the lock now.
      await waitFor(() => a.fs.writeFile('/e.md', 'plain').then(() => false, (err: { code?: string }) => err.code === 'ELOCKED'), 3_000, 'a to refuse');
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});

describe('without a store', () => {
  it('locks stay local to the scope', async () => {
    const [a, b] = [await startScope({ scopeKey: ['locks-local', 'a'] }), await startScope({ scopeKey: ['locks-local', 'b'] })];
    try {
      await locksOf(a).lock('/x', { ttlMs: 30_000 });
      await locksOf(b).lock('/x', { ttlMs: 30_000 });
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
