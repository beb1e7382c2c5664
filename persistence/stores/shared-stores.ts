/**
 * One open store per URL per process, shared by every scope of the process
 * and reference counted: the sync feed (each scope watching its own app) and
 * what a scope keeps beside it (history, locks, the audit log). A thousand
 * scopes on one PostgreSQL database use one pool and one LISTEN connection;
 * on one SQLite file, one store connection and one change poller. The stores
 * recover from failures themselves (the pool drops broken connections, the
 * listener reconnects and hints `reconnected`, SQLite reopens a broken
 * file), so a scope whose call failed keeps its reference. A failed open is
 * not kept, so the next acquire tries again.
 */
import { openOrClose } from './open-store.js';
import { storeFromUrl } from './store-schemes.js';
import type { SyncStore } from './types.js';

export interface SharedStore {
  store: SyncStore;
  /** Gives this use up; the last one closes the store. Idempotent. */
  release(): Promise<void>;
}

interface Entry {
  store: SyncStore;
  opening: Promise<void>;
  users: number;
}

const open = new Map<string, Entry>();

export async function acquireSharedStore(url: string): Promise<SharedStore> {
  let entry = open.get(url);
  if (!entry) {
    const store = await storeFromUrl(url);
    entry = open.get(url); // another acquire may have created it meanwhile
    if (!entry) {
      const created: Entry = { store, opening: openOrClose(store).then(() => undefined), users: 0 };
      created.opening.catch(() => {
        if (open.get(url) === created) open.delete(url);
      });
      open.set(url, (entry = created));
    }
  }
  const used = entry;
  used.users++;
  try {
    await used.opening;
  } catch (err) {
    used.users--;
    throw err;
  }
  let released = false;
  return {
    store: used.store,
    release: async () => {
      if (released) return;
      released = true;
      if (--used.users > 0) return;
      if (open.get(url) === used) open.delete(url);
      await used.store.close().catch(() => undefined);
    },
  };
}
