/**
 * Store URLs (or store objects) to opened SyncStores. The schemes come from
 * the table in store-schemes.ts; a caller can add its own for one call with
 * `schemes`, without touching any global state.
 */
import { ScopeFsError, errorMessage, isScopeFsError } from '../../src/errors.js';
import { storeFromUrl, supportedSchemes, type StoreEnv, type StoreFactory } from './store-schemes.js';
import type { SyncStore } from './types.js';

export type { StoreFactory } from './store-schemes.js';

export interface OpenStoreOptions {
  /** Extra schemes, e.g. `{ mystore: (url) => new MyStore(url) }`; they win over the built-in ones. */
  schemes?: Readonly<Record<string, StoreFactory>>;
  /** Where stores read defaults the URL leaves out (keys, tokens). Default: process.env. */
  env?: StoreEnv;
}

/**
 * The store for a URL (or the given store object), opened. `sqlite:` paths
 * are relative to the working directory; missing directories are created.
 */
export async function openStore(url: string | SyncStore, options: OpenStoreOptions = {}): Promise<SyncStore> {
  const store = typeof url === 'string' ? await storeFromUrl(url, { env: options.env, extra: options.schemes }) : requireStore(url);
  return openOrClose(store);
}

/** Opens `store`; on failure closes it and throws a ScopeFsError (EIO unless the store gave one). */
export async function openOrClose(store: SyncStore): Promise<SyncStore> {
  try {
    await store.open();
  } catch (err) {
    await store.close().catch(() => undefined);
    if (isScopeFsError(err)) throw err;
    throw new ScopeFsError('EIO', `opening store ${store.url} failed: ${errorMessage(err)}`, { cause: err });
  }
  return store;
}

function requireStore(value: unknown): SyncStore {
  const candidate = value as Partial<SyncStore> | null;
  if (typeof candidate?.open !== 'function' || typeof candidate.push !== 'function') {
    throw new ScopeFsError('EINVAL', `a store must be a URL (${supportedSchemes()}) or a SyncStore object`);
  }
  return candidate as SyncStore;
}
