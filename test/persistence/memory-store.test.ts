import { describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { MemoryStore, sharedMemoryStore } from '../../persistence/stores/memory-store.js';
import { SHARED_OWNER, type StoreHint } from '../../persistence/stores/types.js';
import { describeStoreContract } from './store-contract.js';

const change = (path: string, text: string, baseRevision = 0) => ({
  owner: SHARED_OWNER,
  path,
  baseRevision,
  content: new Uint8Array(Buffer.from(text)),
  hash: null,
});

async function rejectsWithEio(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => null, (err: unknown) => err);
  expect(isScopeFsError(error, 'EIO'), `expected EIO, got ${String(error)}`).toBe(true);
  return (error as Error).message;
}

// The watch test needs a second handle on the same data: the shared instance is exactly that.
describeStoreContract('memory', () => sharedMemoryStore('contract'));
const slow = new MemoryStore({ name: 'slow', latencyMs: 2 });
describeStoreContract('memory with latency', () => slow);

describe('MemoryStore', () => {
  it('shares one instance per name and a url naming it', () => {
    expect(sharedMemoryStore('a')).toBe(sharedMemoryStore('a'));
    expect(sharedMemoryStore('a')).not.toBe(sharedMemoryStore('b'));
    expect(sharedMemoryStore('a').url).toBe('memory:a');
  });

  it('keeps answering after close, so scopes sharing it do not break each other', async () => {
    const store = sharedMemoryStore('closing');
    await store.open();
    await store.push('app', 'i', [change('/a', 'a')]);
    await store.close();
    expect(await store.head('app')).toBe(1);
  });

  it('rejects every method with EIO while offline and hints reconnected when back', async () => {
    const store = new MemoryStore();
    const hints: StoreHint[] = [];
    let reconnected!: () => void;
    const back = new Promise<void>((resolve) => (reconnected = resolve));
    await store.watch('app', (hint) => {
      hints.push(hint);
      if (hint.reconnected) reconnected();
    });
    store.setOffline(true);
    expect(await rejectsWithEio(store.head('app'))).toMatch(/memory:anonymous-\d+ is offline/);
    await rejectsWithEio(store.since('app', [SHARED_OWNER], 0));
    await rejectsWithEio(store.get('app', SHARED_OWNER, '/a'));
    await rejectsWithEio(store.push('app', 'i', [change('/a', 'a')]));
    await rejectsWithEio(store.watch('app', () => undefined));
    await rejectsWithEio(store.open());
    await store.close();

    store.setOffline(false);
    await back;
    expect(hints).toEqual([{ reconnected: true }]);
    expect(await store.head('app')).toBe(0);
  });

  it('fails exactly the requested number of calls of one operation', async () => {
    const store = new MemoryStore();
    store.failNext('push', 2);
    expect(await rejectsWithEio(store.push('app', 'i', [change('/a', 'a')]))).toMatch(/injected push failure/);
    await rejectsWithEio(store.push('app', 'i', [change('/a', 'a')]));
    expect(await store.head('app')).toBe(0);
    expect((await store.push('app', 'i', [change('/a', 'a')]))[0]?.status).toBe('ok');

    store.failNext('since');
    await rejectsWithEio(store.since('app', [SHARED_OWNER], 0));
    expect((await store.since('app', [SHARED_OWNER], 0)).rows).toHaveLength(1);
  });

  it('counts the queries it answers', async () => {
    const store = new MemoryStore();
    await store.head('app');
    await store.since('app', [SHARED_OWNER], 0);
    expect(store.queryCount).toBe(2);
  });

  it('returns only the latest revision of a row updated many times', async () => {
    const store = new MemoryStore();
    let revision = 0;
    for (let i = 0; i < 1000; i++) {
      const [outcome] = await store.push('app', 'i', [change('/hot', `v${i}`, revision)]);
      revision = outcome?.status === 'ok' ? outcome.revision : -1;
    }
    const page = await store.since('app', [SHARED_OWNER], 0);
    expect(page.rows.map((row) => [row.revision, Buffer.from(row.content!).toString()])).toEqual([[1000, 'v999']]);
    expect(page).toMatchObject({ cursor: 1000, more: false });
  });
});
