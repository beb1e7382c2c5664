/**
 * Hostile data: malformed rows written straight into the SQLite store's
 * scopefs_files table (corpus/store-rows.json) and hostile file contents
 * (corpus/contents.json). Every case ends in a typed error, in data that is
 * kept intact, or in a refusal the instance survives: nothing is written
 * outside the root, no actor crashes, and the instance keeps syncing.
 *
 * A corpus case with a `knownBug` field documents an open engine bug (named
 * there and listed in docs/reliability.md) and runs as `it.fails`.
 */
import Database from 'better-sqlite3';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { isScopeFsError } from '../../src/errors.js';
import type { RunningScope } from '../../supervisors/scope/scopes.js';
import { loadCorpus } from './harness/corpus.js';
import { Sandbox } from './harness/sandbox.js';
import { printFigures } from './harness/settings.js';

interface RowCase {
  name: string;
  row: Record<string, unknown>;
  head?: 'keep' | 'row' | '+1';
  localFirst?: string;
  expect: 'synced' | 'rejected' | 'ignored' | 'conflict' | 'paused' | 'any';
  knownBug?: string;
}

interface ContentCase {
  name: string;
  path: string;
  content: unknown;
  then?: 'edit';
  expect: 'roundtrip' | 'EFBIG' | 'EINVAL' | 'sync-failure' | 'disk-ignored' | 'any';
  knownBug?: string;
}

const APP = 'hostile';
const WAIT_MS = 15_000;
const FS_LIMIT = 4 * 1024 * 1024;
const SYNC_LIMIT = 2 * 1024 * 1024;
const DEFAULT_CONTENT = Buffer.from('content of a row nobody pushed through the engine');
const figures = { storeRowInputs: 0, contentInputs: 0 };
afterAll(() => printFigures('hostile-store', figures));

/** Polls a condition with a deadline (for state that no event announces). */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function settle(...scopes: RunningScope[]): Promise<void> {
  for (let round = 0; round < 2; round++) for (const s of scopes) await s.sync!.idle({ timeoutMs: WAIT_MS });
}

/** Files an instance serves, without the engine's own status files. */
async function userFiles(scope: RunningScope): Promise<string[]> {
  return (await scope.fs.listFiles('/')).filter((p) => !p.startsWith('/.sync-') && !p.startsWith('/application-state/'));
}

/** Writes one row as a hostile writer would: raw SQL, any types, optionally moving the head. */
function insertRow(storeFile: string, testCase: RowCase): void {
  const db = new Database(storeFile, { timeout: 10_000 });
  try {
    db.transaction(() => {
      const head = (db.prepare('SELECT head FROM scopefs_heads WHERE app = ?').get(APP) as { head: number } | undefined)?.head ?? 0;
      const content = testCase.row.content === undefined ? DEFAULT_CONTENT : testCase.row.content;
      const row: Record<string, unknown> = {
        app: APP,
        owner: '_shared',
        path: '/row.md',
        revision: head + 1,
        hash: content instanceof Uint8Array ? sha256(content) : null,
        size: content instanceof Uint8Array ? content.byteLength : 0,
        deleted: 0,
        content,
        updated_at: Date.now(),
        updated_by: 'hostile-writer',
        ...testCase.row,
      };
      const values = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v) : v]));
      db.prepare(`INSERT OR REPLACE INTO scopefs_files (${Object.keys(values).join(', ')}) VALUES (${Object.keys(values).map((k) => `@${k}`).join(', ')})`).run(values);
      const newHead = testCase.head === 'keep' ? head : testCase.head === 'row' ? row.revision : head + 1;
      db.prepare('INSERT INTO scopefs_heads (app, head) VALUES (?, ?) ON CONFLICT (app) DO UPDATE SET head = excluded.head').run(APP, newHead);
    })();
  } finally {
    db.close();
  }
}

/** What the instance recorded about refused remote data: failed paths, the status error and the failure log (on disk). */
async function refusalRecord(scope: RunningScope): Promise<string> {
  const status = await scope.sync!.status();
  const log = await readFile(join(scope.root!, '.sync-failures.json'), 'utf8').catch(() => '');
  return [...status.failedPaths, status.error ?? '', log === '[]' ? '' : log].join('').trim();
}

describe('malformed rows written straight into the SQLite store', () => {
  for (const testCase of loadCorpus<RowCase>('store-rows.json')) {
    (testCase.knownBug ? it.fails : it)(testCase.name, async () => {
      figures.storeRowInputs++;
      const sandbox = await Sandbox.create();
      try {
        const a = await sandbox.start('a', { sync: { maxFileBytes: SYNC_LIMIT } });
        const b = await sandbox.start('b');
        await settle(a, b);
        if (testCase.localFirst) {
          await a.sync!.pause();
          await a.fs.writeFile('/row.md', testCase.localFirst);
        }
        insertRow(sandbox.storeFile, testCase);
        if (testCase.localFirst) await a.sync!.resume();
        if (testCase.expect === 'paused') return await expectPausedAndServing(a, sandbox);
        await a.sync!.idle({ timeoutMs: WAIT_MS });
        await checkRowOutcome(a, testCase);
        // The instance keeps syncing whatever the bad row did.
        await b.fs.writeFile('/after.md', 'written after the bad row');
        await settle(b, a);
        expect(await a.fs.readFile('/after.md')).toBe('written after the bad row');
        expect(await sandbox.violations()).toEqual([]);
      } finally {
        await sandbox.remove();
      }
    }, 60_000);
  }

  /** A store that cannot be trusted pauses sync with a reason; the filesystem keeps serving. */
  async function expectPausedAndServing(a: RunningScope, sandbox: Sandbox): Promise<void> {
    await until(async () => (await a.sync!.status()).state === 'paused', 'sync to pause');
    expect((await a.sync!.status()).pausedReason).toMatch(/corrupt|revision/);
    await a.fs.writeFile('/still-serving.md', 'the filesystem does not depend on the store');
    expect(await a.fs.readFile('/still-serving.md')).toBe('the filesystem does not depend on the store');
    expect(await sandbox.violations()).toEqual([]);
  }

  async function checkRowOutcome(a: RunningScope, testCase: RowCase): Promise<void> {
    const path = String(testCase.row.path ?? '/row.md');
    const files = await userFiles(a);
    switch (testCase.expect) {
      case 'synced':
        expect(Buffer.from(await a.fs.readFile(path, { encoding: 'bytes' }))).toEqual(DEFAULT_CONTENT);
        return;
      case 'rejected':
        expect(files).toEqual([]);
        // The failure log on disk is rewritten a few times a second at most: it may land a little later.
        await until(async () => (await refusalRecord(a)) !== '', 'the refusal to be recorded in the sync status or failure log');
        return;
      case 'ignored':
        expect(files).toEqual([]);
        return;
      case 'conflict': {
        expect(await a.fs.readFile('/row.md')).toBe(testCase.localFirst);
        const [conflict] = await a.sync!.conflicts();
        expect(conflict?.copyPath).toMatch(/^\/row\.sync-conflict-\d{8}-\d{6}-[A-Za-z0-9_-]{1,32}\.md$/);
        return;
      }
      case 'paused':
      case 'any':
        return;
    }
  }
});

describe('hostile file contents', () => {
  let sandbox: Sandbox;
  let a: RunningScope;
  let b: RunningScope;

  beforeAll(async () => {
    sandbox = await Sandbox.create();
    const options = { sync: { maxFileBytes: SYNC_LIMIT }, scope: { maxFileBytes: FS_LIMIT } };
    a = await sandbox.start('a', { ...options, scope: { ...options.scope, watch: true } });
    b = await sandbox.start('b', options);
  });
  afterAll(() => sandbox.remove());

  for (const testCase of loadCorpus<ContentCase>('contents.json')) {
    (testCase.knownBug ? it.fails : it)(testCase.name, async () => {
      figures.contentInputs++;
      if (testCase.expect === 'disk-ignored') return dropOnDisk(testCase);
      const outcome = await a.fs.writeFile(testCase.path, testCase.content as string).then(
        () => (testCase.then === 'edit' ? a.fs.editFile(testCase.path, 'x', 'y').then(() => 'ok') : 'ok'),
        (err: unknown) => (isScopeFsError(err) ? err.code : Promise.reject(err)),
      ).catch((err: unknown) => (isScopeFsError(err) ? err.code : Promise.reject(err)));
      await settle(a, b);
      const status = await a.sync!.status();
      switch (testCase.expect) {
        case 'roundtrip':
          expect(outcome).toBe('ok');
          expect(Buffer.from(await b.fs.readFile(testCase.path, { encoding: 'bytes' }))).toEqual(Buffer.from(testCase.content as Uint8Array | string));
          break;
        case 'EFBIG':
        case 'EINVAL':
          expect(outcome).toBe(testCase.expect);
          break;
        case 'sync-failure':
          expect(outcome).toBe('ok');
          expect(status.failedPaths).toContain(testCase.path);
          expect(await b.fs.fileExists(testCase.path)).toBe(false);
          break;
        case 'any':
          break;
      }
      expect(await sandbox.violations()).toEqual([]);
    }, 60_000);
  }

  /** Another program drops the file on disk; the instance refuses it (too big) and survives. */
  async function dropOnDisk(testCase: ContentCase): Promise<void> {
    const root = sandbox.rootOf('a');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, testCase.path), testCase.content as Uint8Array);
    await writeFile(join(root, 'after-drop.md'), 'written after the dropped file');
    await until(() => a.fs.fileExists('/after-drop.md'), 'the watcher to pick up /after-drop.md');
    // A big file takes longer to look finished to the watcher than the small
    // marker, so its refusal may be recorded after the marker arrives.
    await until(async () => (await refusalRecord(a)).includes(testCase.path), `the refusal of ${testCase.path} to be recorded`);
    expect(await a.fs.fileExists(testCase.path)).toBe(false);
    expect(await sandbox.violations()).toEqual([]);
  }
});
