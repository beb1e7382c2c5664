import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallDeadlines } from '../../supervisors/runtime/call-deadlines.js';

interface Item {
  name: string;
  settled?: boolean;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function watch() {
  const expired: string[] = [];
  const deadlines = new CallDeadlines<Item>((item, timeoutMs) => {
    item.settled = true;
    expired.push(`${item.name}@${timeoutMs}`);
    deadlines.settled();
  });
  const add = (name: string, timeoutMs: number): Item => {
    const item = { name };
    deadlines.add(item, timeoutMs);
    return item;
  };
  const settle = (item: Item) => {
    item.settled = true;
    deadlines.settled();
  };
  return { deadlines, expired, add, settle };
}

describe('CallDeadlines', () => {
  it('expires each unsettled item at its own deadline, across timeouts, and never a settled one', () => {
    const { expired, add, settle } = watch();
    const slow = add('slow', 5_000);
    add('a', 100);
    const b = add('b', 100);
    vi.advanceTimersByTime(50);
    add('c', 100); // deadline at 150
    settle(b);
    vi.advanceTimersByTime(60); // t = 110
    expect(expired).toEqual(['a@100']);
    vi.advanceTimersByTime(40); // t = 150
    expect(expired).toEqual(['a@100', 'c@100']);
    settle(slow);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual(['a@100', 'c@100']);
  });

  it('keeps the process alive only while an item is pending', () => {
    vi.useRealTimers();
    const { add, settle } = watch();
    const alive = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const before = alive();
    const items = Array.from({ length: 1000 }, (_, i) => add(`i${i}`, 5_000));
    expect(alive()).toBe(before + 1);
    for (const item of items) settle(item);
    expect(alive()).toBe(before);
    const again = add('again', 5_000);
    expect(alive()).toBe(before + 1);
    settle(again);
    expect(alive()).toBe(before);
  });

  it('keeps expiring the long-pending one while many quick calls come and go', () => {
    const { expired, add, settle } = watch();
    add('stuck', 1_000);
    for (let i = 0; i < 50_000; i++) settle(add(`quick${i}`, 1_000));
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(['stuck@1000']);
  });
});
