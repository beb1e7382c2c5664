import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { isScopeFsError } from '../../src/errors.js';
import { SQLITE_SCHEMA_VERSION } from '../../persistence/sql/sqlite-schema.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { SHARED_OWNER, type StoreRow } from '../../persistence/stores/types.js';
import { describeStoreContract } from './store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-sqlite-store-'));
const WRITER = fileURLToPath(new URL('./fixtures/sqlite-writer.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describeStoreContract('sqlite', () => new SqliteStore({ path: join(dir, 'contract.db'), pollMs: 10 }));

const change = (path: string, text: string, baseRevision = 0) => ({
  owner: SHARED_OWNER,
  path,
  baseRevision,
  content: new Uint8Array(Buffer.from(text)),
  hash: null,
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => null, (err: unknown) => err);
}

/** A child process running fixtures/sqlite-writer.ts. */
function startWriter(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))));
  });
  const nextLine = async () => {
    const line = await Promise.race([lines.next(), exited.then(() => ({ done: true, value: undefined }))]);
    if (line.done) throw new Error(`writer closed its output: ${stderr}`);
    return line.value as string;
  };
  return {
    ready: nextLine().then((line) => expect(line).toBe('ready')),
    go: () => child.stdin.end('go\n'),
    result: async <T>() => {
      const line = await nextLine();
      await exited;
      return JSON.parse(line) as T;
    },
    kill: () => child.kill('SIGKILL'),
  };
}

/** Wakes a loop on the next notify, or at once if one came since it last waited. */
function wakeup() {
  let pending = false;
  let wake: (() => void) | null = null;
  return {
    notify() {
      if (wake) wake();
      else pending = true;
      wake = null;
    },
    next(): Promise<void> {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => (wake = resolve));
    },
  };
}

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SqliteStore across processes', () => {
  it('gives concurrent writers in separate processes a gap-free feed that a hint-driven reader sees exactly once', async () => {
    const path = join(dir, 'feed.db');
    const app = 'feed';
    const perWriter = 150;
    const reader = new SqliteStore({ path, pollMs: 5 });
    await reader.open();
    const writers = ['w1', 'w2', 'w3'].map((name) => ({ name, proc: startWriter(['feed', path, app, name, `${perWriter}`]) }));
    try {
      await Promise.all(writers.map((w) => w.proc.ready));
      const wake = wakeup();
      const stopWatching = await reader.watch(app, () => wake.notify());
      let finished = false;
      const results = Promise.all(writers.map((w) => w.proc.result<Array<[number, string]>>())).finally(() => {
        finished = true;
        wake.notify();
      });
      writers.forEach((w) => w.proc.go());

      const seen: StoreRow[] = [];
      let cursor = 0;
      for (;;) {
        const writersDone = finished;
        const page = await reader.since(app, [SHARED_OWNER], cursor, 16);
        seen.push(...page.rows);
        cursor = page.cursor;
        if (page.more) continue;
        if (writersDone) break;
        await wake.next();
      }
      await stopWatching();

      const written = (await results).flat();
      const total = writers.length * perWriter;
      const byRevision = new Map(written);
      expect(byRevision.size).toBe(total);
      expect(seen.map((row) => row.revision)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (const row of seen) {
        expect(row.path).toBe(byRevision.get(row.revision));
        expect(row.path.startsWith(`/${row.updatedBy}/`)).toBe(true);
      }
      expect(await reader.head(app)).toBe(total);
    } finally {
      writers.forEach((w) => w.proc.kill());
      await reader.close();
    }
  }, 120_000);

  it('serialises compare-and-swap across processes: no increment is lost', async () => {
    const path = join(dir, 'counter.db');
    const perWriter = 40;
    const writers = ['c1', 'c2', 'c3'].map((name) => startWriter(['counter', path, 'counter', name, `${perWriter}`]));
    try {
      await Promise.all(writers.map((w) => w.ready));
      writers.forEach((w) => w.go());
      await Promise.all(writers.map((w) => w.result<number>()));
      const store = new SqliteStore({ path });
      await store.open();
      const row = await store.get('counter', SHARED_OWNER, '/counter');
      await store.close();
      expect(Buffer.from(row!.content!).toString()).toBe(`${3 * perWriter}`);
      expect(row!.revision).toBe(3 * perWriter);
    } finally {
      writers.forEach((w) => w.kill());
    }
  }, 120_000);
});

describe('SqliteStore', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('creates missing directories and keeps data across reopening', async () => {
    const path = join(dir, 'nested', 'deeper', 'reopen.db');
    const first = new SqliteStore({ path });
    expect(first.url).toBe(`sqlite:${path}`);
    await first.open();
    await first.push('app', 'i', [change('/a.md', 'kept')]);
    await first.close();

    const second = new SqliteStore({ path });
    await second.open();
    expect(Buffer.from((await second.get('app', SHARED_OWNER, '/a.md'))!.content!).toString()).toBe('kept');
    expect((await second.push('app', 'i', [change('/b.md', 'next')]))[0]).toMatchObject({ status: 'ok', revision: 2 });
    await second.close();
  });

  it('rejects calls with EIO once closed, or before opening', async () => {
    const store = new SqliteStore({ path: join(dir, 'closed.db') });
    const early = await rejection(store.head('app'));
    expect(isScopeFsError(early, 'EIO')).toBe(true);
    await store.open();
    await store.close();
    const late = await rejection(store.push('app', 'i', [change('/a.md', 'x')]));
    expect(isScopeFsError(late, 'EIO')).toBe(true);
    expect((late as Error).message).toMatch(/closed\.db is not open \(push\)/);
  });

  it('upgrades a version 1 file in place, keeping its rows, and then holds leases in it', async () => {
    const path = join(dir, 'v1.db');
    const raw = new Database(path);
    raw.exec(`
      CREATE TABLE scopefs_files (app TEXT NOT NULL, owner TEXT NOT NULL, path TEXT NOT NULL, revision INTEGER NOT NULL,
        hash TEXT, size INTEGER NOT NULL, deleted INTEGER NOT NULL, content BLOB, updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL, PRIMARY KEY (app, owner, path));
      CREATE UNIQUE INDEX scopefs_files_feed ON scopefs_files (app, revision);
      CREATE TABLE scopefs_heads (app TEXT PRIMARY KEY, head INTEGER NOT NULL);
      INSERT INTO scopefs_files VALUES ('app', '_shared', '/old.md', 1, NULL, 3, 0, x'6f6c64', 0, 'v1');
      INSERT INTO scopefs_heads VALUES ('app', 1);
      PRAGMA user_version = 1;`);
    raw.close();
    const store = new SqliteStore({ path });
    await store.open();
    try {
      expect(await store.head('app')).toBe(1);
      expect(Buffer.from((await store.get('app', SHARED_OWNER, '/old.md'))!.content!).toString()).toBe('old');
      expect(await store.acquireLease('upgraded', 'alice', 60_000)).toMatchObject({ acquired: true, token: 1 });
    } finally {
      await store.close();
    }
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    check.close();
  });

  it('holds one lease across connections to the same file', async () => {
    const path = join(dir, 'leases.db');
    const [a, b] = [new SqliteStore({ path }), new SqliteStore({ path })];
    await Promise.all([a.open(), b.open()]);
    try {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).acquireLease('shared', `holder-${i}`, 60_000)),
      );
      expect(results.filter((lease) => lease.acquired)).toHaveLength(1);
      const winner = results.find((lease) => lease.acquired)!;
      const other = winner.holder === 'holder-0' ? b : a;
      expect(await other.releaseLease('shared', winner.holder!, winner.token)).toBe(true);
      expect(await (other === a ? b : a).acquireLease('shared', 'next', 60_000)).toMatchObject({ acquired: true, token: winner.token + 1 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('refuses a database with a newer schema version', async () => {
    const path = join(dir, 'future.db');
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    const error = await rejection(new SqliteStore({ path }).open());
    expect(isScopeFsError(error, 'ESCHEMA')).toBe(true);
    expect((error as Error).message).toContain(`schema version 99, newer than this build supports (${SQLITE_SCHEMA_VERSION})`);
  });

  it('fails a write with EIO after the busy timeout, without blocking the event loop, and keeps serving reads', async () => {
    const path = join(dir, 'locked.db');
    const store = new SqliteStore({ path, busyTimeoutMs: 300 });
    await store.open();
    await store.push('app', 'i', [change('/a.md', 'before')]);
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      let timerRan = false;
      setTimeout(() => (timerRan = true), 0);
      const started = Date.now();
      const error = await rejection(store.push('app', 'i', [change('/b.md', 'blocked')]));
      expect(isScopeFsError(error, 'EIO')).toBe(true);
      expect((error as Error).message).toMatch(/locked by another connection for more than 300 ms/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(timerRan).toBe(true);
      expect(await store.head('app')).toBe(1);
      expect((await store.since('app', [SHARED_OWNER], 0)).rows).toHaveLength(1);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect((await store.push('app', 'i', [change('/b.md', 'after')]))[0]).toMatchObject({ status: 'ok', revision: 2 });
    await store.close();
  });

  it('polls with one statement while idle, whatever the number of files, and reads heads only after a commit', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const path = join(dir, 'idle.db');
    const store = new SqliteStore({ path, pollMs: 10 });
    const other = new SqliteStore({ path });
    await store.open();
    await other.open();
    const files = Array.from({ length: 2000 }, (_, i) => change(`/f${i}.txt`, `${i}`));
    await store.push('app', 'i', files);
    const hints: Array<number | undefined> = [];
    await store.watch('app', (hint) => hints.push(hint.head));
    await store.watch('second-app', () => undefined);

    const idleStart = store.queryCount;
    vi.advanceTimersByTime(10 * 50);
    expect(store.queryCount - idleStart).toBe(50);

    await other.push('app', 'j', [change('/new.txt', 'x')]);
    const busyStart = store.queryCount;
    vi.advanceTimersByTime(10);
    // data_version, then one head read per watched app.
    expect(store.queryCount - busyStart).toBe(3);
    await Promise.resolve();
    expect(hints).toEqual([2001]);
    await store.close();
    await other.close();
  });
});
