/**
 * Transactions under SIGKILL, with real processes: a transaction open when
 * its process dies leaves nothing (not in the files, not in the journal),
 * and a process killed while it commits transactions of 200 files leaves
 * each commit whole or absent after the restart.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJournal } from '../../src/fs/journal-codec.js';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/tx-killed.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FILES = 200;

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Runs the fixture until `ready` says so, then SIGKILLs it; returns its output lines. */
async function runAndKill(root: string, mode: 'open' | 'commits', ready: (lines: string[]) => boolean): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, root, mode], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (ready(lines)) resolve();
      });
      void exited.then(() => reject(new Error(`the fixture exited on its own:\n${stderr}`)));
    });
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  expect(child.signalCode).toBe('SIGKILL');
  return lines;
}

async function restart(root: string): Promise<RunningScope> {
  const scope = await startScope({ scopeKey: `tx-killed-after-${Math.random()}`, root });
  cleanup.push(() => scope.stop());
  return scope;
}

async function tempRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'scopefs-tx-kill-'));
  cleanup.push(() => rm(root, { recursive: true, force: true }));
  return root;
}

describe('transactions under SIGKILL', () => {
  it('an open transaction leaves nothing behind: not in the files, not in the journal', async () => {
    const root = await tempRoot();
    await runAndKill(root, 'open', (lines) => lines.includes('ready'));
    const journal = decodeJournal(readFileSync(join(root, '.scopefs', 'journal.log')));
    const journaled = journal.records.flat().map((op) => op.path);
    expect(journaled.filter((path) => path.startsWith('/run/'))).toEqual([]);
    const scope = await restart(root);
    expect(await scope.fs.listFiles('/')).toEqual(['/before.md']);
    expect(await scope.fs.readFile('/before.md')).toBe('written before the transaction');
  });

  it('a process killed while committing leaves every commit whole or absent', async () => {
    const root = await tempRoot();
    // Killed at once after an acknowledged commit: the next commit is then in flight.
    const lines = await runAndKill(root, 'commits', (seen) => seen.filter((line) => line.startsWith('committed')).length >= 3);
    const acknowledged = lines.filter((line) => line.startsWith('committed')).length;
    const scope = await restart(root);
    const counts = new Map<string, number>();
    for (const path of await scope.fs.listFiles('/')) {
      const commit = path.split('/')[1]!;
      counts.set(commit, (counts.get(commit) ?? 0) + 1);
    }
    for (let n = 0; n < acknowledged; n++) expect(counts.get(`commit-${n}`), `commit ${n} was acknowledged`).toBe(FILES);
    for (const [commit, count] of counts) expect(count, `${commit} is whole`).toBe(FILES);
    for (const path of await scope.fs.listFiles(`/commit-0`)) expect(await scope.fs.readFile(path)).toBe(`commit 0 file ${path.slice(path.lastIndexOf('/') + 1, -3)}`);
  });
});
