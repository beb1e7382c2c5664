/**
 * 1,000 updates to one file within the debounce window must cause exactly one
 * persisted write, holding the last content. Counted by the MemoryDriver's
 * write counter, in each durability mode that debounces.
 */
import { join } from 'node:path';
import { MemoryDriver } from '../persistence/drivers/memory.js';
import { FileSystemServer } from '../src/fs/file-system-server.js';
import type { Durability } from '../src/types.js';
import { fmt, goalRow, runIfMain, waitFor, withTempDir, type BenchRow } from './lib.js';

const UPDATES = 1_000;
const DEBOUNCE_MS = 1_000;
const PATH = '/bench/hot.md';

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const durability of ['journal', 'debounced'] as const) rows.push(...(await countPersists(durability)));
  return rows;
}

async function countPersists(durability: Durability): Promise<BenchRow[]> {
  return withTempDir('debounce', async (dir) => {
    const driver = new MemoryDriver();
    const server = await FileSystemServer.start({
      configs: [{ base: '/', default: true, driver }],
      durability,
      journalPath: join(dir, 'journal'),
      debounceMs: DEBOUNCE_MS,
    });
    try {
      await server.writeFile(PATH, 'created'); // a new file persists at once
      await waitFor(() => driver.writes === 1, 10_000, 'the creation to persist');

      const start = performance.now();
      for (let i = 1; i <= UPDATES; i++) await server.writeFile(PATH, `update ${i}`);
      const burstMs = performance.now() - start;

      await waitFor(() => driver.writes > 1, DEBOUNCE_MS + 10_000, 'the debounced persist');
      const firedAfterMs = performance.now() - start;
      // Give a stray second timer every chance to fire before counting.
      await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS * 2));
      const persists = driver.writes - 1;
      const last = driver.peekText(PATH) === `update ${UPDATES}`;
      const bench = `debounce (${durability})`;
      return [
        { bench, metric: `${UPDATES} updates took`, value: `${fmt.ms(burstMs)} (window ${DEBOUNCE_MS} ms)` },
        { bench, metric: 'persist fired after the first update', value: fmt.ms(firedAfterMs) },
        goalRow(bench, `persisted writes for ${UPDATES} updates`, persists, String(persists), { min: 1, max: 1, text: '= 1' }),
        goalRow(bench, 'persisted content is the last update', last ? 1 : 0, last ? 'yes' : 'no', { min: 1, text: 'yes' }),
      ];
    } finally {
      await server.stop();
    }
  });
}

await runIfMain(import.meta.url, run);
