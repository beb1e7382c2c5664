import { afterEach, describe, expect, it } from 'vitest';
import { TURN_BUDGET_MS, overBudget } from '../../supervisors/runtime/turn-budget.js';
import { READS_PER_BUDGET_CHECK } from '../../src/fs/file-system-server.js';
import { Servers } from './helpers.js';

const servers = new Servers();
afterEach(() => servers.stopAll());

describe('FileSystemServer: the fast-path read and the event loop', () => {
  it('lets a timer run while a caller reads a loaded file in a tight loop', async () => {
    const fs = await servers.start();
    await fs.writeFile('/hot.md', 'hot');
    let timerRan = false;
    setTimeout(() => (timerRan = true), 0);
    // Every read is answered without the mailbox; without the turn budget the
    // loop would run on microtasks alone and the timer would never get a turn.
    let reads = 0;
    const deadline = performance.now() + 2_000;
    while (!timerRan && performance.now() < deadline) {
      expect(await fs.readFile('/hot.md')).toBe('hot');
      reads++;
    }
    expect(timerRan).toBe(true);
    expect(reads).toBeGreaterThan(0);
  });

  it('keeps a read that waits for its turn ahead of a write sent after it', async () => {
    const fs = await servers.start();
    await fs.writeFile('/f.md', 'before');
    await new Promise((resolve) => setImmediate(resolve)); // the mailbox is idle again
    // Spend the budget, so the next read waits for the event loop.
    overBudget(); // starts the burst, unless one is running
    const spendUntil = performance.now() + TURN_BUDGET_MS + 1;
    while (performance.now() < spendUntil);
    // The budget is checked every READS_PER_BUDGET_CHECK reads, so one of these checks it.
    const reads = Array.from({ length: READS_PER_BUDGET_CHECK + 1 }, () => fs.readFile('/f.md'));
    const write = fs.writeFile('/f.md', 'after');
    const answered: number[] = [];
    reads.forEach((read, i) => void read.then(() => answered.push(i)));
    for (let i = 0; i < 20; i++) await Promise.resolve(); // microtasks only: no turn of the event loop
    expect(answered.length).toBeLessThan(reads.length); // the read that checked waits for the turn
    expect(await Promise.all(reads)).toEqual(reads.map(() => 'before'));
    expect(answered).toEqual(reads.map((_, i) => i)); // in the order they were made
    await write;
    expect(await fs.readFile('/f.md')).toBe('after');
  });
});
