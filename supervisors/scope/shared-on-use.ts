/**
 * A side table (locks, records) over the process's shared store for a URL
 * (shared-stores.ts): the store is acquired on first use, and again after a
 * failed open, so a scope starts while its store is unreachable and its
 * calls then fail with the store's error; close() gives the use back.
 */
import { acquireSharedStore, type SharedStore } from '../../persistence/stores/shared-stores.js';
import type { SyncStore } from '../../persistence/stores/types.js';

export class SharedOnUse<T> {
  private opening: Promise<{ table: T; shared: SharedStore }> | undefined;

  constructor(
    private readonly url: string,
    private readonly open: (store: SyncStore) => T,
  ) {}

  async get(): Promise<T> {
    this.opening ??= acquireSharedStore(this.url).then(
      (shared) => ({ table: this.open(shared.store), shared }),
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return (await this.opening).table;
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    const opened = await opening?.catch(() => undefined);
    await opened?.shared.release();
  }
}
