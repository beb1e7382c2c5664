/** The half-written rule the disk watcher and every disk check share (src/fs/settling.ts), as a pure function. */
import { describe, expect, it } from 'vitest';
import { MAX_SETTLE_MS, SETTLE_MS, settleDelay } from '../../src/fs/settling.js';

describe('settleDelay', () => {
  const now = 1_000_000;
  it('takes a file still for SETTLE_MS as it is', () => {
    expect(settleDelay(now - SETTLE_MS, now, now)).toBe(0);
    expect(settleDelay(now - 10 * SETTLE_MS, now, now)).toBe(0);
  });

  it('waits until a file modified a moment ago has been still SETTLE_MS', () => {
    expect(settleDelay(now, now, now)).toBe(SETTLE_MS);
    expect(settleDelay(now - 20, now, now)).toBe(SETTLE_MS - 20);
  });

  it('takes a file that never stays still as it is once put off MAX_SETTLE_MS, waiting no longer than that', () => {
    const since = now - MAX_SETTLE_MS;
    expect(settleDelay(now, since, now)).toBe(0);
    expect(settleDelay(now, since + 10, now)).toBe(10);
  });

  it('takes a modification time in the future (stamped by hand, another clock) as settled', () => {
    expect(settleDelay(now + 5_000, now, now)).toBe(0);
  });
});
