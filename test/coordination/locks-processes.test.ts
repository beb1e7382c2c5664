/**
 * Two real processes (tsx) contend for one lock through SQLite and through
 * PostgreSQL: exactly one holds it at a time (an oracle over the recorded
 * history), a holder paused past its TTL (SIGSTOP) cannot write after waking
 * (ESTALE), and the locks of a SIGKILLed holder expire at their TTL.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStoreLocks } from '../../persistence/locks/open-locks.js';
import { storeFromUrl } from '../../persistence/stores/store-schemes.js';
import { describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';

const HOLDER = fileURLToPath(new URL('./fixtures/lock-holder.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'scopefs-locks-processes-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

interface Line { event: string; at?: number; fence?: number; token?: string; expiresAt?: number; code?: string }

/** A holder process, its parsed output lines as they come, and a way to wait for one. */
function startHolder(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const lines: Line[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line) as Line));
  const next = async (event: string, after = 0): Promise<Line> => {
    let found: Line | undefined;
    await waitFor(() => (found = lines.slice(after).find((l) => l.event === event)) !== undefined || child.exitCode !== null, 60_000, event);
    if (!found) throw new Error(`holder exited before ${event}: ${stderr}`);
    return found;
  };
  return { child: child as ChildProcessWithoutNullStreams, lines, exited, next, stderr: () => stderr };
}

let counter = 0;

function describeProcesses(name: string, storeUrl: () => string): void {
  describe(`locks between processes through ${name}`, () => {
    it('two processes contending: exactly one holds the lock at a time, fences increase in holding order', async () => {
      const app = `contend-${++counter}`;
      const holders = ['p1', 'p2'].map((who) => startHolder([storeUrl(), app, who, 'contend', '15', '10000']));
      const codes = await Promise.all(holders.map((h) => h.exited));
      expect(codes, holders.map((h) => h.stderr()).join('\n')).toEqual([0, 0]);
      // The oracle: each holding is [acquired, releasing]; sorted by start, none may begin before the previous ended.
      const holdings = holders.flatMap((h, i) =>
        h.lines.filter((l) => l.event === 'acquired').map((a) => {
          const release = h.lines.find((l) => l.event === 'releasing' && l.fence === a.fence)!;
          return { who: i, from: a.at!, to: release.at!, fence: a.fence! };
        }),
      );
      expect(holdings).toHaveLength(30);
      holdings.sort((x, y) => x.fence - y.fence);
      for (let i = 1; i < holdings.length; i += 1) {
        expect(holdings[i]!.from, `holding ${i} began before holding ${i - 1} ended`).toBeGreaterThanOrEqual(holdings[i - 1]!.to);
      }
      expect(new Set(holdings.map((h) => h.who)).size).toBe(2);
    }, 90_000);

    it('a holder paused past its TTL (SIGSTOP) cannot write after waking: ESTALE, and the next holder keeps the lock', async () => {
      const app = `paused-${++counter}`;
      const holder = startHolder([storeUrl(), app, 'sleeper', 'hold', '400']);
      try {
        const locked = await holder.next('locked');
        holder.child.kill('SIGSTOP');
        const store = await storeFromUrl(storeUrl());
        await store.open();
        const locks = openStoreLocks(store);
        try {
          let next: { fence: number } | undefined;
          await waitFor(async () => {
            const answer = await locks.acquire(app, { target: '/held', owner: 'next', ttlMs: 30_000 });
            if (answer.acquired) next = answer.lock;
            return answer.acquired;
          }, 10_000, 'the paused lock to expire');
          expect(Date.now()).toBeGreaterThanOrEqual(locked.expiresAt! - 50);
          expect(next!.fence).toBeGreaterThan(locked.fence!);
          holder.child.kill('SIGCONT');
          const seen = holder.lines.length;
          holder.child.stdin.write('write\n');
          expect(await holder.next('refused', seen)).toEqual({ event: 'refused', code: 'ESTALE' });
          expect((await locks.live(app)).map((l) => l.owner)).toEqual(['next']);
        } finally {
          await locks.close();
          await store.close();
        }
      } finally {
        holder.child.kill('SIGKILL');
        await holder.exited;
      }
    }, 60_000);

    it('the locks of a SIGKILLed holder stay until their TTL, then expire', async () => {
      const app = `killed-${++counter}`;
      const holder = startHolder([storeUrl(), app, 'doomed', 'hold', '1500']);
      const locked = await holder.next('locked');
      holder.child.kill('SIGKILL');
      await holder.exited;
      const store = await storeFromUrl(storeUrl());
      await store.open();
      const locks = openStoreLocks(store);
      try {
        const before = await locks.acquire(app, { target: '/held/x.md', owner: 'other', ttlMs: 30_000 });
        if (Date.now() < locked.expiresAt! - 100) expect(before).toMatchObject({ acquired: false, holder: { owner: 'doomed' } });
        await waitFor(async () => (await locks.live(app)).length === 0, 10_000, 'the killed holder’s lock to expire');
        expect(Date.now()).toBeGreaterThanOrEqual(locked.expiresAt! - 50);
        expect(await locks.acquire(app, { target: '/held', owner: 'other', ttlMs: 30_000 })).toMatchObject({ acquired: true });
      } finally {
        await locks.close();
        await store.close();
      }
    }, 60_000);
  });
}

describeProcesses('SQLite', () => `sqlite:${join(dir, 'store.db')}`);

describePostgres('locks between processes through PostgreSQL', () => {
  const db = useTestDatabase('locks_processes');
  describeProcesses('PostgreSQL', () => db.url);
});
