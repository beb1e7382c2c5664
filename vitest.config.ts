import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Two phases. Most test files run in parallel; files named
 * `*.serial.test.ts` take over a shared resource (they restart the local
 * PostgreSQL server, for instance), so they run afterwards, one at a time.
 */
const SERIAL = 'test/**/*.serial.test.ts';

export default defineConfig({
  resolve: {
    // Tests exercise the sources; `import ... from 'scopefs'` resolves to them.
    // `scopefs/<entry>` (postgres, supabase, http, mcp) to src/entries/<entry>.ts.
    alias: [
      { find: /^scopefs$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^scopefs\/(postgres|supabase|http|mcp)$/, replacement: fileURLToPath(new URL('./src/entries/$1.ts', import.meta.url)) },
    ],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // expect.poll waits for what real processes and a real browser do: vitest's 1 s default
    // is shorter than a page's first render on this loaded 2-core machine (a CI failure).
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'parallel', include: ['test/**/*.test.ts', 'dashboard/test/**/*.test.ts'], exclude: [SERIAL], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'serial', include: [SERIAL], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
