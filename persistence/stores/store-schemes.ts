/**
 * The one table of store URL schemes: each names the module that makes its
 * stores, imported on first use, so `sqlite:` never loads `pg` and
 * `postgres://` never loads better-sqlite3. Nothing registers itself: adding
 * a built-in scheme is one line here. openStore, the CLI's URL check and
 * createFileSync all read this table.
 *
 *   sqlite:PATH                              SqliteStore (relative to the working directory)
 *   memory:NAME                              one MemoryStore per process and name
 *   postgres://user:password@host:5432/db    PostgresStore (also postgresql://)
 *   supabase:                                SupabaseStore, project URL and key from the environment
 *   supabase://xyz.supabase.co               this project (also supabase:https://HOST), key from the environment
 */
import { ScopeFsError } from '../../src/errors.js';
import type { SyncStore } from './types.js';

/** Where a store module reads defaults it does not find in the URL (keys, tokens). */
export type StoreEnv = Record<string, string | undefined>;

/** What a store module gives the table: a store for one of its URLs, not opened yet. */
export interface StoreModule {
  storeFromUrl(url: string, env: StoreEnv): SyncStore;
}

export const STORE_SCHEMES = {
  sqlite: () => import('./sqlite-store.js'),
  memory: () => import('./memory-store.js'),
  postgres: () => import('./postgres-store.js'),
  postgresql: () => import('./postgres-store.js'),
  supabase: () => import('./supabase-store.js'),
} as const satisfies Record<string, () => Promise<StoreModule>>;

export type StoreScheme = keyof typeof STORE_SCHEMES;

/** Makes a store for a URL of a scheme the caller adds (see openStore's `schemes`). */
export type StoreFactory = (url: string) => SyncStore | Promise<SyncStore>;

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/** The scheme of a store URL, lower-cased; undefined when it has none. */
export function schemeOf(url: string): string | undefined {
  return SCHEME.exec(url)?.[1]?.toLowerCase();
}

export function isStoreScheme(scheme: string | undefined): scheme is StoreScheme {
  return scheme !== undefined && Object.hasOwn(STORE_SCHEMES, scheme);
}

/**
 * The store for a URL, not opened yet: from `extra` (schemes the caller
 * adds, which win over the table) or from the table.
 */
export async function storeFromUrl(
  url: string,
  options: { env?: StoreEnv; extra?: Readonly<Record<string, StoreFactory>> } = {},
): Promise<SyncStore> {
  const scheme = schemeOf(url);
  const extra = options.extra === undefined ? undefined : checkedExtraSchemes(options.extra);
  const factory = scheme === undefined ? undefined : extra?.get(scheme);
  if (factory) return factory(url);
  if (!isStoreScheme(scheme)) {
    // Name only the scheme: the rest of a URL may hold credentials.
    const given = scheme === undefined ? 'a store URL without a scheme' : `unknown store scheme "${scheme}:"`;
    throw new ScopeFsError('EINVAL', `${given}; supported: ${supportedSchemes(extra?.keys())}`);
  }
  const module = await loadScheme(scheme);
  return module.storeFromUrl(url, options.env ?? process.env);
}

/**
 * The scheme's module, imported once per process: a dynamic import() of a
 * module already loaded still costs about a millisecond under a loader hook
 * (tsx), and a process starting a thousand scopes asks five times a scope.
 * A failed import is not kept, so the next call tries again.
 */
const loaded = new Map<StoreScheme, Promise<StoreModule>>();

function loadScheme(scheme: StoreScheme): Promise<StoreModule> {
  let module = loaded.get(scheme);
  if (!module) {
    module = STORE_SCHEMES[scheme]();
    module.catch(() => loaded.delete(scheme));
    loaded.set(scheme, module);
  }
  return module;
}

/** The schemes the table knows (plus `extra`), as `a:, b:, ...`, sorted. */
export function supportedSchemes(extra: Iterable<string> = []): string {
  return [...new Set([...Object.keys(STORE_SCHEMES), ...extra])].sort().map((scheme) => `${scheme}:`).join(', ');
}

function checkedExtraSchemes(extra: Readonly<Record<string, StoreFactory>>): Map<string, StoreFactory> {
  if (typeof extra !== 'object' || extra === null) {
    throw new ScopeFsError('EINVAL', 'store schemes must be an object of scheme → factory');
  }
  const checked = new Map<string, StoreFactory>();
  for (const [scheme, factory] of Object.entries(extra)) {
    if (!/^[a-z][a-z0-9+.-]*$/i.test(scheme)) {
      throw new ScopeFsError('EINVAL', `invalid store scheme ${JSON.stringify(scheme)}`);
    }
    if (typeof factory !== 'function') {
      throw new ScopeFsError('EINVAL', `store scheme ${JSON.stringify(scheme)} needs a factory function`);
    }
    checked.set(scheme.toLowerCase(), factory);
  }
  return checked;
}
