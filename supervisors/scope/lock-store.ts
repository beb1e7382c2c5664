/**
 * The store a syncing scope keeps its locks in (src/coordination/store-backed-locks.ts),
 * so every instance of the app excludes the others. A PostgreSQL or Supabase
 * store given by URL is the process's shared one, acquired on first use (and
 * again after a failure), so a scope starts while its store is unreachable
 * and its lock calls then fail with the store's error instead of silently
 * falling back to local locks. A store object is the caller's, used as it is;
 * one without lock support (an app's own store) keeps the locks local.
 */
import { hasStoreLocks, openStoreLocks } from '../../persistence/locks/open-locks.js';
import { errorMessage } from '../../src/errors.js';
import type { StoreLocks } from '../../persistence/locks/types.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { storeFromUrl } from '../../persistence/stores/store-schemes.js';
import { StoreBackedLocks } from '../../src/coordination/store-backed-locks.js';
import type { LockTable } from '../../src/coordination/locks.js';
import type { SyncOptions } from '../../src/sync/sync-actor.js';
import { SharedOnUse } from './shared-on-use.js';

export async function openScopeLocks(sync: SyncOptions | undefined, table: LockTable): Promise<StoreBackedLocks | undefined> {
  if (!sync) return undefined;
  const given = sync.store;
  const store = typeof given === 'string' ? await storeFromUrl(given) : given;
  // A store of the app's own making (or wrapping one) without lock support: the locks stay local to the scope.
  if (!hasStoreLocks(store)) return undefined;
  const byUrl = typeof given === 'string' && !(store instanceof MemoryStore) && !(store instanceof SqliteStore);
  const locks = byUrl ? new OpenedOnUse(given) : openStoreLocks(store);
  const backed = new StoreBackedLocks(table, locks, sync.app ?? 'default');
  await backed.refresh().catch(() => undefined); // unreachable now: the timer and the next call try again
  return backed;
}

/** Store locks over the process's shared store for a URL (shared-on-use.ts), released with the locks. */
class OpenedOnUse implements StoreLocks {
  private readonly shared: SharedOnUse<StoreLocks>;

  constructor(url: string) {
    this.shared = new SharedOnUse(url, openStoreLocks);
  }

  acquire: StoreLocks['acquire'] = async (...args) => (await this.shared.get()).acquire(...args);
  renew: StoreLocks['renew'] = async (...args) => (await this.shared.get()).renew(...args);
  release: StoreLocks['release'] = async (...args) => (await this.shared.get()).release(...args);
  live: StoreLocks['live'] = async (...args) => (await this.shared.get()).live(...args);
  check: StoreLocks['check'] = async (...args) => (await this.shared.get()).check(...args);

  /** The shared store's lock changes once it is open; an `error` (the mirror polls) when it cannot open or reports none. */
  watchChanges: StoreLocks['watchChanges'] = (app, listener) => {
    let stopped = false;
    let stop: (() => void) | undefined;
    this.shared.get().then(
      (locks) => {
        if (stopped) return;
        if (locks.watchChanges) stop = locks.watchChanges(app, listener);
        else listener({ error: 'this store reports no lock changes' });
      },
      (err: unknown) => {
        if (!stopped) listener({ error: errorMessage(err) });
      },
    );
    return () => {
      stopped = true;
      stop?.();
    };
  };
  close = (): Promise<void> => this.shared.close();
}
