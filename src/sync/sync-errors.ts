import { errorMessage } from '../errors.js';

/** The store could not be reached or failed: the whole pass stops and the lifecycle backs off. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`store unavailable: ${errorMessage(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

/** Sync must not go on until someone acts (safety gate, malformed config). */
export class SyncPausedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'SyncPausedError';
  }
}

/** Runs a store call, turning any failure into StoreUnavailableError. */
export async function callStore<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new StoreUnavailableError(err);
  }
}
