import { afterEach, describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import type { Actor } from '../../supervisors/runtime/actor.js';
import { DynamicSupervisor } from '../../supervisors/runtime/dynamic-supervisor.js';
import { canonicalScopeKey } from '../../supervisors/scope/scope-key.js';
import type { ScopeKey } from '../../src/types.js';
import { deferred, exitOf, nextEvent, worker, type WorkerMessage } from './helpers.js';

const running: DynamicSupervisor<ScopeKey>[] = [];

async function startDynamic(): Promise<DynamicSupervisor<ScopeKey>> {
  const supervisor = await DynamicSupervisor.start<ScopeKey>({
    name: 'scopes',
    intensity: { maxRestarts: 100, withinMs: 60_000 },
    idOf: canonicalScopeKey,
  });
  running.push(supervisor);
  return supervisor;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop()));
});

/** A worker spec without an id, counting its starts. */
function countedWorker(log: string[], options: Parameters<typeof worker>[2] = {}) {
  const { id: _id, ...spec } = worker('scope', log, options);
  return spec;
}

describe('DynamicSupervisor', () => {
  it('starts a key once when two callers ask for it at the same time', async () => {
    const log: string[] = [];
    const supervisor = await startDynamic();
    const gate = deferred();
    const base = countedWorker(log);
    const slowSpec = { ...base, start: async () => (await gate.promise, base.start()) };
    const first = supervisor.startChild(['user', 123], slowSpec);
    const second = supervisor.startChild('user/123', slowSpec);
    gate.resolve();
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect(log).toEqual(['start:scope']);
    expect(supervisor.whichChild(['user', '123'])).toBe(a);
    expect(supervisor.children()).toMatchObject([{ id: 'user/123', status: 'running' }]);
  });

  it('keeps different keys apart and lists them by canonical key', async () => {
    const log: string[] = [];
    const supervisor = await startDynamic();
    const user = await supervisor.startChild(['user', 123], countedWorker(log));
    const agent = await supervisor.startChild('agent-abc', countedWorker(log));
    const numeric = await supervisor.startChild(789, countedWorker(log));
    expect(new Set([user, agent, numeric]).size).toBe(3);
    expect(supervisor.whichChild('789')).toBe(numeric);
    expect(supervisor.whichChild(['agent-abc'])).toBe(agent);
    expect(supervisor.whichChild(['user', 124])).toBeUndefined();
    expect(supervisor.children().map((child) => child.id)).toEqual(['user/123', 'agent-abc', '789']);
  });

  it('terminateChild stops and forgets a key, which can then start again', async () => {
    const log: string[] = [];
    const supervisor = await startDynamic();
    const first = await supervisor.startChild('agent-abc', countedWorker(log));
    await supervisor.terminateChild(['agent-abc']);
    expect(await exitOf(first)).toBe('shutdown');
    expect(supervisor.whichChild('agent-abc')).toBeUndefined();
    expect(supervisor.children()).toEqual([]);
    await expect(supervisor.terminateChild('agent-abc')).rejects.toSatisfy((err) => isScopeFsError(err, 'ENOENT'));
    const second = await supervisor.startChild('agent-abc', countedWorker(log));
    expect(second).not.toBe(first);
    expect(log).toEqual(['start:scope', 'stop:scope', 'start:scope']);
  });

  it('restarts a crashed child under the same key', async () => {
    const log: string[] = [];
    const supervisor = await startDynamic();
    const first = await supervisor.startChild(['user', 1], countedWorker(log));
    const restarted = nextEvent(supervisor, { type: 'restarted', id: 'user/1' });
    (first as Actor<WorkerMessage>).cast('crash');
    await restarted;
    const second = supervisor.whichChild(['user', 1]);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(supervisor.children()).toMatchObject([{ id: 'user/1', restarts: 1, status: 'running' }]);
  });

  it('returns the restarted child, not the dead one, when asked right after a crash', async () => {
    const log: string[] = [];
    const supervisor = await startDynamic();
    const first = await supervisor.startChild('user/9', countedWorker(log));
    first.exit(new Error('died'));
    const again = await supervisor.startChild(['user', 9], countedWorker(log));
    expect(again).not.toBe(first);
    expect(again.status).toBe('running');
    expect(supervisor.children()).toMatchObject([{ id: 'user/9', restarts: 1 }]);
  });

  it('forgets a transient child that finished normally, so its key starts fresh', async () => {
    const log: string[] = [];
    const supervisor = await startDynamic();
    const job = await supervisor.startChild('job', countedWorker(log, { restart: 'transient' }));
    const exited = nextEvent(supervisor, { type: 'exited', id: 'job' });
    (job as Actor<WorkerMessage>).cast('exit-normal');
    await exited;
    expect(supervisor.children()).toEqual([]);
    const next = await supervisor.startChild('job', countedWorker(log, { restart: 'transient' }));
    expect(next).not.toBe(job);
  });

  it('rejects an invalid key with EINVAL', async () => {
    const supervisor = await startDynamic();
    await expect(supervisor.startChild(['user', NaN], countedWorker([]))).rejects.toSatisfy((err) =>
      isScopeFsError(err, 'EINVAL'),
    );
    expect(() => supervisor.whichChild('')).toThrow(/EINVAL/);
  });

  it('stops every child in reverse start order', async () => {
    const log: string[] = [];
    const supervisor = await DynamicSupervisor.start<ScopeKey>({ idOf: canonicalScopeKey });
    for (const key of ['a', 'b', 'c']) {
      const { id: _id, ...spec } = worker(key, log);
      await supervisor.startChild(key, spec);
    }
    await supervisor.stop();
    expect(log).toEqual(['start:a', 'start:b', 'start:c', 'stop:c', 'stop:b', 'stop:a']);
    expect(supervisor.status).toBe('stopped');
  });
});
