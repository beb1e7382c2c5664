/**
 * Store URLs to SyncStore objects. `sqlite:PATH` and `memory:NAME` are built
 * in; `postgres://`, `postgresql://` and `supabase:` load their stores on
 * first use (so pg and supabase-js are only loaded when needed); other
 * stores register their schemes with registerStoreScheme.
 */
import { ScopeFsError, errorMessage, isScopeFsError } from '../../src/errors.js';
import { sharedMemoryStore } from './memory-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { SyncStore } from './types.js';

export type StoreFactory = (url: string) => SyncStore;

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

const factories = new Map<string, StoreFactory>([
  ['sqlite', (url) => new SqliteStore({ path: requireRest(url, 'sqlite', 'a database file path') })],
  ['memory', (url) => sharedMemoryStore(requireRest(url, 'memory', 'a store name'))],
]);

/** Makes `scheme:...` URLs open with `factory`. A later registration replaces an earlier one. */
export function registerStoreScheme(scheme: string, factory: StoreFactory): void {
  if (!/^[a-z][a-z0-9+.-]*$/i.test(scheme)) {
    throw new ScopeFsError('EINVAL', `invalid store scheme ${JSON.stringify(scheme)}`);
  }
  if (typeof factory !== 'function') {
    throw new ScopeFsError('EINVAL', `store scheme ${JSON.stringify(scheme)} needs a factory function`);
  }
  factories.set(scheme.toLowerCase(), factory);
}

/**
 * The store for a URL (or the given store object), opened. `sqlite:` paths
 * are relative to the working directory; missing directories are created.
 */
export async function openStore(url: string | SyncStore): Promise<SyncStore> {
  if (typeof url === 'string') await loadLazyScheme(url);
  const store = typeof url === 'string' ? createStore(url) : requireStore(url);
  try {
    await store.open();
  } catch (err) {
    await store.close().catch(() => undefined);
    if (isScopeFsError(err)) throw err;
    throw new ScopeFsError('EIO', `opening store ${store.url} failed: ${errorMessage(err)}`, { cause: err });
  }
  return store;
}

const LAZY_SCHEMES = new Set(['postgres', 'postgresql', 'supabase']);

async function loadLazyScheme(url: string): Promise<void> {
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || factories.has(scheme) || !LAZY_SCHEMES.has(scheme)) return;
  const { registerSqlStores } = await import('./register-sql-stores.js');
  registerSqlStores();
}

function createStore(url: string): SyncStore {
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  const factory = scheme === undefined ? undefined : factories.get(scheme);
  if (!factory) {
    // Name only the scheme: the rest of a URL may hold credentials.
    const given = scheme === undefined ? 'a store URL without a scheme' : `unknown store scheme "${scheme}:"`;
    throw new ScopeFsError('EINVAL', `${given}; supported: ${supportedSchemes()}`);
  }
  return factory(url);
}

function requireStore(value: unknown): SyncStore {
  const candidate = value as Partial<SyncStore> | null;
  if (typeof candidate?.open !== 'function' || typeof candidate.push !== 'function') {
    throw new ScopeFsError('EINVAL', `a store must be a URL (${supportedSchemes()}) or a SyncStore object`);
  }
  return candidate as SyncStore;
}

function requireRest(url: string, scheme: string, what: string): string {
  const rest = url.slice(scheme.length + 1);
  if (rest.length === 0) throw new ScopeFsError('EINVAL', `store URL "${scheme}:" needs ${what}`);
  return rest;
}

function supportedSchemes(): string {
  return [...new Set([...factories.keys(), ...LAZY_SCHEMES])].sort().map((scheme) => `${scheme}:`).join(', ');
}
