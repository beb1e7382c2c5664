/**
 * The actor runtime's turn budget (issue 21): callers awaiting an actor in a
 * tight loop are answered through microtasks only, so without it nothing
 * else in the process would ever run.
 */
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Actor } from '../../supervisors/runtime/actor.js';
import { TURN_BUDGET_MS } from '../../supervisors/runtime/turn-budget.js';

type Message = { n: number };

const actors: Actor<Message>[] = [];
afterEach(async () => {
  await Promise.all(actors.splice(0).map((actor) => actor.stop()));
});

/** An actor whose handler answers at once (synchronously), recording what it handled. */
async function startEcho(): Promise<{ actor: Actor<Message>; handled: number[] }> {
  const handled: number[] = [];
  const actor = await Actor.start<Message>({
    handleCall: ({ n }) => {
      handled.push(n);
      return n;
    },
    handleCast: ({ n }) => void handled.push(n),
  });
  actors.push(actor);
  return { actor, handled };
}

/** Spins for `ms`: a handler that does real work. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** Counts event-loop turns (check phases) until stopped. */
function turnCounter(): { readonly turns: number; stop(): void } {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turns() {
      return turns;
    },
    stop: () => void (running = false),
  };
}

describe('Actor: the turn budget', () => {
  it('lets a setInterval fire while a caller awaits calls in a tight loop', async () => {
    const { actor } = await startEcho();
    let ticks = 0;
    const interval = setInterval(() => ticks++, 1);
    const deadline = performance.now() + 2_000;
    let calls = 0;
    try {
      // Without the budget this loop runs on microtasks alone: the interval never fires and it ends at the deadline.
      while (ticks < 5 && performance.now() < deadline) await actor.call({ n: calls++ });
    } finally {
      clearInterval(interval);
    }
    expect(ticks).toBe(5);
    expect(calls).toBeGreaterThan(5);
  });

  it('handles and answers calls and casts in arrival order across turns', async () => {
    const handled: number[] = [];
    const actor = await Actor.start<Message>({
      handleCall: ({ n }) => {
        spin(0.05); // 100 of these outlast a budget several times over
        handled.push(n);
        return n;
      },
      handleCast: ({ n }) => void handled.push(n),
    });
    actors.push(actor);
    const counter = turnCounter();
    const answered: number[] = [];
    const replies: Promise<unknown>[] = [];
    for (let n = 0; n < 1_000; n++) {
      if (n % 10 === 0) actor.cast({ n });
      else replies.push(actor.call<number>({ n }).then((value) => answered.push(value)));
    }
    await Promise.all(replies);
    counter.stop();
    const sent = Array.from({ length: 1_000 }, (_, n) => n);
    expect(handled).toEqual(sent);
    expect(answered).toEqual(sent.filter((n) => n % 10 !== 0));
    expect(counter.turns).toBeGreaterThan(1); // the mailbox really did wait for the event loop in between
  });

  it('answers an isolated call without waiting for a setImmediate', async () => {
    const { actor } = await startEcho();
    // Spend the budget in an earlier turn: a call in a fresh turn still does not wait.
    const busyUntil = performance.now() + 3 * TURN_BUDGET_MS;
    while (performance.now() < busyUntil) await actor.call({ n: 0 });
    await nextMacrotask();
    let immediateRan = false;
    setImmediate(() => (immediateRan = true));
    expect(await actor.call({ n: 1 })).toBe(1);
    expect(immediateRan).toBe(false);
  });

  it('answers a call to a second actor within a turn while a first one is flooded', async () => {
    const flooded = await startEcho();
    const other = await startEcho();
    const counter = turnCounter();
    let flooding = true;
    const deadline = performance.now() + 3_000; // without the budget the timers below never fire
    const flood = (async () => {
      for (let n = 0; flooding && performance.now() < deadline; n++) await flooded.actor.call({ n });
    })();
    const waits: number[] = [];
    await new Promise((resolve) => setTimeout(resolve, 1));
    const floodedBefore = flooded.handled.length;
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const sentAt = counter.turns;
      await other.actor.call({ n: i });
      waits.push(counter.turns - sentAt);
    }
    const floodedDuring = flooded.handled.length - floodedBefore;
    const floodStillRunning = flooding && performance.now() < deadline;
    flooding = false;
    await flood;
    counter.stop();
    expect(floodStillRunning).toBe(true);
    expect(floodedDuring).toBeGreaterThan(20);
    // Sent from a timer, while the flood holds the budget: handled in that loop iteration's
    // check phase or the next one's, never later.
    expect(Math.max(...waits)).toBeLessThanOrEqual(2);
  });

  it('shares the budget between two flooded actors', async () => {
    const a = await startEcho();
    const b = await startEcho();
    const deadline = performance.now() + 300;
    const flood = async (actor: Actor<Message>) => {
      for (let n = 0; performance.now() < deadline; n++) await actor.call({ n });
    };
    await Promise.all([flood(a.actor), flood(b.actor)]);
    const [fewer, more] = [a.handled.length, b.handled.length].sort((x, y) => x - y);
    // Resumed together after each turn, they alternate message by message. (Resumed one
    // setImmediate each, the first would spend every budget and the second would get
    // one message per turn.)
    expect(fewer! / more!).toBeGreaterThan(0.5);
  });
});
