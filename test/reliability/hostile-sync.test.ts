/**
 * Hostile inputs around what gets synced: denylist evasions
 * (corpus/denylist.json), malformed sync-config.json (corpus/sync-configs.json),
 * links leading out of the root (corpus/links.json) and hostile contents
 * edited on both sides at once (the `concurrent` cases of corpus/contents.json).
 * No secret may reach the store, nothing outside the root may change, no
 * actor may crash, and a concurrent edit ends merged or in a conflict copy.
 *
 * A corpus case with a `knownBug` field documents an open engine bug (named
 * there and listed in docs/reliability.md): it runs as `it.fails`, so it
 * turns red the day the bug is fixed and the marker must go.
 */
import Database from 'better-sqlite3';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import type { RunningScope } from '../../supervisors/scope/scopes.js';
import { loadCorpus } from './harness/corpus.js';
import { SECRET, Sandbox } from './harness/sandbox.js';
import { printFigures } from './harness/settings.js';

interface DenyCase {
  name: string;
  path: string;
}

interface ConfigCase {
  name: string;
  text?: string;
  base64?: string;
  expect: 'paused' | 'valid' | 'any';
  knownBug?: string;
}

interface LinkCase {
  name: string;
  kind: 'symlink' | 'hardlink';
  at: string;
  target: string;
  when: 'before-start' | 'while-running';
  write?: string;
  move?: string;
  knownBug?: string;
}

interface ConcurrentCase {
  name: string;
  path: string;
  content: string | Uint8Array;
  concurrent?: {
    local: string | Uint8Array;
    remote: string | Uint8Array;
    expect: 'merged' | 'conflict';
    merged?: string | Uint8Array;
  };
  knownBug?: string;
}

const INCLUDE_ALL = '{"syncFilePatterns": ["**"]}';
const WAIT_MS = 15_000;
const figures = { denylistInputs: 0, configInputs: 0, linkInputs: 0, concurrentEdits: 0 };
afterAll(() => printFigures('hostile-sync', figures));

/** Polls a condition with a deadline (for state that no event announces). */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function liveStorePaths(sandbox: Sandbox): string[] {
  const db = new Database(sandbox.storeFile, { readonly: true });
  try {
    return (db.prepare('SELECT path FROM scopefs_files WHERE deleted = 0').all() as Array<{ path: string }>).map((r) => r.path);
  } finally {
    db.close();
  }
}

describe('denylist evasions never reach the store', () => {
  let sandbox: Sandbox;
  let viaApi: RunningScope;
  let viaDisk: RunningScope;
  let sentinels = 0;

  beforeAll(async () => {
    sandbox = await Sandbox.create();
    for (const name of ['api', 'disk']) {
      await mkdir(sandbox.rootOf(name), { recursive: true });
      await writeFile(join(sandbox.rootOf(name), 'sync-config.json'), INCLUDE_ALL);
    }
    viaApi = await sandbox.start('api');
    viaDisk = await sandbox.start('disk', { scope: { watch: true } });
  });
  afterAll(() => sandbox.remove());

  for (const [i, { name, path }] of loadCorpus<DenyCase>('denylist.json').entries()) {
    it(name, async () => {
      figures.denylistInputs++;
      const written = await viaApi.fs.writeFile(path, `${SECRET} #${i}`).then(
        () => true,
        (err: unknown) => {
          if (!isScopeFsError(err)) throw err;
          return false; // a typed refusal is a fine ending
        },
      );
      // A secret as sync-config.json is a malformed config: sync pauses. Put the real one back.
      if (path === '/sync-config.json') await viaApi.fs.writeFile(path, INCLUDE_ALL);
      await viaApi.sync!.idle({ timeoutMs: WAIT_MS });
      if (written && path !== '/sync-config.json') await dropOnDisk(path, `${SECRET} on disk #${i}`);
      expect(await sandbox.violations([path])).toEqual([]);
    });
  }

  /**
   * Another program writes the file under the watched root, then a sentinel;
   * once the instance has the sentinel, the watcher has handled the file too
   * (taken it in, or ignored it as editor junk).
   */
  async function dropOnDisk(path: string, content: string): Promise<void> {
    const real = join(sandbox.rootOf('disk'), ...path.split('/'));
    await mkdir(dirname(real), { recursive: true });
    await writeFile(real, content);
    const sentinel = `/sentinel-${++sentinels}.md`;
    await writeFile(join(sandbox.rootOf('disk'), sentinel), 'written after the dropped file');
    await until(() => viaDisk.fs.fileExists(sentinel), `the watcher to pick up ${sentinel}`);
    await viaDisk.sync!.idle({ timeoutMs: WAIT_MS });
  }
});

describe('malformed sync-config.json pauses sync with a clear error', () => {
  for (const testCase of loadCorpus<ConfigCase>('sync-configs.json')) {
    // knownBug cases document an open bug (see the file comment).
    (testCase.knownBug ? it.fails : it)(testCase.name, async () => {
      figures.configInputs++;
      const sandbox = await Sandbox.create();
      try {
        const root = sandbox.rootOf('a');
        await mkdir(join(root, 'certs'), { recursive: true });
        const config = testCase.base64 === undefined ? testCase.text! : Buffer.from(testCase.base64, 'base64');
        await writeFile(join(root, 'sync-config.json'), config);
        await writeFile(join(root, '.env'), `${SECRET} env`);
        await writeFile(join(root, 'certs', 'server.pem'), `${SECRET} pem`);
        await writeFile(join(root, 'notes.md'), 'ordinary notes');
        const a = await sandbox.start('a');
        await until(async () => ['paused', 'live'].includes((await a.sync!.status()).state), 'sync to settle in a state');
        const status = await a.sync!.status();
        if (testCase.expect === 'paused') expect(status.state, JSON.stringify(status)).toBe('paused');
        if (testCase.expect === 'valid') expect(status.state, JSON.stringify(status)).toBe('live');
        if (status.state === 'paused') {
          expect(status.pausedReason ?? status.error).toMatch(/sync-config\.json/);
          expect(liveStorePathsOrNone(sandbox)).toEqual([]);
          await a.fs.writeFile('/sync-config.json', INCLUDE_ALL); // fixing the config resumes sync
        }
        await a.sync!.idle({ timeoutMs: WAIT_MS });
        expect(liveStorePaths(sandbox)).toContain('/notes.md');
        expect(await sandbox.violations(['/.env', '/certs/server.pem'])).toEqual([]);
      } finally {
        await sandbox.remove();
      }
    }, 30_000);
  }

  function liveStorePathsOrNone(sandbox: Sandbox): string[] {
    try {
      return liveStorePaths(sandbox);
    } catch {
      return []; // no store file or no table yet: nothing was pushed
    }
  }
});

describe('links out of the root', () => {
  for (const testCase of loadCorpus<LinkCase>('links.json')) {
    // knownBug cases document an open bug (see the file comment).
    (testCase.knownBug ? it.fails : it)(testCase.name, async () => {
      figures.linkInputs++;
      const sandbox = await Sandbox.create();
      try {
        const root = sandbox.rootOf('a');
        await mkdir(root, { recursive: true });
        if (testCase.when === 'before-start') await makeLink(sandbox, testCase);
        const a = await sandbox.start('a', { scope: { watch: true } });
        await a.sync!.idle({ timeoutMs: WAIT_MS }); // the startup reconciliation has pushed what it would
        // A later write replaces the row; a secret that reached the store even once has leaked.
        const leakedAtStart = sandbox.storeLeaks();
        if (testCase.when === 'while-running') {
          await makeLink(sandbox, testCase);
          // The watcher sees the link before this later file, or at the same time.
          await writeFile(join(root, 'sentinel.md'), 'written after the link');
          await until(() => a.fs.fileExists('/sentinel.md'), 'the watcher to pick up the sentinel');
        }
        if (testCase.write) await tolerateTyped(a.fs.writeFile(testCase.write, 'planted through a link'));
        if (testCase.move) await tolerateTyped(a.fs.moveFile(testCase.write!, testCase.move));
        await a.fs.flushAll();
        await a.sync!.idle({ timeoutMs: WAIT_MS });
        expect([...leakedAtStart, ...(await sandbox.violations())]).toEqual([]);
      } finally {
        await sandbox.remove();
      }
    }, 30_000);
  }

  async function makeLink(sandbox: Sandbox, testCase: LinkCase): Promise<void> {
    const at = join(sandbox.rootOf('a'), testCase.at);
    const target = testCase.target.replace('$outside', sandbox.outside);
    if (testCase.kind === 'symlink') await symlink(target, at);
    else await link(target, at);
  }

  async function tolerateTyped(work: Promise<unknown>): Promise<void> {
    await work.catch((err: unknown) => {
      if (!isScopeFsError(err)) throw err;
    });
  }
});

describe('hostile contents edited on both sides at once', () => {
  const bytes = (content: string | Uint8Array) => Buffer.from(content);

  for (const testCase of loadCorpus<ConcurrentCase>('contents.json').filter((c) => c.concurrent)) {
    (testCase.knownBug ? it.fails : it)(testCase.name, async () => {
      figures.concurrentEdits++;
      const { path, content, concurrent } = testCase;
      const { local, remote, expect: outcome, merged } = concurrent!;
      const sandbox = await Sandbox.create();
      try {
        const [a, b] = [await sandbox.start('a'), await sandbox.start('b')];
        await a.fs.writeFile(path, content);
        await a.sync!.idle({ timeoutMs: WAIT_MS });
        await b.sync!.idle({ timeoutMs: WAIT_MS });
        await a.sync!.pause();
        await a.fs.writeFile(path, local);
        await b.fs.writeFile(path, remote);
        await b.sync!.idle({ timeoutMs: WAIT_MS });
        await a.sync!.resume();
        for (const scope of [a, b, a, b]) await scope.sync!.idle({ timeoutMs: WAIT_MS });
        const status = await a.sync!.status();
        expect(status.failedPaths, JSON.stringify(status)).toEqual([]);
        const onA = bytes(await a.fs.readFile(path, { encoding: 'bytes' }));
        if (outcome === 'merged') {
          expect(status.conflicts).toEqual([]);
          expect(onA.equals(bytes(merged!)), `merged ${path}: ${onA.toString('utf8').slice(0, 300)}`).toBe(true);
          expect(bytes(await b.fs.readFile(path, { encoding: 'bytes' })).equals(onA)).toBe(true);
        } else {
          expect(status.conflicts).toEqual([path]);
          const [conflict] = await a.sync!.conflicts();
          expect(onA.equals(bytes(local))).toBe(true);
          expect(bytes(await a.fs.readFile(conflict!.copyPath, { encoding: 'bytes' })).equals(bytes(remote))).toBe(true);
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(await sandbox.violations()).toEqual([]);
      } finally {
        await sandbox.remove();
      }
    }, 60_000);
  }
});
