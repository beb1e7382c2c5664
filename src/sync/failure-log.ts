import type { SyncFailure } from './types.js';

const HISTORY_LIMIT = 100;
const RETRY_INITIAL_MS = 1_000;
const RETRY_MAX_MS = 5 * 60_000;

interface CurrentFailure extends SyncFailure {
  nextAttemptAt: number;
}

/**
 * Per-path sync failures. A failing path is retried with exponential backoff
 * and jitter while every other path goes on (no head-of-line blocking). The
 * history behind `.sync-failures.json` is bounded, newest last.
 */
export class FailureLog {
  private readonly current = new Map<string, CurrentFailure>();
  private readonly history: SyncFailure[] = [];

  record(path: string, error: string, now = Date.now()): void {
    const attempts = (this.current.get(path)?.attempts ?? 0) + 1;
    const step = Math.min(RETRY_MAX_MS, RETRY_INITIAL_MS * 2 ** (attempts - 1));
    const delay = step / 2 + (Math.random() * step) / 2;
    const failure: CurrentFailure = { path, error, attempts, at: new Date(now).toISOString(), nextAttemptAt: now + delay };
    this.current.set(path, failure);
    this.pushHistory({ path, error, attempts, at: failure.at });
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

  /** Makes a failing path eligible again at once (its file changed). */
  wake(path: string): void {
    const failure = this.current.get(path);
    if (failure) failure.nextAttemptAt = 0;
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

  recent(): SyncFailure[] {
    return [...this.history];
  }
}
