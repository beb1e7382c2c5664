import { afterEach, describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { Actor, type Process } from '../../supervisors/runtime/actor.js';
import { Supervisor, type Strategy, type SupervisorOptions } from '../../supervisors/runtime/supervisor.js';
import {
  crashAndAwaitRestart,
  deferred,
  exitOf,
  labels,
  nextEvent,
  recordEvents,
  worker,
  type WorkerMessage,
} from './helpers.js';

const running: Supervisor[] = [];

async function startSupervisor(options: SupervisorOptions): Promise<Supervisor> {
  const supervisor = await Supervisor.start(options);
  running.push(supervisor);
  return supervisor;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((supervisor) => supervisor.stop()));
});

/** A round trip through the supervisor's mailbox: every exit posted before it has been handled. */
async function drainMailbox(supervisor: Supervisor): Promise<void> {
  await supervisor.terminateChild('no-such-child').catch(() => undefined);
}

function asWorker(process: Process | undefined): Actor<WorkerMessage> {
  if (!(process instanceof Actor)) throw new Error('expected a running worker');
  return process as Actor<WorkerMessage>;
}

describe('Supervisor start and stop order', () => {
  it('starts children in order and stops them in reverse', async () => {
    const log: string[] = [];
    const supervisor = await Supervisor.start({
      strategy: 'one_for_one',
      children: ['a', 'b', 'c'].map((id) => worker(id, log)),
    });
    expect(log).toEqual(['start:a', 'start:b', 'start:c']);
    expect(supervisor.status).toBe('running');
    const exit = exitOf(supervisor);
    await supervisor.stop();
    expect(log.slice(3)).toEqual(['stop:c', 'stop:b', 'stop:a']);
    expect(await exit).toBe('shutdown');
    expect(supervisor.status).toBe('stopped');
    expect(supervisor.children().map((child) => child.status)).toEqual(['stopped', 'stopped', 'stopped']);
  });

  it('stops the started children in reverse and rejects when one fails to start', async () => {
    const log: string[] = [];
    const failing = { id: 'b', start: () => Promise.reject(new Error('port in use')) };
    const starting = Supervisor.start({
      strategy: 'one_for_one',
      children: [worker('a0', log), worker('a1', log), failing, worker('c', log)],
    });
    await expect(starting).rejects.toThrow('port in use');
    expect(log).toEqual(['start:a0', 'start:a1', 'stop:a1', 'stop:a0']);
  });

  it('rejects invalid options with EINVAL', async () => {
    const log: string[] = [];
    const cases: SupervisorOptions[] = [
      { strategy: 'one_for_some' as Strategy, children: [] },
      { strategy: 'one_for_one', children: [worker('a', log), worker('a', log)] },
      { strategy: 'one_for_one', children: [{ ...worker('a', log), id: '' }] },
      { strategy: 'one_for_one', children: [{ ...worker('a', log), shutdownMs: -1 }] },
      { strategy: 'one_for_one', children: [{ ...worker('a', log), shutdownMs: Infinity }] },
      { strategy: 'one_for_one', children: [], intensity: { maxRestarts: -1, withinMs: 1000 } },
      { strategy: 'one_for_one', children: [], intensity: { maxRestarts: 1, withinMs: 0 } },
    ];
    for (const options of cases) {
      await expect(Supervisor.start(options)).rejects.toSatisfy((err) => isScopeFsError(err, 'EINVAL'));
    }
    expect(log).toEqual([]);
  });

  it('kills a child whose terminate never finishes, then stops the rest', async () => {
    const log: string[] = [];
    const supervisor = await Supervisor.start({
      strategy: 'one_for_one',
      children: [worker('a', log), worker('stuck', log, { shutdownMs: 50, terminate: () => new Promise(() => {}) })],
    });
    const events = recordEvents(supervisor);
    await supervisor.stop();
    expect(events).toEqual([
      { type: 'exited', id: 'stuck', reason: 'killed' },
      { type: 'exited', id: 'a', reason: 'shutdown' },
    ]);
    expect(log).toEqual(['start:a', 'start:stuck', 'stop:stuck', 'stop:a']);
    expect(supervisor.children().map((child) => child.status)).toEqual(['stopped', 'crashed']);
  });

  it('exit() kills the children at once and exits with the reason', async () => {
    const log: string[] = [];
    const supervisor = await Supervisor.start({
      strategy: 'one_for_one',
      children: [worker('a', log), worker('b', log)],
    });
    const [a, b] = [supervisor.child('a'), supervisor.child('b')];
    const reason = new Error('operator kill');
    supervisor.exit(reason);
    expect(await exitOf(supervisor)).toBe(reason);
    expect(await exitOf(a!)).toBe('killed');
    expect(await exitOf(b!)).toBe('killed');
    expect(supervisor.status).toBe('crashed');
  });
});

describe('Supervisor strategies', () => {
  async function crashB(strategy: Strategy) {
    const log: string[] = [];
    const supervisor = await startSupervisor({
      strategy,
      children: ['a', 'b', 'c', 'd'].map((id) => worker(id, log)),
    });
    const before = ['a', 'b', 'c', 'd'].map((id) => supervisor.child(id));
    const events = recordEvents(supervisor);
    log.length = 0;
    await crashAndAwaitRestart(supervisor, supervisor.child('b'), 'b');
    await drainMailbox(supervisor);
    const after = ['a', 'b', 'c', 'd'].map((id) => supervisor.child(id));
    const replaced = ['a', 'b', 'c', 'd'].filter((_, index) => before[index] !== after[index]);
    return { supervisor, log, events, replaced };
  }

  it('one_for_one restarts only the crashed child', async () => {
    const { log, events, replaced, supervisor } = await crashB('one_for_one');
    expect(replaced).toEqual(['b']);
    expect(log).toEqual(['stop:b', 'start:b']);
    expect(labels(events)).toEqual(['exited:b', 'restarted:b']);
    expect(events[0]!.reason).toBeInstanceOf(Error);
    await expect(asWorker(supervisor.child('b')).call('ping')).resolves.toBe('pong:b');
  });

  it('one_for_all stops the others in reverse and restarts all in order', async () => {
    const { log, events, replaced } = await crashB('one_for_all');
    expect(replaced).toEqual(['a', 'b', 'c', 'd']);
    expect(log).toEqual(['stop:b', 'stop:d', 'stop:c', 'stop:a', 'start:a', 'start:b', 'start:c', 'start:d']);
    expect(labels(events)).toEqual([
      'exited:b',
      'exited:d',
      'exited:c',
      'exited:a',
      'restarted:a',
      'restarted:b',
      'restarted:c',
      'restarted:d',
    ]);
    expect(events.slice(1, 4).map((event) => event.reason)).toEqual(['shutdown', 'shutdown', 'shutdown']);
  });

  it('rest_for_one restarts the crashed child and the ones started after it', async () => {
    const { log, events, replaced } = await crashB('rest_for_one');
    expect(replaced).toEqual(['b', 'c', 'd']);
    expect(log).toEqual(['stop:b', 'stop:d', 'stop:c', 'start:b', 'start:c', 'start:d']);
    expect(labels(events)).toEqual(['exited:b', 'exited:d', 'exited:c', 'restarted:b', 'restarted:c', 'restarted:d']);
  });

  it('rest_for_one on the last child restarts only that child', async () => {
    const log: string[] = [];
    const supervisor = await startSupervisor({ strategy: 'rest_for_one', children: [worker('a', log), worker('b', log)] });
    log.length = 0;
    await crashAndAwaitRestart(supervisor, supervisor.child('b'), 'b');
    expect(log).toEqual(['stop:b', 'start:b']);
  });

  it('one_for_all forgets a temporary sibling instead of restarting it', async () => {
    const log: string[] = [];
    const supervisor = await startSupervisor({
      strategy: 'one_for_all',
      children: [worker('a', log), worker('scratch', log, { restart: 'temporary' })],
    });
    log.length = 0;
    await crashAndAwaitRestart(supervisor, supervisor.child('a'), 'a');
    await drainMailbox(supervisor);
    expect(log).toEqual(['stop:a', 'stop:scratch', 'start:a']);
    expect(supervisor.children().map((child) => child.id)).toEqual(['a']);
  });
});

describe('Supervisor restart types', () => {
  async function exitChild(restart: 'permanent' | 'transient' | 'temporary', how: WorkerMessage) {
    const log: string[] = [];
    const supervisor = await startSupervisor({ strategy: 'one_for_one', children: [worker('w', log, { restart })] });
    const events = recordEvents(supervisor);
    const exited = nextEvent(supervisor, { type: 'exited', id: 'w' });
    asWorker(supervisor.child('w')).cast(how);
    await exited;
    await drainMailbox(supervisor);
    return { supervisor, events: labels(events), log };
  }

  it('permanent: restarted after a crash and after a normal exit', async () => {
    expect((await exitChild('permanent', 'crash')).events).toEqual(['exited:w', 'restarted:w']);
    const normal = await exitChild('permanent', 'exit-normal');
    expect(normal.events).toEqual(['exited:w', 'restarted:w']);
    expect(normal.supervisor.children()[0]).toMatchObject({ id: 'w', status: 'running', restarts: 1 });
  });

  it('transient: restarted after a crash, not after a normal exit', async () => {
    expect((await exitChild('transient', 'crash')).events).toEqual(['exited:w', 'restarted:w']);
    const normal = await exitChild('transient', 'exit-normal');
    expect(normal.events).toEqual(['exited:w']);
    expect(normal.supervisor.child('w')).toBeUndefined();
    expect(normal.supervisor.children()).toEqual([
      { id: 'w', type: 'worker', status: 'stopped', restarts: 0, restartType: 'transient' },
    ]);
  });

  it('temporary: never restarted, and forgotten', async () => {
    const crashed = await exitChild('temporary', 'crash');
    expect(crashed.events).toEqual(['exited:w']);
    expect(crashed.supervisor.children()).toEqual([]);
    expect(crashed.log).toEqual(['start:w', 'stop:w']);
  });

  it('does not restart a child that exits while the supervisor is stopping', async () => {
    const log: string[] = [];
    const release = deferred();
    const supervisor = await Supervisor.start({
      strategy: 'one_for_one',
      children: [worker('a', log), worker('slow', log, { terminate: () => release.promise })],
    });
    const events = recordEvents(supervisor);
    const stopping = supervisor.stop();
    expect(supervisor.status).toBe('stopping');
    asWorker(supervisor.child('a')).cast('crash'); // 'slow' is still terminating
    await exitOf(supervisor.child('a')!);
    release.resolve();
    await stopping;
    expect(labels(events)).not.toContain('restarted:a');
    expect(log.filter((line) => line === 'start:a')).toHaveLength(1);
  });
});

describe('Supervisor dynamic children and introspection', () => {
  it('startChild appends a child; terminateChild stops and removes it', async () => {
    const log: string[] = [];
    const supervisor = await startSupervisor({ strategy: 'rest_for_one', children: [worker('a', log)] });
    const started = nextEvent(supervisor, { type: 'started', id: 'b' });
    const b = await supervisor.startChild(worker('b', log));
    expect(await started).toEqual({ type: 'started', id: 'b' });
    expect(supervisor.child('b')).toBe(b);
    expect(supervisor.children().map((child) => child.id)).toEqual(['a', 'b']);

    await expect(supervisor.startChild(worker('b', log))).rejects.toSatisfy((err) => isScopeFsError(err, 'EEXIST'));
    await supervisor.terminateChild('b');
    expect(await exitOf(b)).toBe('shutdown');
    expect(supervisor.children().map((child) => child.id)).toEqual(['a']);
    await expect(supervisor.terminateChild('b')).rejects.toSatisfy((err) => isScopeFsError(err, 'ENOENT'));
    expect(log).toEqual(['start:a', 'start:b', 'stop:b']);
  });

  it('a startChild whose start fails rejects and leaves the supervisor running', async () => {
    const supervisor = await startSupervisor({ strategy: 'one_for_one', children: [] });
    const failing = { id: 'x', start: () => Promise.reject(new Error('no config')) };
    await expect(supervisor.startChild(failing)).rejects.toThrow('no config');
    await expect(supervisor.startChild({ id: 'y', start: async () => 42 as never })).rejects.toThrow(
      /must resolve to a Process/,
    );
    expect(supervisor.status).toBe('running');
    expect(supervisor.children()).toEqual([]);
  });

  it('startOrGetChild returns the running child instead of starting another', async () => {
    const log: string[] = [];
    const supervisor = await startSupervisor({ strategy: 'one_for_one', children: [] });
    const [first, second] = await Promise.all([
      supervisor.startOrGetChild(worker('w', log)),
      supervisor.startOrGetChild(worker('w', log)),
    ]);
    expect(first).toBe(second);
    expect(log).toEqual(['start:w']);
  });

  it('rejects startChild after stop with ESTOPPED', async () => {
    const supervisor = await Supervisor.start({ strategy: 'one_for_one', children: [] });
    await supervisor.stop();
    await expect(supervisor.startChild(worker('late', []))).rejects.toSatisfy((err) => isScopeFsError(err, 'ESTOPPED'));
  });

  it('reports restart counts, and shows a child as restarting while it restarts', async () => {
    const log: string[] = [];
    const secondStart = deferred();
    let starts = 0;
    const base = worker('slow', log);
    const slow = {
      ...base,
      start: async () => {
        if (++starts === 2) await secondStart.promise;
        return base.start();
      },
    };
    const supervisor = await startSupervisor({ strategy: 'one_for_one', children: [worker('a', log), slow] });
    const exited = nextEvent(supervisor, { type: 'exited', id: 'slow' });
    asWorker(supervisor.child('slow')).cast('crash');
    await exited;
    expect(supervisor.children()[1]).toMatchObject({ id: 'slow', status: 'restarting', restarts: 0 });
    expect(supervisor.child('slow')).toBeUndefined();
    const restarted = nextEvent(supervisor, { type: 'restarted', id: 'slow' });
    secondStart.resolve();
    await restarted;
    await crashAndAwaitRestart(supervisor, supervisor.child('slow'), 'slow');
    expect(supervisor.children()).toEqual([
      { id: 'a', type: 'worker', status: 'running', restarts: 0, restartType: 'permanent' },
      { id: 'slow', type: 'worker', status: 'running', restarts: 2, restartType: 'permanent' },
    ]);
  });

  it('a listener that throws does not break the supervisor', async () => {
    const log: string[] = [];
    const supervisor = await startSupervisor({ strategy: 'one_for_one', children: [worker('a', log)] });
    supervisor.onChildEvent(() => {
      throw new Error('bad listener');
    });
    await crashAndAwaitRestart(supervisor, supervisor.child('a'), 'a');
    expect(supervisor.status).toBe('running');
  });
});
