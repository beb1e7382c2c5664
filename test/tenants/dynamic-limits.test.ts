/** DynamicSupervisor's idleMs and maxActive on plain workers (the runtime alone, no scopes). */
import { afterEach, describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { ChildUsage } from '../../supervisors/runtime/child-usage.js';
import { DynamicSupervisor, type DynamicSupervisorOptions } from '../../supervisors/runtime/dynamic-supervisor.js';
import { worker } from '../supervisors/helpers.js';

const running: DynamicSupervisor[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop()));
});

async function start(options: DynamicSupervisorOptions<string>): Promise<DynamicSupervisor> {
  const supervisor = await DynamicSupervisor.start({ intensity: { maxRestarts: 100, withinMs: 60_000 }, ...options });
  running.push(supervisor);
  return supervisor;
}

const spec = (log: string[]) => {
  const { id: _id, ...rest } = worker('w', log);
  return rest;
};

const ids = (supervisor: DynamicSupervisor) => supervisor.children().map((child) => child.id).sort();

describe('ChildUsage', () => {
  it('picks the idle child used least recently, never one in use', () => {
    let now = 0;
    const usage = new ChildUsage(() => now);
    const releaseA = usage.use('a');
    now = 1;
    const releaseB = usage.use('b');
    now = 2;
    usage.use('c'); // stays in use
    releaseB();
    now = 3;
    releaseA();
    expect(usage.leastRecentlyUsed(['a', 'b', 'c'])).toBe('b');
    expect(usage.expired(['a', 'b', 'c'], 2)).toEqual([]);
    now = 5;
    expect(usage.expired(['a', 'b', 'c'], 2)).toEqual(['a', 'b']);
    releaseA(); // a second release changes nothing
    expect(usage.inUse('a')).toBe(false);
  });
});

describe('DynamicSupervisor limits', () => {
  it('refuses limits that are not positive', async () => {
    await expect(DynamicSupervisor.start({ maxActive: 0 })).rejects.toThrow(/maxActive must be a positive number/);
    await expect(DynamicSupervisor.start({ idleMs: -1 })).rejects.toThrow(/idleMs must be a positive number/);
  });

  it('evicts the least recently used idle child at maxActive, through stopIdle', async () => {
    const stopped: string[] = [];
    const supervisor: DynamicSupervisor = await start({
      maxActive: 2,
      stopIdle: async (id) => {
        stopped.push(id);
        await supervisor.terminateChild(id);
      },
    });
    const log: string[] = [];
    for (const key of ['a', 'b']) {
      const release = supervisor.use(key);
      await supervisor.startChild(key, spec(log));
      release();
    }
    supervisor.use('a')(); // a used after b: b is the least recently used
    const release = supervisor.use('c');
    await supervisor.startChild('c', spec(log));
    expect(stopped).toEqual(['b']);
    expect(ids(supervisor)).toEqual(['a', 'c']);
    release();
  });

  it('makes a start wait for a child to become idle, then ESTOPPED after maxActiveWaitMs', async () => {
    const supervisor = await start({ maxActive: 1, maxActiveWaitMs: 30 });
    const log: string[] = [];
    const releaseA = supervisor.use('a');
    await supervisor.startChild('a', spec(log));
    const refused = await supervisor.startChild('b', spec(log)).catch((err: unknown) => err);
    expect(isScopeFsError(refused, 'ESTOPPED')).toBe(true);

    const patient = await start({ maxActive: 1, maxActiveWaitMs: 60_000 });
    const releaseX = patient.use('x');
    await patient.startChild('x', spec(log));
    const waiting = patient.startChild('y', spec(log));
    releaseX(); // x becomes idle: y gets its place
    await waiting;
    expect(ids(patient)).toEqual(['y']);
    releaseA();
  });

  it('stops a child idle for idleMs, and not one in use', async () => {
    const supervisor = await start({ idleMs: 20 });
    const log: string[] = [];
    const releaseBusy = supervisor.use('busy');
    await supervisor.startChild('busy', spec(log));
    supervisor.use('lazy')();
    await supervisor.startChild('lazy', spec(log));
    await new Promise<void>((resolve) => {
      const off = supervisor.onChildEvent((event) => {
        if (event.type === 'exited' && event.id === 'lazy') {
          off();
          resolve(supervisor.settled('lazy'));
        }
      });
    });
    expect(ids(supervisor)).toEqual(['busy']);
    releaseBusy();
  });
});
