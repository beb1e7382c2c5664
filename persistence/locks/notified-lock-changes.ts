/**
 * Lock changes a store pushes (PostgreSQL: migration 10's trigger sends
 * NOTIFY scopefs {app, locks} at commit, heard on the store's one LISTEN
 * connection), as StoreLocks.watchChanges: the mirror hears another
 * instance's lock within the notification's latency, and sends no query
 * while nothing changes. Subscribing is asynchronous; once it holds, the
 * listener gets `reconnected` (so the mirror reads what it may have missed
 * before), and a subscription that cannot be made is an `error` (the mirror
 * then polls) and is tried again.
 */
import { errorMessage } from '../../src/errors.js';
import type { StoreHint } from '../stores/types.js';

/** A store that pushes lock changes (PostgresStore.watchLocks). */
export interface LockHintSource {
  watchLocks(app: string, listener: (hint: StoreHint) => void): Promise<() => void>;
}

export function isLockHintSource(store: unknown): store is LockHintSource {
  return typeof (store as Partial<LockHintSource> | null)?.watchLocks === 'function';
}

/** First wait before a failed subscription is tried again (doubling up to RETRY_MAX_MS). */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 10_000;

/**
 * A subscription that cannot be made (the LISTEN connection is down) is an
 * `error`, and is tried again with backoff until it holds (then
 * `reconnected`): otherwise a mirror started during an outage would poll forever.
 */
export function watchNotifiedLockChanges(source: LockHintSource, app: string, listener: (change: { error?: string; reconnected?: boolean }) => void): () => void {
  let stopped = false;
  let unwatch: (() => void) | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const subscribe = (delayMs: number): void => {
    source
      .watchLocks(app, (hint) => {
        if (!stopped) listener(hint.error ? { error: hint.error } : hint.reconnected ? { reconnected: true } : {});
      })
      .then(
        (stop) => {
          if (stopped) return stop();
          unwatch = stop;
          listener({ reconnected: true });
        },
        (err: unknown) => {
          if (stopped) return;
          // Told once: the mirror already polls while the retries fail.
          if (delayMs === RETRY_FIRST_MS) listener({ error: `lock change hints: ${errorMessage(err)}` });
          retry = setTimeout(() => subscribe(Math.min(RETRY_MAX_MS, delayMs * 2)), delayMs);
          retry.unref?.();
        },
      );
  };
  subscribe(RETRY_FIRST_MS);
  return () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    unwatch?.();
  };
}
