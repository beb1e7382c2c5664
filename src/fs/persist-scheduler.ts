/**
 * Persist timers, one per key: debounce windows (restarted by every update)
 * and retries after a failure (exponential backoff with jitter). A key is a
 * file path, or a delete key for a pending delete. Timers only say "this key
 * is due"; the server decides what persisting it means.
 */

export interface RetryOptions {
  /** First retry delay (default 100 ms). */
  initialMs?: number;
  /** Cap on the delay (default 30 s). */
  maxMs?: number;
}

interface Pending {
  timer: NodeJS.Timeout;
  dueAt: number;
}

export class PersistScheduler {
  private readonly timers = new Map<string, Pending>();
  private readonly failures = new Map<string, number>();
  private readonly initialMs: number;
  private readonly maxMs: number;

  constructor(
    private readonly onDue: (key: string) => void,
    retry: RetryOptions = {},
  ) {
    this.initialMs = retry.initialMs ?? 100;
    this.maxMs = Math.max(this.initialMs, retry.maxMs ?? 30_000);
  }

  /** Number of pending timers (debounces and retries). */
  get size(): number {
    return this.timers.size;
  }

  has(key: string): boolean {
    return this.timers.has(key);
  }

  /** (Re)starts the key's timer: it fires `delayMs` from now. */
  debounce(key: string, delayMs: number): void {
    this.set(key, delayMs);
  }

  /** Records a failure and schedules a retry with exponential backoff. Returns the delay. */
  retryLater(key: string): number {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    const exponential = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(failures - 1, 30));
    // Jitter (up to 20% shorter) keeps many failing files from retrying in lockstep.
    const delay = Math.round(exponential * (0.8 + Math.random() * 0.2));
    this.set(key, delay);
    return delay;
  }

  /** Forgets the failure count after a success. */
  succeeded(key: string): void {
    this.failures.delete(key);
  }

  /** Moves a pending timer (keeping its due time) and the failure count to a new key. */
  move(from: string, to: string): void {
    const pending = this.timers.get(from);
    const failures = this.failures.get(from);
    this.cancel(from);
    this.failures.delete(from);
    if (failures !== undefined) this.failures.set(to, failures);
    if (pending) this.set(to, Math.max(0, pending.dueAt - Date.now()));
  }

  cancel(key: string): void {
    const pending = this.timers.get(key);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.timers.delete(key);
  }

  /** Cancels a key's timer and forgets its failures (the key no longer needs persisting). */
  forget(key: string): void {
    this.cancel(key);
    this.failures.delete(key);
  }

  clear(): void {
    for (const pending of this.timers.values()) clearTimeout(pending.timer);
    this.timers.clear();
    this.failures.clear();
  }

  private set(key: string, delayMs: number): void {
    this.cancel(key);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.onDue(key);
    }, delayMs);
    this.timers.set(key, { timer, dueAt: Date.now() + delayMs });
  }
}
