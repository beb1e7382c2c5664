/**
 * A path sync cannot handle must end, not loop: a merge of hostile content
 * (30,000 levels of JSON nesting overflowed the structural merge's stack and
 * was retried with backoff forever) falls back to a line merge and then to a
 * conflict copy; any other error stops being retried after the maximum
 * attempts and shows in status with its reason, until the file changes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SyncLab, type SyncedScope } from '../helpers/sync-scopes.js';

const DEPTH = 30_000;
const deep = (leaf: string) => `${'{"a":'.repeat(DEPTH)}${leaf}${'}'.repeat(DEPTH)}`;

let lab: SyncLab;
afterEach(() => lab?.remove());

async function twoInstances(options = {}): Promise<[SyncedScope, SyncedScope]> {
  lab = await SyncLab.create();
  return [await lab.start('a', options), await lab.start('b', options)];
}

describe('merging hostile content ends in a merge or a conflict, never in endless retries', () => {
  it('30,000 levels of JSON edited on both sides become a conflict copy', async () => {
    const [a, b] = await twoInstances();
    await a.fs.writeFile('/deep.json', deep('0'));
    await lab.settle(a, b);
    await lab.editConcurrently(a, b, async () => {
      await a.fs.writeFile('/deep.json', deep('1'));
      await b.fs.writeFile('/deep.json', deep('2'));
    });
    await lab.settle(a, b);
    const status = await a.sync!.status();
    expect(status.failedPaths).toEqual([]);
    expect(status.conflicts).toEqual(['/deep.json']);
    const [conflict] = await a.sync!.conflicts();
    expect(await a.fs.readFile('/deep.json')).toBe(deep('1'));
    expect(await a.fs.readFile(conflict!.copyPath)).toBe(deep('2'));
  });

  it('edits of separate lines of a too-deep JSON document merge by lines, and the result is JSON', async () => {
    const [a, b] = await twoInstances();
    const doc = (x: number, y: number) => `{\n "deep": ${deep('0')},\n "x": ${x},\n "between": 0,\n "y": ${y}\n}\n`;
    await a.fs.writeFile('/deep.json', doc(1, 1));
    await lab.settle(a, b);
    await lab.editConcurrently(a, b, async () => {
      await a.fs.writeFile('/deep.json', doc(2, 1));
      await b.fs.writeFile('/deep.json', doc(1, 3));
    });
    await lab.settle(a, b);
    for (const scope of [a, b]) {
      expect(await scope.sync!.conflicts()).toEqual([]);
      expect(await scope.fs.readFile('/deep.json')).toBe(doc(2, 3));
    }
  });
});

describe('a path that keeps failing', () => {
  it('is given up on after the maximum attempts, with its reason in status, and retried once it changes', async () => {
    const [a, b] = await twoInstances({ maxFileBytes: 16, retry: { maxAttempts: 3, initialMs: 5, maxMs: 20 } });
    await a.fs.writeFile('/big.md', 'more than sixteen bytes, so every push fails');
    // Retries are timer-driven and no event says "given up": poll the status they end in, with a deadline.
    const deadline = Date.now() + 10_000;
    let status = await a.sync!.status();
    while (!status.gaveUp && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      status = await a.sync!.status();
    }
    const gaveUp = status.gaveUp;
    expect(gaveUp).toEqual([expect.objectContaining({ path: '/big.md', attempts: 3, gaveUp: true, error: expect.stringMatching(/16/) })]);
    // No more attempts: the count stays at the maximum while other work goes on.
    await a.fs.writeFile('/small.md', 'fits');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/small.md')).toBe('fits');
    expect((await a.sync!.status()).gaveUp?.[0]?.attempts).toBe(3);
    // A change of the file is a new chance.
    await a.fs.writeFile('/big.md', 'now fits');
    await lab.settle(a, b);
    expect(await b.fs.readFile('/big.md')).toBe('now fits');
    status = await a.sync!.status();
    expect(status.failedPaths).toEqual([]);
    expect(status.gaveUp).toBeUndefined();
  });
});
