/** The page's event hub (lib/event-hub.ts): every event to every subscriber, and a replay for a view opened late. */
import { describe, expect, it } from 'vitest';
import { EventHub } from '../src/lib/event-hub.js';

describe('EventHub', () => {
  it('hands a view that subscribes late, asking for a replay, what arrived before it, then what follows', () => {
    const hub = new EventHub<string>();
    const early: string[] = [];
    hub.subscribe((e) => early.push(e));
    hub.publish('a');
    hub.publish('b'); // arrives while the late view is still rendering
    const late: string[] = [];
    hub.subscribe((e) => late.push(e), { replay: true });
    hub.publish('c');
    expect(late).toEqual(['a', 'b', 'c']);
    expect(early).toEqual(['a', 'b', 'c']);
  });

  it('replays nothing unless asked, keeps only the latest events, and stops after unsubscribe', () => {
    const hub = new EventHub<number>(3);
    for (let i = 1; i <= 5; i++) hub.publish(i);
    const plain: number[] = [];
    const replayed: number[] = [];
    const stop = hub.subscribe((e) => plain.push(e));
    hub.subscribe((e) => replayed.push(e), { replay: true });
    hub.publish(6);
    stop();
    hub.publish(7);
    expect(plain).toEqual([6]);
    expect(replayed).toEqual([3, 4, 5, 6, 7]);
  });
});
