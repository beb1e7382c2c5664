import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { MemoryStore, sharedMemoryStore } from '../../persistence/stores/memory-store.js';
import { openStore } from '../../persistence/stores/open-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import type { SyncStore } from '../../persistence/stores/types.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-open-store-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: Error) => err,
  );
}

describe('openStore', () => {
  it('opens sqlite:PATH relative to the working directory, creating directories', async () => {
    const path = join(dir, 'a', 'b', 'sync.db');
    const store = await openStore(`sqlite:${relative(process.cwd(), path)}`);
    expect(store).toBeInstanceOf(SqliteStore);
    expect(store.url).toBe(`sqlite:${path}`);
    expect(await store.head('app')).toBe(0);
    await store.close();
  });

  it('resolves memory:NAME to one shared instance per name', async () => {
    const first = await openStore('memory:open-store-test');
    expect(first).toBe(sharedMemoryStore('open-store-test'));
    expect(await openStore('memory:open-store-test')).toBe(first);
    expect(await openStore('memory:another')).not.toBe(first);
  });

  it('opens a store object it is given and returns it', async () => {
    const store = new MemoryStore({ name: 'given' });
    expect(await openStore(store)).toBe(store);
  });

  it('rejects an unknown scheme naming it and the supported ones, without echoing the URL', async () => {
    const error = await rejection(openStore('mysql://user:secret@host/db'));
    expect(isScopeFsError(error, 'EINVAL')).toBe(true);
    expect(error.message).toMatch(/unknown store scheme "mysql:"; supported: .*memory:.*sqlite:/);
    expect(error.message).not.toContain('secret');
  });

  it('rejects URLs without a scheme or without a path or name', async () => {
    for (const url of ['just-a-file.db', 'sqlite:', 'memory:']) {
      const error = await rejection(openStore(url));
      expect(isScopeFsError(error, 'EINVAL'), url).toBe(true);
    }
    expect((await rejection(openStore('sqlite:'))).message).toMatch(/needs a database file path/);
  });

  it('rejects something that is neither a URL nor a store', async () => {
    const error = await rejection(openStore({} as SyncStore));
    expect(isScopeFsError(error, 'EINVAL')).toBe(true);
  });

  it('uses the schemes a caller adds for that call only, case-insensitively, over the built-in ones', async () => {
    const made: string[] = [];
    const schemes = {
      Custom: (url: string) => {
        made.push(url);
        return new MemoryStore({ name: url });
      },
      memory: async (url: string) => new MemoryStore({ name: `mine-${url}` }),
    };
    const store = await openStore('CUSTOM:thing', { schemes });
    expect(made).toEqual(['CUSTOM:thing']);
    expect(store.url).toBe('memory:CUSTOM:thing');
    expect((await openStore('memory:x', { schemes })).url).toBe('memory:mine-memory:x');
    // Nothing was registered: without the option the scheme is unknown again.
    const unknown = await rejection(openStore('custom:thing'));
    expect(unknown.message).toMatch(/unknown store scheme "custom:"/);
    expect((await rejection(openStore('other:x', { schemes }))).message).toMatch(/supported: custom:, memory:, postgres:/);
    await expect(openStore('x:y', { schemes: { 'bad scheme': () => store } })).rejects.toThrow(/invalid store scheme/);
    await expect(openStore('x:y', { schemes: { x: 'nope' as never } })).rejects.toThrow(/needs a factory function/);
  });

  it('names every built-in scheme, from the one table', async () => {
    const error = await rejection(openStore('mysql://h/db'));
    expect(error.message).toMatch(/supported: memory:, postgres:, postgresql:, sqlite:, supabase:$/);
  });

  it('rejects a supabase URL it cannot read, without echoing a key', async () => {
    const error = await rejection(openStore('supabase:xyz?apikey=secret-key'));
    expect(isScopeFsError(error, 'EINVAL')).toBe(true);
    expect(error.message).toMatch(/invalid supabase store URL/);
    expect(error.message).not.toContain('secret-key');
  });

  it('passes an open failure on as a typed error', async () => {
    const store = new MemoryStore();
    store.setOffline(true);
    const error = await rejection(openStore(store));
    expect(isScopeFsError(error, 'EIO')).toBe(true);
  });
});
