/**
 * When a failed delivery is tried again: exponential backoff with jitter, as
 * a pure function of the attempt number and a random draw. "Equal jitter":
 * the wait is between half and all of base·2^(attempt−1), capped at maxMs,
 * so retries of many deliveries spread out yet never come early.
 */
import type { RetryOptions } from './types.js';

export const DEFAULT_RETRY: Required<RetryOptions> = { baseMs: 1_000, maxMs: 300_000, attempts: 8 };

/** The wait after failed attempt number `attempt` (1 = the first try failed); `random` in [0, 1). */
export function backoffMs(attempt: number, retry: Required<RetryOptions>, random: number = Math.random()): number {
  const ceiling = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** What happens after failed attempt `attempt`: a retry at a time, or the dead letters. */
export function afterFailure(attempt: number, now: number, retry: Required<RetryOptions>, random?: number): { dead: true } | { dead: false; nextAt: number } {
  if (attempt >= retry.attempts) return { dead: true };
  return { dead: false, nextAt: now + backoffMs(attempt, retry, random) };
}
