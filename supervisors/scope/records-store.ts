/**
 * Where a scope's tailed records go (persistence/records/): the sync
 * store's records table when the scope syncs (a PostgreSQL or Supabase URL
 * through the process's shared store, acquired on first use so the scope
 * starts while the store is unreachable), else the root's own
 * `.scopefs/tail.db`, else memory. The cursors of tailed files are local to
 * the machine (they hold device and inode): `.scopefs/tail.db` or memory.
 */
import { join } from 'node:path';
import { MemoryRecords, MemoryTailOffsets } from '../../persistence/records/memory-records.js';
import { hasStoreRecords, openStoreRecords } from '../../persistence/records/open-records.js';
import { SqliteRecords, SqliteTailOffsets } from '../../persistence/records/sqlite-records.js';
import type { StoreRecords, TailOffsets } from '../../persistence/records/types.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { storeFromUrl } from '../../persistence/stores/store-schemes.js';
import type { SyncOptions } from '../../src/sync/sync-actor.js';
import { SharedOnUse } from './shared-on-use.js';

export interface ScopeRecordTables {
  app: string;
  records: StoreRecords;
  offsets: TailOffsets;
  close(): Promise<void>;
}

export async function openScopeRecords(root: string | undefined, sync: SyncOptions | undefined): Promise<ScopeRecordTables> {
  const local = root ? join(root, '.scopefs', 'tail.db') : undefined;
  const offsets = local ? new SqliteTailOffsets(local) : new MemoryTailOffsets();
  const records = await storeRecords(sync) ?? (local ? new SqliteRecords(local) : new MemoryRecords());
  return {
    app: sync?.app ?? 'default',
    records,
    offsets,
    close: async () => {
      await records.close().catch(() => undefined);
      await offsets.close().catch(() => undefined);
    },
  };
}

async function storeRecords(sync: SyncOptions | undefined): Promise<StoreRecords | undefined> {
  if (!sync) return undefined;
  const given = sync.store;
  const store = typeof given === 'string' ? await storeFromUrl(given) : given;
  if (!hasStoreRecords(store)) return undefined; // an app's own store: the records stay local
  const byUrl = typeof given === 'string' && !(store instanceof MemoryStore) && !(store instanceof SqliteStore);
  return byUrl ? new OpenedOnUse(given) : openStoreRecords(store);
}

/** Records over the process's shared store for a URL (shared-on-use.ts). */
class OpenedOnUse implements StoreRecords {
  private readonly shared: SharedOnUse<StoreRecords>;

  constructor(url: string) {
    this.shared = new SharedOnUse(url, openStoreRecords);
  }

  upsert: StoreRecords['upsert'] = async (...args) => (await this.shared.get()).upsert(...args);
  since: StoreRecords['since'] = async (...args) => (await this.shared.get()).since(...args);
  search: StoreRecords['search'] = async (...args) => (await this.shared.get()).search(...args);
  head: StoreRecords['head'] = async (...args) => (await this.shared.get()).head(...args);
  close = (): Promise<void> => this.shared.close();
}
