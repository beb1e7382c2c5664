import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import { localHistoryFile, openLocalHistory, openMemoryHistory, openStoreHistory } from '../../persistence/history/open-history.js';
import { SqliteHistory } from '../../persistence/history/sqlite-history.js';
import { MemoryStore } from '../../persistence/stores/memory-store.js';
import { SqliteStore } from '../../persistence/stores/sqlite-store.js';
import { bytes, describeHistoryContract, freshScope, version } from './history-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-history-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describeHistoryContract('memory', () => openMemoryHistory());
describeHistoryContract('sqlite file', () => new SqliteHistory({ file: join(dir, 'contract.db') }), { shared: true });
describeHistoryContract('local (.scopefs/history.db)', () => openLocalHistory(join(dir, 'root')), { shared: true });

describe('history placement', () => {
  it('the SQLite store keeps history inside its own database file, beside its rows', async () => {
    const file = join(dir, 'store.db');
    const store = new SqliteStore({ path: file });
    await store.open();
    const history = await openStoreHistory(store);
    try {
      await history.record('app', [version('/a.md', 'x')]);
      const again = await openStoreHistory(store);
      expect((await again.versions('app', '/a.md')).length).toBe(1);
      await again.close();
      expect(await store.head('app')).toBe(0);
    } finally {
      await history.close();
      await store.close();
    }
  });

  it('scopes sharing a memory store share one history, which outlives close()', async () => {
    const store = new MemoryStore();
    const scope = freshScope();
    const first = await openStoreHistory(store);
    await first.record(scope, [version('/a.md', 'x')]);
    await first.close();
    expect((await (await openStoreHistory(store)).versions(scope, '/a.md')).length).toBe(1);
  });

  it('a local history lives under the root .scopefs/ and only its owner may read it', async () => {
    const root = join(dir, 'private-root');
    const history = openLocalHistory(root);
    await history.record('local', [version('/a.md', 'x')]);
    await history.close();
    expect(statSync(localHistoryFile(root)).mode & 0o077).toBe(0);
  });
});

describe('checkpoint cost', () => {
  it('a checkpoint of 1,000 files with 10 changed adds 10 manifest rows, not 1,000', async () => {
    const file = join(dir, 'cost.db');
    const history = new SqliteHistory({ file });
    const scope = freshScope();
    const entry = (i: number, body: string) => ({ path: `/f${i}.md`, hash: sha256(body), size: body.length, content: bytes(body) });
    const files = Array.from({ length: 1_000 }, (_, i) => entry(i, `v1 ${i}`));
    await history.saveCheckpoint(scope, { name: 'all', prefix: '/', at: 1, files });
    const rows = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT count(*) FROM scopefs_history_manifest WHERE scope = ?').pluck().get(scope) as number;
      } finally {
        db.close();
      }
    };
    expect(rows()).toBe(1_000);
    const changed = files.map((f, i) => (i % 100 === 0 ? entry(i, `v2 ${i}`) : f));
    await history.saveCheckpoint(scope, { name: 'ten changed', prefix: '/', at: 2, files: changed });
    expect(rows()).toBe(1_010);
    expect((await history.checkpoint(scope, 'ten changed'))?.files.filter((f) => f.hash === sha256('v2 0'))).toHaveLength(1);
    await history.close();
  });
});

const WRITER = fileURLToPath(new URL('./fixtures/history-writer.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs fixtures/history-writer.ts; resolves once it is ready, with a function
 * that starts it and returns its revisions (with `--hold`: then SIGKILLs it).
 */
async function startWriter(args: string[]): Promise<() => Promise<number[]>> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))));
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const line = await Promise.race([lines.next(), exited.then(() => ({ done: true as const, value: undefined }))]);
    if (line.done) throw new Error(`writer closed its output: ${stderr}`);
    return line.value as string;
  };
  expect(await nextLine()).toBe('ready');
  return async () => {
    child.stdin.end('go\n');
    const revisions = JSON.parse(await nextLine()) as number[];
    if (args.includes('--hold')) {
      child.kill('SIGKILL');
      await exited.catch(() => undefined); // killed: no exit code
    } else await exited;
    return revisions;
  };
}

describe('several processes on one history file', () => {
  it('two processes recording at once get distinct, gap-free revisions, and a third sees every version', async () => {
    const file = join(dir, 'processes.db');
    const scope = freshScope();
    const writers = await Promise.all([startWriter([file, scope, 'a', '100']), startWriter([file, scope, 'b', '100'])]);
    const [a, b] = await Promise.all(writers.map((go) => go()));
    expect([...a!, ...b!].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const reader = new SqliteHistory({ file });
    try {
      expect(await reader.versions(scope, '/b-99.md')).toMatchObject([{ revision: b!.at(-1), instance: 'b' }]);
      const [next] = await reader.record(scope, [version('/c.md', 'after')]);
      expect(next?.revision).toBe(201);
    } finally {
      await reader.close();
    }
  }, 60_000);

  it('a local history, not fsynced per commit, keeps every recorded version through a SIGKILL of its writer', async () => {
    const root = join(dir, 'killed-root');
    const recorded = await (await startWriter([root, 'local', 'k', '50', '--local', '--hold']))();
    expect(recorded).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const reader = openLocalHistory(root);
    try {
      expect(await reader.versions('local', '/k-49.md')).toMatchObject([{ revision: 50, instance: 'k' }]);
      expect(await reader.versions('local', '/k-0.md')).toMatchObject([{ revision: 1 }]);
    } finally {
      await reader.close();
    }
  }, 60_000);
});
