import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileSync, type FileSyncResult } from '../src/file-sync.js';
import type { ScopeEvent } from '../src/http/scope-events.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-file-sync-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const create = (env: Record<string, string>, name = 'content') => createFileSync({ contentRoot: join(dir, name), env });

describe('createFileSync', () => {
  it('is disabled unless FILE_SYNC_ENABLED says so', async () => {
    expect(await create({})).toEqual({ status: 'disabled' });
    expect(await create({ FILE_SYNC_ENABLED: 'false' })).toEqual({ status: 'disabled' });
    expect(await create({ FILE_SYNC_ENABLED: '0' })).toEqual({ status: 'disabled' });
  });

  it.each([
    [{ FILE_SYNC_ENABLED: 'maybe' }, /FILE_SYNC_ENABLED must be true or false/],
    [{ FILE_SYNC_ENABLED: 'true', FILE_SYNC_BACKEND: 'mongodb' }, /FILE_SYNC_BACKEND must be sqlite, postgres or supabase/],
    [{ FILE_SYNC_ENABLED: 'true', FILE_SYNC_BACKEND: 'postgres' }, /needs DATABASE_URL/],
    [{ FILE_SYNC_ENABLED: 'true', FILE_SYNC_BACKEND: 'postgres', DATABASE_URL: 'mysql://x' }, /needs DATABASE_URL=postgres/],
    [{ FILE_SYNC_ENABLED: 'true', FILE_SYNC_BACKEND: 'supabase', SUPABASE_URL: 'https://x.supabase.co' }, /SUPABASE_PUBLISHABLE_KEY/],
  ])('reports a bad configuration as an error, never a throw: %j', async (env, reason) => {
    const result = await create(env);
    expect(result).toEqual({ status: 'error', reason: expect.stringMatching(reason) });
  });

  it('rejects a missing contentRoot as an error', async () => {
    expect(await createFileSync({ contentRoot: '', env: { FILE_SYNC_ENABLED: 'true' } })).toMatchObject({ status: 'error' });
  });

  it('with sqlite, two content roots side by side sync through .scopefs/store.db, with events', async () => {
    const env = { FILE_SYNC_ENABLED: 'true', FILE_SYNC_BACKEND: 'sqlite' };
    const first = await create(env, 'one');
    const second = await create(env, 'two');
    const ready = (result: FileSyncResult) => {
      if (result.status !== 'ready') throw new Error(`not ready: ${JSON.stringify(result)}`);
      return result;
    };
    const a = ready(first);
    const b = ready(second);
    try {
      const arrived = new Promise<ScopeEvent>((resolve) =>
        b.events.on('file_updated', (event) => {
          if (event.path === '/shared.md' && event.origin === 'sync') resolve(event);
        }),
      );
      const all: string[] = [];
      a.events.on('event', (event) => all.push(event.type));
      await a.fileSync.fs.writeFile('/shared.md', 'hello');
      await arrived;
      expect(await b.fileSync.fs.readFile('/shared.md')).toBe('hello');
      expect(all).toContain('file_updated');
      expect(await a.fileSync.sync!.status()).toMatchObject({ enabled: true, store: `sqlite:${join(dir, '.scopefs', 'store.db')}` });
    } finally {
      await Promise.all([a.shutdown(), b.shutdown()]);
    }
    await a.shutdown(); // idempotent
    expect(await readFile(join(dir, 'two', 'shared.md'), 'utf8')).toBe('hello');
  });
});
