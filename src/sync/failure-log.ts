import type { SyncFailure } from './types.js';

const HISTORY_LIMIT = 100;

export interface RetryPolicy {
  /** First retry delay; doubles per failure (with jitter) up to maxMs. */
  initialMs: number;
  maxMs: number;
  /** After this many failures in a row the path is given up on until it changes. */
  maxAttempts: number;
}

/** About 4 minutes of retries (1 s, 2 s, ... 128 s, with jitter) before giving up. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { initialMs: 1_000, maxMs: 5 * 60_000, maxAttempts: 8 };

interface CurrentFailure extends SyncFailure {
  nextAttemptAt: number;
}

/**
 * Per-path sync failures. A failing path is retried with exponential backoff
 * and jitter while every other path goes on (no head-of-line blocking), at
 * most `maxAttempts` times in a row: then it is given up on (`gaveUp`, shown
 * in status with its reason) and only tried again when its file changes,
 * locally or remotely (`wake`). The history behind `.sync-failures.json` is
 * bounded, newest last.
 */
export class FailureLog {
  private readonly current = new Map<string, CurrentFailure>();
  private readonly history: SyncFailure[] = [];
  private policy: RetryPolicy = DEFAULT_RETRY_POLICY;

  configure(policy: Partial<RetryPolicy>): void {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...policy };
  }

  record(path: string, error: string, now = Date.now()): void {
    const { initialMs, maxMs, maxAttempts } = this.policy;
    const attempts = (this.current.get(path)?.attempts ?? 0) + 1;
    const gaveUp = attempts >= maxAttempts;
    const step = Math.min(maxMs, initialMs * 2 ** (attempts - 1));
    const delay = step / 2 + (Math.random() * step) / 2;
    const at = new Date(now).toISOString();
    const failure: CurrentFailure = { path, error, attempts, at, nextAttemptAt: gaveUp ? Infinity : now + delay, ...(gaveUp ? { gaveUp } : {}) };
    this.current.set(path, failure);
    this.pushHistory({ path, error, attempts, at, ...(gaveUp ? { gaveUp } : {}) });
  }

  private pushHistory(failure: SyncFailure): void {
    this.history.push(failure);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
  }

  /** Records something refused for good (nothing to retry): history only. */
  note(path: string, error: string, now = Date.now()): void {
    this.pushHistory({ path, error, attempts: 1, at: new Date(now).toISOString() });
  }

  clear(path: string): void {
    this.current.delete(path);
  }

  /** Makes a failing path eligible again at once (its file changed); a path given up on gets a fresh round of attempts. */
  wake(path: string): void {
    const failure = this.current.get(path);
    if (!failure) return;
    failure.nextAttemptAt = 0;
    if (failure.gaveUp) {
      failure.attempts = 0;
      delete failure.gaveUp;
    }
  }

  /** True while a failing path waits for its next attempt. */
  waiting(path: string, now = Date.now()): boolean {
    const failure = this.current.get(path);
    return failure !== undefined && failure.nextAttemptAt > now;
  }

  due(now = Date.now()): string[] {
    return [...this.current.values()].filter((f) => f.nextAttemptAt <= now).map((f) => f.path);
  }

  /** When the earliest waiting path is due, or undefined. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const failure of this.current.values()) {
      if (next === undefined || failure.nextAttemptAt < next) next = failure.nextAttemptAt;
    }
    return next;
  }

  failedPaths(): string[] {
    return [...this.current.keys()].sort();
  }

  /** The paths given up on after the maximum attempts, with their last error. */
  gaveUp(): SyncFailure[] {
    return [...this.current.values()]
      .filter((f) => f.gaveUp)
      .sort((a, b) => a.path.localeCompare(b.path))
      .map(({ path, error, at, attempts }) => ({ path, error, at, attempts, gaveUp: true }));
  }

  recent(): SyncFailure[] {
    return [...this.history];
  }
}
