/** Collects store hints so a test can await the next one (with a deadline) instead of sleeping. */
import type { StoreHint } from '../../persistence/stores/types.js';

export interface HintCollector {
  /** Every hint received, accepted or not. */
  readonly seen: StoreHint[];
  readonly listener: (hint: StoreHint) => void;
  /** The next accepted hint not yet taken; rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<StoreHint>;
}

export function hintCollector(accept: (hint: StoreHint) => boolean = () => true): HintCollector {
  const seen: StoreHint[] = [];
  const queue: StoreHint[] = [];
  let waiter: ((hint: StoreHint) => void) | null = null;
  return {
    seen,
    listener(hint) {
      seen.push(hint);
      if (!accept(hint)) return;
      const take = waiter;
      waiter = null;
      if (take) take(hint);
      else queue.push(hint);
    },
    next(timeoutMs = 10_000) {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise<StoreHint>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = null;
          reject(new Error(`no store hint within ${timeoutMs} ms (seen so far: ${JSON.stringify(seen)})`));
        }, timeoutMs);
        waiter = (hint) => {
          clearTimeout(timer);
          resolve(hint);
        };
      });
    },
  };
}
