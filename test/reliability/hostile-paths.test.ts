/**
 * Hostile paths (corpus/paths.json) against every filesystem call, and SQL
 * metacharacters in names (corpus/sql-paths.json) through every SQL store.
 * Each input ends in a typed EINVAL, or in a file inside the root under its
 * literal, NFC name; nothing is written outside the root and no actor crashes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import type { RunningScope } from '../../supervisors/scope/scopes.js';
import { loadCorpus } from './harness/corpus.js';
import { Sandbox } from './harness/sandbox.js';
import { printFigures } from './harness/settings.js';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';


interface PathCase {
  name: string;
  path: unknown;
  expect: 'EINVAL' | { inside: string };
}

interface SqlPathCase {
  name: string;
  path: string;
}

const figures = { pathInputs: 0, callsTried: 0, sqlPathRoundTrips: 0 };
afterAll(() => printFigures('hostile-paths', figures));

/** Every call that takes a file path, given the hostile one. */
function callsWith(fs: RunningScope['fs'], path: unknown): Array<[string, () => Promise<unknown>]> {
  const p = path as string;
  return [
    ['writeFile', () => fs.writeFile(p, 'hostile')],
    ['appendFile', () => fs.appendFile(p, 'hostile')],
    ['editFile', () => fs.editFile(p, 'a', 'b')],
    ['readFile', () => fs.readFile(p)],
    ['deleteFile', () => fs.deleteFile(p)],
    ['fileExists', () => fs.fileExists(p)],
    ['stat', () => fs.stat(p)],
    ['moveFile onto it', () => fs.moveFile('/source.md', p)],
  ];
}

describe('hostile paths through the filesystem API', () => {
  let sandbox: Sandbox;
  let scope: RunningScope;

  beforeAll(async () => {
    sandbox = await Sandbox.create();
    scope = await sandbox.start('a');
    await scope.fs.writeFile('/source.md', 'the file moves try to move');
  });
  afterAll(() => sandbox.remove());

  for (const testCase of loadCorpus<PathCase>('paths.json')) {
    it(testCase.name, async () => {
      figures.pathInputs++;
      if (testCase.expect === 'EINVAL') {
        for (const [call, run] of callsWith(scope.fs, testCase.path)) {
          figures.callsTried++;
          const outcome = await run().then(
            (value) => `succeeded with ${JSON.stringify(value)}`,
            (err: unknown) => (isScopeFsError(err, 'EINVAL') ? 'EINVAL' : `failed with ${String(err)}`),
          );
          expect(outcome, `${call}(${JSON.stringify(testCase.path)})`).toBe('EINVAL');
        }
      } else {
        figures.callsTried++;
        await scope.fs.writeFile(testCase.path as string, 'landed inside');
        await scope.fs.flushAll();
        expect(await readFile(join(sandbox.rootOf('a'), testCase.expect.inside), 'utf8')).toBe('landed inside');
        await scope.fs.deleteFile(testCase.path as string);
      }
      expect(await sandbox.violations()).toEqual([]);
    });
  }
});

/** Writes every metacharacter path on `a` and checks `b` gets it intact. */
function sqlPathRoundTrips(storeUrl: (sandbox: Sandbox) => string): void {
  let sandbox: Sandbox;
  let a: RunningScope;
  let b: RunningScope;
  const cases = loadCorpus<SqlPathCase>('sql-paths.json');

  beforeAll(async () => {
    sandbox = await Sandbox.create();
    const sync = { store: storeUrl(sandbox) };
    [a, b] = await Promise.all([sandbox.start('a', { sync }), sandbox.start('b', { sync })]);
    for (const { path } of cases) await a.fs.writeFile(path, `content of ${path}`);
    await a.fs.writeFile('/100%/inside.md', 'under a percent directory');
    await a.fs.writeFile('/100x/other.md', 'must not match /100%');
    for (let round = 0; round < 2; round++) for (const s of [a, b]) await s.sync!.idle({ timeoutMs: 30_000 });
  }, 60_000);
  afterAll(() => sandbox.remove());

  for (const testCase of cases) {
    it(testCase.name, async () => {
      figures.sqlPathRoundTrips++;
      expect(await b.fs.readFile(testCase.path.normalize('NFC'))).toBe(`content of ${testCase.path}`);
    });
  }

  it('prefix listing treats % and _ literally', async () => {
    expect(await b.fs.listFiles('/100%')).toEqual(['/100%/inside.md']);
    expect(await sandbox.violations()).toEqual([]);
  });
}

describe('SQL metacharacters in paths, through SQLite', () => {
  sqlPathRoundTrips((sandbox) => sandbox.storeUrl);
});

describePostgres('SQL metacharacters in paths, through PostgreSQL', () => {
  const db = useTestDatabase('rel_sqlpaths');
  sqlPathRoundTrips(() => db.url);
});
