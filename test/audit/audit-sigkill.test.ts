/**
 * The audit log across a kill -9 and a restart: a child process makes
 * acknowledged changes (and refused writes) through a scope with auditing on,
 * printing each acknowledgement; we SIGKILL it mid-stream, start the scope
 * again on the same root, and every acknowledged call has its entry.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startScope, stopAllScopes } from '../../supervisors/scope/scopes.js';
import type { AuditEntry } from '../../src/audit/types.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/audited-writer.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

let dirs: string[] = [];
afterEach(async () => {
  await stopAllScopes();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

async function runAndKill(root: string, acks: number, mode: string): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, root, mode], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  const enough = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (lines.length === acks) resolve();
    });
    void exited.then(() => reject(new Error(`writer exited before ${acks} acks:\n${stderr}`)));
  });
  try {
    await enough;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  expect(child.signalCode).toBe('SIGKILL');
  return lines.slice(0, acks);
}

function hasEntry(entries: AuditEntry[], ack: string): boolean {
  const [, operation, path, detail] = ack.split(' ');
  return entries.some((e) => {
    if (e.actor !== 'writer' || !e.paths.includes(path!)) return false;
    if (operation === 'write') return e.operation === 'create' && e.revision === Number(detail) && e.result === 'ok';
    if (operation === 'refused') return e.result === 'refused' && e.code === detail && e.operation === 'write';
    return e.operation === operation && e.result === 'ok';
  });
}

describe('audit log under SIGKILL', () => {
  // The journal holds every entry since the start (persistence waits a minute); the log those written before
  // the kill: with `refusing`, all but the last few (each refusal writes what waits), with `quiet`, whole
  // batches only. Recovery writes the rest, and none twice.
  it.each([
    [50, 'refusing'],
    [400, 'refusing'],
    [400, 'quiet'],
  ])('every acknowledged call has its entry after a kill -9 after %i acks (%s) and a restart', async (acks, mode) => {
    const root = await mkdtemp(join(tmpdir(), 'scopefs-audit-kill-'));
    dirs.push(root);
    const lines = await runAndKill(root, acks, mode);
    expect(lines.every((l) => l.startsWith('ack '))).toBe(true);

    const scope = await startScope({ scopeKey: 'audit-crash', root });
    const entries = await scope.audit!({ limit: 10_000 });
    const missing = lines.filter((line) => !hasEntry(entries, line));
    expect(missing).toEqual([]);
    // Entries are unique: the restart appended after what was there, tearing nothing.
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    await scope.fs.writeFile('/after.txt', 'x', { actor: 'restarted' });
    expect((await scope.audit!({ actor: 'restarted' })).map((e) => e.paths)).toEqual([['/after.txt']]);
  }, 60_000);
});
