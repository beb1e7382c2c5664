import { assign, createActor, setup, type Actor as XActor } from 'xstate';
import type { SyncState } from './types.js';

/**
 * The sync actor's connection lifecycle as an xstate v5 machine. The machine
 * only decides states; the sync actor performs the work that each state asks
 * for (connect, catch up, run passes) and reports back with events.
 *
 *   offline ─START→ connecting ─CONNECTED→ catching_up ─CAUGHT_UP→ live
 *      any of connecting/catching_up/live ─FAILED→ backing_off ─(backoff)→ connecting
 *      any running state ─PAUSE→ paused ─RESUME→ connecting
 *      any ─STOP→ stopped
 */
export type LifecycleEvent =
  | { type: 'START' }
  | { type: 'CONNECTED' }
  | { type: 'CAUGHT_UP' }
  | { type: 'FAILED'; error: string }
  | { type: 'PAUSE'; reason: string }
  | { type: 'RESUME' }
  | { type: 'STOP' };

export interface LifecycleContext {
  /** Consecutive failures; drives the backoff delay. Reset once live. */
  attempt: number;
  error: string | undefined;
  pausedReason: string | undefined;
  backoff: BackoffPolicy;
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Returns a number in [0, 1); injectable for deterministic tests. */
  random?: () => number;
}

/** Exponential backoff with "full jitter" between half and the whole step. */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  const random = policy.random ?? Math.random;
  return Math.round(step / 2 + (random() * step) / 2);
}

const PAUSE = { target: '#sync.paused', actions: 'recordPause' } as const;
const FAILED = { target: '#sync.backing_off', actions: 'recordFailure' } as const;

export const syncLifecycle = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
    input: {} as { backoff: BackoffPolicy },
  },
  delays: {
    backoff: ({ context }) => backoffDelay(context.attempt, context.backoff),
  },
  actions: {
    recordFailure: assign({
      attempt: ({ context }) => context.attempt + 1,
      error: ({ event }) => (event.type === 'FAILED' ? event.error : undefined),
    }),
    recordPause: assign({
      pausedReason: ({ event }) => (event.type === 'PAUSE' ? event.reason : undefined),
    }),
    clearPause: assign({ pausedReason: undefined }),
    resetAttempts: assign({ attempt: 0, error: undefined }),
  },
}).createMachine({
  id: 'sync',
  initial: 'offline',
  context: ({ input }) => ({ attempt: 0, error: undefined, pausedReason: undefined, backoff: input.backoff }),
  on: { STOP: '.stopped' },
  states: {
    offline: { on: { START: 'connecting', PAUSE } },
    connecting: { on: { CONNECTED: 'catching_up', FAILED, PAUSE } },
    catching_up: { on: { CAUGHT_UP: { target: 'live', actions: 'resetAttempts' }, FAILED, PAUSE } },
    live: { on: { FAILED, PAUSE } },
    backing_off: { after: { backoff: 'connecting' }, on: { PAUSE } },
    paused: { on: { RESUME: { target: 'connecting', actions: 'clearPause' } } },
    stopped: { type: 'final' },
  },
});

export type LifecycleActor = XActor<typeof syncLifecycle>;

export function startLifecycle(backoff: BackoffPolicy): LifecycleActor {
  const actor = createActor(syncLifecycle, { input: { backoff } });
  actor.start();
  return actor;
}

export function lifecycleState(actor: LifecycleActor): SyncState {
  return actor.getSnapshot().value as SyncState;
}
