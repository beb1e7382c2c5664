import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, lifecycleState, startLifecycle, type LifecycleActor } from '../../src/sync/lifecycle.js';

describe('sync connection lifecycle (xstate machine)', () => {
  let actor: LifecycleActor | undefined;
  afterEach(() => {
    actor?.stop();
    vi.useRealTimers();
  });

  it('walks offline → connecting → catching_up → live', () => {
    actor = startLifecycle({ initialMs: 10, maxMs: 100 });
    const states = [lifecycleState(actor)];
    for (const type of ['START', 'CONNECTED', 'CAUGHT_UP'] as const) {
      actor.send({ type });
      states.push(lifecycleState(actor));
    }
    expect(states).toEqual(['offline', 'connecting', 'catching_up', 'live']);
  });

  it('backs off after a failure and reconnects when the delay has passed', () => {
    vi.useFakeTimers();
    actor = startLifecycle({ initialMs: 100, maxMs: 1000, random: () => 0.999 });
    actor.send({ type: 'START' });
    actor.send({ type: 'FAILED', error: 'connection refused' });
    expect(lifecycleState(actor)).toBe('backing_off');
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 1, error: 'connection refused' });
    vi.advanceTimersByTime(99);
    expect(lifecycleState(actor)).toBe('backing_off');
    vi.advanceTimersByTime(2);
    expect(lifecycleState(actor)).toBe('connecting');
  });

  it('resets the attempt count once live again', () => {
    actor = startLifecycle({ initialMs: 1, maxMs: 1 });
    actor.send({ type: 'START' });
    actor.send({ type: 'FAILED', error: 'x' });
    expect(actor.getSnapshot().context.attempt).toBe(1);
    actor.send({ type: 'PAUSE', reason: 'r' });
    actor.send({ type: 'RESUME' });
    actor.send({ type: 'CONNECTED' });
    actor.send({ type: 'CAUGHT_UP' });
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 0, error: undefined });
  });

  it('pauses from any running state with a reason and resumes into connecting', () => {
    for (const path of [[], ['START'], ['START', 'CONNECTED'], ['START', 'CONNECTED', 'CAUGHT_UP']] as const) {
      actor = startLifecycle({ initialMs: 10, maxMs: 100 });
      for (const type of path) actor.send({ type });
      actor.send({ type: 'PAUSE', reason: 'safety gate' });
      expect(lifecycleState(actor)).toBe('paused');
      expect(actor.getSnapshot().context.pausedReason).toBe('safety gate');
      actor.send({ type: 'RESUME' });
      expect(lifecycleState(actor)).toBe('connecting');
      expect(actor.getSnapshot().context.pausedReason).toBeUndefined();
      actor.stop();
    }
    actor = undefined;
  });

  it('ignores events that make no sense in a state', () => {
    actor = startLifecycle({ initialMs: 10, maxMs: 100 });
    actor.send({ type: 'CAUGHT_UP' });
    actor.send({ type: 'RESUME' });
    expect(lifecycleState(actor)).toBe('offline');
    actor.send({ type: 'STOP' });
    expect(lifecycleState(actor)).toBe('stopped');
  });
});

describe('backoffDelay', () => {
  it('grows exponentially with jitter between half and the full step, capped', () => {
    const policy = (random: number) => ({ initialMs: 100, maxMs: 1000, random: () => random });
    expect([1, 2, 3, 4, 5, 10].map((a) => backoffDelay(a, policy(0)))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 10].map((a) => backoffDelay(a, policy(0.99999)))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});
