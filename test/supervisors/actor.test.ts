import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { fsErrors, isScopeFsError } from '../../src/errors.js';
import { Actor, isAbnormal, raceTimeout, type ExitReason } from '../../supervisors/runtime/actor.js';
import { deferred, exitOf } from './helpers.js';

type Message = { op: 'append'; value: number } | { op: 'wait'; until: Promise<void> } | { op: 'read' };

/** An actor whose append handler awaits real I/O turns before writing, to expose any interleaving. */
async function startRecorder() {
  const seen: number[] = [];
  let active = 0;
  let maxActive = 0;
  const actor = await Actor.start<Message>({
    async handleCall(message) {
      active += 1;
      maxActive = Math.max(maxActive, active);
      try {
        if (message.op === 'append') {
          for (let turn = 0; turn < message.value % 3; turn++) await nextMacrotask();
          seen.push(message.value);
        }
        if (message.op === 'wait') await message.until;
        return [...seen];
      } finally {
        active -= 1;
      }
    },
    async handleCast(message) {
      if (message.op === 'append') {
        await nextMacrotask();
        seen.push(message.value);
      }
    },
  });
  return { actor, seen, maxActive: () => maxActive };
}

describe('Actor mailbox', () => {
  it('handles messages one at a time, in order, while handlers await I/O', async () => {
    const { actor, seen, maxActive } = await startRecorder();
    const replies = Array.from({ length: 30 }, (_, value) => actor.call<number[]>({ op: 'append', value }));
    await Promise.all(replies);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, value) => value));
    expect(maxActive()).toBe(1);
    // Each reply reflects exactly the messages handled before it.
    expect(await replies[9]).toEqual(seen.slice(0, 10));
    await actor.stop();
  });

  it('interleaves casts and calls in arrival order', async () => {
    const { actor, seen } = await startRecorder();
    actor.cast({ op: 'append', value: 1 });
    void actor.call({ op: 'append', value: 2 });
    actor.cast({ op: 'append', value: 3 });
    expect(await actor.call({ op: 'read' })).toEqual([1, 2, 3]);
    expect(seen).toEqual([1, 2, 3]);
    await actor.stop();
  });

  it('rejects a call that outlives its timeout with ETIMEDOUT and keeps serving', async () => {
    const { actor } = await startRecorder();
    const gate = deferred();
    const slow = actor.call({ op: 'wait', until: gate.promise }, { timeoutMs: 30 });
    await expect(slow).rejects.toSatisfy((err) => isScopeFsError(err, 'ETIMEDOUT'));
    await expect(slow).rejects.toThrow(/timed out after 30 ms/);
    gate.resolve();
    expect(await actor.call({ op: 'append', value: 7 })).toEqual([7]);
    expect(actor.status).toBe('running');
    await actor.stop();
  });

  it('never times out a call with an Infinity timeout', async () => {
    const { actor } = await startRecorder();
    const gate = deferred();
    const reply = actor.call({ op: 'wait', until: gate.promise }, { timeoutMs: Infinity });
    // Node would run a too-long timer after 1 ms; a few turns later the call must still be pending.
    const settledEarly = await raceTimeout(reply, 20).then((timedOut) => !timedOut);
    expect(settledEarly).toBe(false);
    gate.resolve();
    await expect(reply).resolves.toEqual([]);
    await actor.stop();
  });
});

describe('Actor lifecycle', () => {
  it('runs init before any message and terminate with the stop reason', async () => {
    const events: string[] = [];
    const init = deferred();
    const actor = new Actor<string>({
      init: async () => {
        await init.promise;
        events.push('init');
      },
      handleCall: (message) => events.push(`call:${message}`),
      terminate: (reason) => void events.push(`terminate:${String(reason)}`),
    });
    const starting = actor.start();
    const early = actor.call('early'); // queued while init runs
    expect(actor.status).toBe('starting');
    init.resolve();
    await starting;
    await early;
    await actor.stop('shutdown');
    expect(events).toEqual(['init', 'call:early', 'terminate:shutdown']);
    expect(actor.status).toBe('stopped');
  });

  it('rejects start when init throws and reports the crash', async () => {
    const actor = new Actor({ init: () => Promise.reject(new Error('no database')), handleCall: () => 1 });
    const exit = exitOf(actor);
    await expect(actor.start()).rejects.toThrow('no database');
    expect(actor.status).toBe('crashed');
    expect(String(await exit)).toContain('no database');
    await expect(actor.call('x')).rejects.toSatisfy((err) => isScopeFsError(err, 'ESTOPPED'));
  });

  it('waits for init before terminating when stopped during init', async () => {
    const events: string[] = [];
    const init = deferred();
    const actor = new Actor({
      init: async () => {
        await init.promise;
        events.push('init');
      },
      handleCall: () => undefined,
      terminate: () => void events.push('terminate'),
    });
    const starting = actor.start();
    const stopping = actor.stop('shutdown');
    await nextMacrotask(); // time enough for a terminate that does not wait
    expect(events).toEqual([]);
    init.resolve();
    await Promise.all([starting, stopping]);
    expect(events).toEqual(['init', 'terminate']);
    expect(actor.status).toBe('stopped');
  });

  it('tells a listener that subscribes after the exit', async () => {
    const actor = await Actor.start({ handleCall: () => undefined });
    await actor.stop('shutdown');
    await expect(exitOf(actor)).resolves.toBe('shutdown');
  });
});

describe('Actor crashes', () => {
  function startFragile() {
    const gate = deferred();
    const terminated: ExitReason[] = [];
    return {
      gate,
      terminated,
      actor: Actor.start<string>({
        async handleCall(message) {
          if (message === 'wait') await gate.promise;
          if (message === 'boom') throw new Error('disk on fire');
          if (message === 'missing') throw fsErrors.notFound('/a.md');
          if (message === 'throw-string') throw 'not an Error';
          return `ok:${message}`;
        },
        terminate: (reason) => void terminated.push(reason),
      }, { name: 'fragile' }),
    };
  }

  it('crashes on a throwing handler: the caller and every queued call get ESTOPPED', async () => {
    const { actor: starting, gate, terminated } = startFragile();
    const actor = await starting;
    const exit = exitOf(actor);
    const blocker = actor.call('wait');
    const crashing = actor.call('boom');
    const queued = actor.call('after');
    gate.resolve();
    await expect(blocker).resolves.toBe('ok:wait');
    await expect(crashing).rejects.toThrow(/ESTOPPED: actor fragile crashed handling this call: disk on fire/);
    await expect(queued).rejects.toThrow(/ESTOPPED: actor fragile stopped \(crash: disk on fire\) before handling this call/);
    const reason = await exit;
    expect(reason).toBeInstanceOf(Error);
    expect(isAbnormal(reason)).toBe(true);
    expect(terminated).toEqual([reason]);
    expect(actor.status).toBe('crashed');
    await expect(actor.call('later')).rejects.toSatisfy((err) => isScopeFsError(err, 'ESTOPPED'));
  });

  it('turns a thrown non-Error into an Error reason', async () => {
    const actor = await startFragile().actor;
    const exit = exitOf(actor);
    await expect(actor.call('throw-string')).rejects.toThrow(/not an Error/);
    expect(await exit).toEqual(new Error('not an Error'));
  });

  it('answers expected ScopeFsErrors without crashing', async () => {
    const actor = await startFragile().actor;
    await expect(actor.call('missing')).rejects.toSatisfy((err) => isScopeFsError(err, 'ENOENT'));
    expect(actor.status).toBe('running');
    await expect(actor.call('still-here')).resolves.toBe('ok:still-here');
    await actor.stop();
  });

  it('crashes on a throwing cast handler', async () => {
    const actor = await Actor.start<never, string>({
      handleCall: () => undefined,
      handleCast: () => {
        throw new Error('bad cast');
      },
    });
    const exit = exitOf(actor);
    actor.cast('x');
    expect(String(await exit)).toContain('bad cast');
    actor.cast('dropped'); // a stopped actor drops casts silently
  });
});

describe('Actor exit and stop', () => {
  it('exit() inside a handler takes effect once the handler returns', async () => {
    const actorRef: { current?: Actor<string> } = {};
    const actor = await Actor.start<string>({
      handleCall: (message) => {
        if (message === 'quit') actorRef.current!.exit('normal');
        return `done:${message}`;
      },
    });
    actorRef.current = actor;
    const exit = exitOf(actor);
    const quitting = actor.call('quit');
    const queued = actor.call('next');
    await expect(quitting).resolves.toBe('done:quit');
    await expect(queued).rejects.toSatisfy((err) => isScopeFsError(err, 'ESTOPPED'));
    expect(await exit).toBe('normal');
    expect(actor.status).toBe('stopped');
  });

  it('exit() from outside stops an idle actor now, with that reason', async () => {
    const terminated: ExitReason[] = [];
    const actor = await Actor.start({ handleCall: () => 1, terminate: (reason) => void terminated.push(reason) });
    const exit = exitOf(actor);
    const reason = new Error('operator pulled the plug');
    actor.exit(reason);
    expect(actor.status).toBe('stopping');
    await expect(actor.call('x')).rejects.toSatisfy((err) => isScopeFsError(err, 'ESTOPPED'));
    expect(await exit).toBe(reason);
    expect(terminated).toEqual([reason]);
    expect(actor.status).toBe('crashed');
  });

  it('exit() from outside while a handler runs waits for that handler', async () => {
    const gate = deferred();
    const actor = await Actor.start({ handleCall: () => gate.promise.then(() => 'finished') });
    const exit = exitOf(actor);
    const running = actor.call('x');
    await nextMacrotask(); // the handler is now awaiting the gate
    actor.exit('shutdown');
    expect(actor.status).toBe('running');
    gate.resolve();
    await expect(running).resolves.toBe('finished');
    expect(await exit).toBe('shutdown');
  });

  it('kills an actor whose terminate does not finish within the stop timeout', async () => {
    const actor = await Actor.start({ handleCall: () => 1, terminate: () => new Promise<void>(() => {}) });
    const exit = exitOf(actor);
    await actor.stop('shutdown', 50);
    expect(await exit).toBe('killed');
    expect(actor.status).toBe('crashed');
  });

  it('kills an actor whose current handler hangs past the stop timeout', async () => {
    const actor = await Actor.start({ handleCall: () => new Promise(() => {}) });
    const hung = actor.call('hang', { timeoutMs: Infinity });
    await nextMacrotask();
    await actor.stop('shutdown', 50);
    expect(await exitOf(actor)).toBe('killed');
    // The hung call is abandoned by the actor, so it never settles; nothing to await.
    void hung;
  });

  it('does not force a stop with an Infinity timeout', async () => {
    const gate = deferred();
    const actor = await Actor.start({ handleCall: () => 1, terminate: () => gate.promise });
    const stopping = actor.stop('shutdown', Infinity);
    expect(await raceTimeout(stopping, 20)).toBe(true); // still waiting for terminate
    gate.resolve();
    await stopping;
    expect(await exitOf(actor)).toBe('shutdown');
  });

  it('returns the same promise for repeated stops', async () => {
    const actor = await Actor.start({ handleCall: () => 1 });
    expect(actor.stop()).toBe(actor.stop('shutdown'));
    await actor.stop();
    expect(await exitOf(actor)).toBe('normal');
  });
});
