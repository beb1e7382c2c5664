/**
 * The store a syncing scope keeps its locks in (src/coordination/store-backed-locks.ts),
 * so every instance of the app excludes the others. A PostgreSQL or Supabase
 * store given by URL gets a connection of its own, opened on first use (and
 * again after a failure), so a scope starts while its store is unreachable
 * and its lock calls then fail with the store's error instead of silently
 * falling back to local locks. A store object is the caller's, used as it is.
 */
import { openStoreLocks } from '../../persistence/locks/open-locks.js';
import type { StoreLocks } from '../../persistence/locks/types.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { storeFromUrl } from '../../persistence/stores/store-schemes.js';
import type { SyncStore } from '../../persistence/stores/types.js';
import { StoreBackedLocks } from '../../src/coordination/store-backed-locks.js';
import type { LockTable } from '../../src/coordination/locks.js';
import type { SyncOptions } from '../../src/sync/sync-actor.js';

export async function openScopeLocks(sync: SyncOptions | undefined, table: LockTable): Promise<StoreBackedLocks | undefined> {
  if (!sync) return undefined;
  const byUrl = typeof sync.store === 'string';
  const store = typeof sync.store === 'string' ? await storeFromUrl(sync.store) : sync.store;
  const needsConnection = byUrl && !(store instanceof MemoryStore) && !(store instanceof SqliteStore);
  const locks = needsConnection ? new OpenedOnUse(store) : openStoreLocks(store);
  const backed = new StoreBackedLocks(table, locks, sync.app ?? 'default');
  await backed.refresh().catch(() => undefined); // unreachable now: the timer and the next call try again
  return backed;
}

/** Store locks over a store connection this module owns: opened on first use, closed with the locks. */
class OpenedOnUse implements StoreLocks {
  private opening: Promise<StoreLocks> | undefined;

  constructor(private readonly store: SyncStore) {}

  acquire: StoreLocks['acquire'] = async (...args) => (await this.opened()).acquire(...args);
  renew: StoreLocks['renew'] = async (...args) => (await this.opened()).renew(...args);
  release: StoreLocks['release'] = async (...args) => (await this.opened()).release(...args);
  live: StoreLocks['live'] = async (...args) => (await this.opened()).live(...args);
  check: StoreLocks['check'] = async (...args) => (await this.opened()).check(...args);

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    if (opening && (await opening.then(() => true, () => false))) await this.store.close();
  }

  private opened(): Promise<StoreLocks> {
    this.opening ??= this.store.open().then(
      () => openStoreLocks(this.store),
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }
}
