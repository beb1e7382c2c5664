import { afterEach, describe, expect, it } from 'vitest';
import { isAbnormal, type ExitReason } from '../../supervisors/runtime/actor.js';
import { RestartIntensity, RestartIntensityError } from '../../supervisors/runtime/restart-intensity.js';
import { Supervisor, type ChildSpec, type SupervisorOptions } from '../../supervisors/runtime/supervisor.js';
import { crashAndAwaitRestart, exitOf, labels, nextEvent, recordEvents, worker, type WorkerMessage } from './helpers.js';
import type { Actor } from '../../supervisors/runtime/actor.js';

const running: Supervisor[] = [];

async function startSupervisor(options: SupervisorOptions): Promise<Supervisor> {
  const supervisor = await Supervisor.start(options);
  running.push(supervisor);
  return supervisor;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop()));
});

function crash(process: unknown): void {
  (process as Actor<WorkerMessage>).cast('crash');
}

/** A nested supervisor as a child spec. */
function supervisorChild(id: string, options: Omit<SupervisorOptions, 'name'>): ChildSpec {
  return { id, type: 'supervisor', start: () => Supervisor.start({ ...options, name: id }) };
}

describe('RestartIntensity', () => {
  it('allows maxRestarts within the window and refuses one more', () => {
    let now = 0;
    const intensity = new RestartIntensity({ maxRestarts: 2, withinMs: 1000 }, () => now);
    expect(intensity.allowRestart()).toBe(true);
    now = 500;
    expect(intensity.allowRestart()).toBe(true);
    now = 999;
    expect(intensity.allowRestart()).toBe(false);
  });

  it('forgets restarts that slid out of the window', () => {
    let now = 0;
    const intensity = new RestartIntensity({ maxRestarts: 1, withinMs: 1000 }, () => now);
    expect(intensity.allowRestart()).toBe(true);
    now = 1000;
    expect(intensity.allowRestart()).toBe(true);
    now = 1500;
    expect(intensity.allowRestart()).toBe(false);
  });

  it('with maxRestarts 0 refuses the first restart', () => {
    expect(new RestartIntensity({ maxRestarts: 0, withinMs: 1000 }).allowRestart()).toBe(false);
  });
});

describe('Supervisor restart intensity', () => {
  it('gives up after more than maxRestarts: stops all children in reverse and exits abnormally', async () => {
    const log: string[] = [];
    const supervisor = await Supervisor.start({
      name: 'fragile',
      strategy: 'one_for_one',
      intensity: { maxRestarts: 2, withinMs: 60_000 },
      children: ['a', 'b', 'c'].map((id) => worker(id, log)),
    });
    const exit = exitOf(supervisor);
    await crashAndAwaitRestart(supervisor, supervisor.child('b'), 'b');
    await crashAndAwaitRestart(supervisor, supervisor.child('b'), 'b');
    expect(supervisor.status).toBe('running');
    const events = recordEvents(supervisor);
    log.length = 0;
    crash(supervisor.child('b'));
    const reason = await exit;
    expect(reason).toBeInstanceOf(RestartIntensityError);
    expect(isAbnormal(reason)).toBe(true);
    expect(String((reason as Error).message)).toBe(
      'supervisor fragile: restart intensity exceeded (more than 2 restarts within 60000 ms)',
    );
    expect(log).toEqual(['stop:b', 'stop:c', 'stop:a']);
    expect(labels(events)).toEqual(['exited:b', 'exited:c', 'exited:a']);
    expect(supervisor.status).toBe('crashed');
  });

  it('escalates to the parent, which restarts the whole subtree', async () => {
    const log: string[] = [];
    const parent = await startSupervisor({
      strategy: 'one_for_one',
      children: [
        worker('sibling', log),
        supervisorChild('inner', {
          strategy: 'one_for_one',
          intensity: { maxRestarts: 1, withinMs: 60_000 },
          children: [worker('leaf', log)],
        }),
      ],
    });
    const inner = parent.child('inner') as Supervisor;
    const sibling = parent.child('sibling');
    await crashAndAwaitRestart(inner, inner.child('leaf'), 'leaf');

    const innerExited = nextEvent(parent, { type: 'exited', id: 'inner' });
    const innerRestarted = nextEvent(parent, { type: 'restarted', id: 'inner' });
    crash(inner.child('leaf'));
    expect((await innerExited).reason).toBeInstanceOf(RestartIntensityError);
    await innerRestarted;

    const newInner = parent.child('inner') as Supervisor;
    expect(newInner).not.toBe(inner);
    expect(newInner.children()).toMatchObject([{ id: 'leaf', status: 'running', restarts: 0 }]);
    expect(parent.child('sibling')).toBe(sibling);
    expect(parent.children()).toMatchObject([
      { id: 'sibling', restarts: 0 },
      { id: 'inner', type: 'supervisor', restarts: 1, children: [{ id: 'leaf', restarts: 0 }] },
    ]);
  });

  it('escalates all the way up when every level gives up', async () => {
    const log: string[] = [];
    const top = await Supervisor.start({
      name: 'top',
      strategy: 'one_for_one',
      intensity: { maxRestarts: 0, withinMs: 60_000 },
      children: [
        worker('first', log),
        supervisorChild('middle', {
          strategy: 'one_for_one',
          intensity: { maxRestarts: 0, withinMs: 60_000 },
          children: [worker('leaf', log)],
        }),
      ],
    });
    const topExit = exitOf(top);
    log.length = 0;
    crash((top.child('middle') as Supervisor).child('leaf'));
    const reason = await topExit;
    expect(reason).toBeInstanceOf(RestartIntensityError);
    expect((reason as Error).message).toContain('supervisor top');
    expect(log).toEqual(['stop:leaf', 'stop:first']);
  });

  it('counts a restart whose start() fails as another crash', async () => {
    const log: string[] = [];
    let starts = 0;
    const base = worker('flaky', log);
    const flaky: ChildSpec = {
      ...base,
      start: async () => {
        starts += 1;
        if (starts > 1) throw new Error(`start #${starts} failed`);
        return base.start();
      },
    };
    const supervisor = await Supervisor.start({
      strategy: 'one_for_one',
      intensity: { maxRestarts: 3, withinMs: 60_000 },
      children: [flaky],
    });
    const events = recordEvents(supervisor);
    const exit = exitOf(supervisor);
    crash(supervisor.child('flaky'));
    expect(await exit).toBeInstanceOf(RestartIntensityError);
    expect(starts).toBe(4); // the first start, then 3 failed restarts; the 4th restart exceeds 3
    expect(labels(events)).toEqual(['exited:flaky', 'exited:flaky', 'exited:flaky', 'exited:flaky']);
    expect(String(events[3]!.reason)).toContain('start #4 failed');
  });

  it('recovers when a failed restart succeeds on a later attempt', async () => {
    const log: string[] = [];
    let starts = 0;
    const base = worker('flaky', log);
    const flaky: ChildSpec = {
      ...base,
      start: async () => {
        starts += 1;
        if (starts === 2) throw new Error('transient failure');
        return base.start();
      },
    };
    const supervisor = await startSupervisor({ strategy: 'rest_for_one', children: [flaky, worker('after', log)] });
    log.length = 0;
    await crashAndAwaitRestart(supervisor, supervisor.child('flaky'), 'flaky');
    await nextEvent(supervisor, { type: 'restarted', id: 'after' });
    expect(starts).toBe(3);
    expect(log).toEqual(['stop:flaky', 'stop:after', 'start:flaky', 'start:after']);
    expect(supervisor.children()).toMatchObject([
      { id: 'flaky', status: 'running', restarts: 1 },
      { id: 'after', status: 'running', restarts: 1 },
    ]);
  });

  it('survives a child crashing 100 times under a high limit', async () => {
    const log: string[] = [];
    const supervisor = await startSupervisor({
      strategy: 'one_for_one',
      intensity: { maxRestarts: 1000, withinMs: 60_000 },
      children: [worker('steady', log), worker('crashy', log)],
    });
    const steady = supervisor.child('steady');
    for (let i = 0; i < 100; i++) await crashAndAwaitRestart(supervisor, supervisor.child('crashy'), 'crashy');
    expect(supervisor.status).toBe('running');
    expect(supervisor.child('steady')).toBe(steady);
    expect(supervisor.children()).toMatchObject([
      { id: 'steady', restarts: 0, status: 'running' },
      { id: 'crashy', restarts: 100, status: 'running' },
    ]);
    expect(log.filter((line) => line === 'start:crashy')).toHaveLength(101);
  });
});

describe('Nested supervisors', () => {
  it('start depth-first in order and stop in reverse, children before their supervisor returns', async () => {
    const log: string[] = [];
    const top = await Supervisor.start({
      strategy: 'rest_for_one',
      children: [
        worker('fs', log),
        supervisorChild('agents', { strategy: 'one_for_one', children: [worker('agent1', log), worker('agent2', log)] }),
        worker('tail', log),
      ],
    });
    expect(log).toEqual(['start:fs', 'start:agent1', 'start:agent2', 'start:tail']);
    expect(top.children()).toEqual([
      { id: 'fs', type: 'worker', status: 'running', restarts: 0, restartType: 'permanent' },
      {
        id: 'agents',
        type: 'supervisor',
        status: 'running',
        restarts: 0,
        restartType: 'permanent',
        children: [
          { id: 'agent1', type: 'worker', status: 'running', restarts: 0, restartType: 'permanent' },
          { id: 'agent2', type: 'worker', status: 'running', restarts: 0, restartType: 'permanent' },
        ],
      },
      { id: 'tail', type: 'worker', status: 'running', restarts: 0, restartType: 'permanent' },
    ]);
    const reasons: ExitReason[] = [];
    top.onChildEvent((event) => event.reason !== undefined && reasons.push(event.reason));
    await top.stop();
    expect(log.slice(4)).toEqual(['stop:tail', 'stop:agent2', 'stop:agent1', 'stop:fs']);
    expect(reasons).toEqual(['shutdown', 'shutdown', 'shutdown']);
  });

  it('an agent crash inside a nested supervisor does not touch the siblings of that supervisor', async () => {
    const log: string[] = [];
    const top = await startSupervisor({
      strategy: 'rest_for_one',
      children: [
        worker('fs', log),
        supervisorChild('agents', { strategy: 'one_for_one', children: [worker('agent', log)] }),
      ],
    });
    const fs = top.child('fs');
    const agents = top.child('agents') as Supervisor;
    await crashAndAwaitRestart(agents, agents.child('agent'), 'agent');
    expect(top.child('fs')).toBe(fs);
    expect(top.child('agents')).toBe(agents);
    expect(top.children()[1]!.children).toMatchObject([{ id: 'agent', restarts: 1 }]);
  });
});
