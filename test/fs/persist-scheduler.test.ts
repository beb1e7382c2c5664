import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PersistScheduler } from '../../src/fs/persist-scheduler.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('PersistScheduler', () => {
  it('a debounce fires once, restarted by every call', () => {
    const due: string[] = [];
    const scheduler = new PersistScheduler((key) => due.push(key));
    scheduler.debounce('/a', 100);
    vi.advanceTimersByTime(90);
    scheduler.debounce('/a', 100);
    vi.advanceTimersByTime(90);
    expect(due).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(due).toEqual(['/a']);
    expect(scheduler.size).toBe(0);
  });

  it('retries back off exponentially up to the cap, with at most 20% jitter, and reset on success', () => {
    const scheduler = new PersistScheduler(() => undefined, { initialMs: 100, maxMs: 1_000 });
    const delays = Array.from({ length: 6 }, () => scheduler.retryLater('/a'));
    const nominal = [100, 200, 400, 800, 1_000, 1_000];
    delays.forEach((delay, i) => {
      expect(delay).toBeLessThanOrEqual(nominal[i]!);
      expect(delay).toBeGreaterThanOrEqual(nominal[i]! * 0.8);
    });
    scheduler.succeeded('/a');
    expect(scheduler.retryLater('/a')).toBeLessThanOrEqual(100);
    scheduler.clear();
  });

  it('a moved timer keeps its deadline and fires under the new key', () => {
    const due: string[] = [];
    const scheduler = new PersistScheduler((key) => due.push(key));
    scheduler.debounce('/old', 100);
    vi.advanceTimersByTime(70);
    scheduler.move('/old', '/new');
    expect(scheduler.has('/old')).toBe(false);
    vi.advanceTimersByTime(29);
    expect(due).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(due).toEqual(['/new']);
  });

  it('cancel and forget stop a timer', () => {
    const due: string[] = [];
    const scheduler = new PersistScheduler((key) => due.push(key));
    scheduler.debounce('/a', 10);
    scheduler.retryLater('/b');
    scheduler.cancel('/a');
    scheduler.forget('/b');
    vi.advanceTimersByTime(60_000);
    expect(due).toEqual([]);
  });
});
