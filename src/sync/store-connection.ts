import { openStoreTombstones } from '../../persistence/history/open-history.js';
import type { TombstonePurger } from '../../persistence/history/tombstones.js';
import { openStore } from '../../persistence/stores/open-store.js';
import { acquireSharedStore, type SharedStore } from '../../persistence/stores/shared-stores.js';
import type { StoreHint, SyncStore } from '../../persistence/stores/types.js';
import { ScopeFsError } from '../errors.js';
import { redactSecrets } from '../redact.js';

/**
 * The sync actor's link to its store. A store given as a URL is the
 * process's shared one for that URL (shared-stores.ts): every scope on one
 * database uses one pool and one change listener (one PostgreSQL LISTEN
 * connection, one SQLite poller), each scope watching its own app. A store
 * given as an object belongs to the caller and is only (re)opened, never
 * closed. `store` is a stable facade the engine can hold: it always talks to
 * the current connection.
 */
export class StoreConnection {
  readonly store: SyncStore;
  private current: SyncStore | undefined;
  /** The shared store's reference, when the source is a URL. */
  private shared: SharedStore | undefined;
  private unwatch: (() => Promise<void>) | undefined;
  /** Opened on first use for the current connection; null: the store has no tombstone purging. */
  private purger: TombstonePurger | null | undefined;

  constructor(private readonly source: string | SyncStore) {
    this.store = this.facade();
  }

  get connected(): boolean {
    return this.current !== undefined;
  }

  /** The store's URL with every secret masked (it is shown in status, files and tools). */
  get url(): string {
    return redactSecrets(typeof this.source === 'string' ? this.source : this.source.url);
  }

  /** Opens the store and subscribes to its hints (an `error` hint: the channel broke); throws when it cannot. */
  async connect(app: string, onHint: (hint: StoreHint) => void): Promise<void> {
    try {
      if (typeof this.source === 'string') {
        this.shared ??= await acquireSharedStore(this.source);
        this.current = this.shared.store;
      } else {
        this.current ??= await openStore(this.source);
        await this.current.open();
      }
      await this.unwatch?.().catch(() => undefined);
      this.unwatch = await this.current.watch(app, onHint);
    } catch (err) {
      await this.disconnect();
      throw err;
    }
  }

  /** The current store's tombstone purger (null when not connected, or the store has none). */
  tombstones(): TombstonePurger | null {
    if (!this.current) return null;
    if (this.purger === undefined) {
      try {
        this.purger = openStoreTombstones(this.current);
      } catch {
        this.purger = null; // a store of the app's own making, or a wrapped one: no purging
      }
    }
    return this.purger;
  }

  async disconnect(): Promise<void> {
    await this.unwatch?.().catch(() => undefined);
    this.unwatch = undefined;
    await this.purger?.close().catch(() => undefined);
    this.purger = undefined;
    this.current = undefined;
    const shared = this.shared;
    this.shared = undefined;
    await shared?.release();
  }

  private facade(): SyncStore {
    const current = (): SyncStore => {
      if (!this.current) throw new ScopeFsError('EIO', 'not connected to the store');
      return this.current;
    };
    const url = () => this.url;
    return {
      get url() {
        return url();
      },
      open: () => current().open(),
      close: () => current().close(),
      head: (app) => current().head(app),
      since: (app, owners, cursor, limit) => current().since(app, owners, cursor, limit),
      get: (app, owner, path) => current().get(app, owner, path),
      push: (app, instanceId, changes) => current().push(app, instanceId, changes),
      watch: (app, listener) => current().watch(app, listener),
      acquireLease: (name, holder, ttlMs) => current().acquireLease(name, holder, ttlMs),
      renewLease: (name, holder, token, ttlMs) => current().renewLease(name, holder, token, ttlMs),
      releaseLease: (name, holder, token) => current().releaseLease(name, holder, token),
    };
  }
}
