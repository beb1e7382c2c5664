/**
 * Three `serve --data` processes on one PostgreSQL store: a client writes to
 * 200 scopes through random servers, one server is SIGKILLed and restarted
 * mid-run, and at the end every acknowledged write is on every server: on the
 * others before any request reaches the restarted one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { describePostgres, useTestDatabase } from '../helpers/postgres.js';
import { runCli, startServe, type ServeProcess } from '../cli/helpers.js';

const OWNER = 'owner-token-for-the-multi-server-test';
const SCOPES = 200;
const WRITERS = 8;

describePostgres('several serve --data on one PostgreSQL store', () => {
  const db = useTestDatabase('tenants');

  it('keeps every acknowledged write through a SIGKILL, on every server', async () => {
    expect((await runCli(['migrate', '--store', db.url])).code).toBe(0);
    const dir = await mkdtemp(join(tmpdir(), 'scopefs-tenants-pg-'));
    const start = (n: number) =>
      startServe(['--data', join(dir, `server-${n}`), '--port', '0', '--store', db.url, '--log-level', 'warn'], { SCOPEFS_TOKEN: OWNER });
    const servers: ServeProcess[] = await Promise.all([0, 1, 2].map(start));
    // Also when the test times out (its finally never runs then): no serve may outlive it.
    onTestFinished(() => Promise.all(servers.map((server) => server.stop('SIGKILL'))).then(() => undefined));
    const acknowledged = new Map<string, Set<string>>(); // scope -> files
    const writeDeadline = Date.now() + 90_000;
    try {
      const put = async (scope: string, file: string): Promise<void> => {
        for (;;) {
          if (Date.now() > writeDeadline) throw new Error(`no server acknowledged ${scope} ${file} within 90 s`);
          const server = servers[Math.floor(Math.random() * servers.length)]!;
          const response = await fetch(`${server.info.url}/v1/scopes/${encodeURIComponent(scope)}/v1/files/${file}`, {
            method: 'PUT',
            body: `${scope} ${file}`,
            headers: { authorization: `Bearer ${OWNER}` },
          }).catch(() => undefined); // the killed server: try another
          if (response?.status === 200) {
            if (!acknowledged.has(scope)) acknowledged.set(scope, new Set());
            acknowledged.get(scope)!.add(file);
            return;
          }
        }
      };
      const jobs = Array.from({ length: SCOPES * 2 }, (_, i) => ({ scope: `tenant/${i % SCOPES}`, file: `f-${i}.txt` }));
      let done = 0;
      let killed: Promise<void> | undefined;
      const worker = async () => {
        for (let job = jobs.shift(); job; job = jobs.shift()) {
          await put(job.scope, job.file);
          if (++done === SCOPES && !killed) {
            // Mid-run: SIGKILL one server (its acknowledged writes are in its journal), then start it again on its disk.
            killed = (async () => {
              await servers[1]!.stop('SIGKILL');
              servers[1] = await start(1);
            })();
          }
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, worker));
      await killed;
      expect([...acknowledged.values()].reduce((n, files) => n + files.size, 0)).toBe(SCOPES * 2);

      // Every server ends with every acknowledged file of every scope (scopes start on demand and pull).
      const missing = async (server: ServeProcess, scope: string): Promise<string[]> => {
        const response = await fetch(`${server.info.url}/v1/scopes/${encodeURIComponent(scope)}/v1/files`, { headers: { authorization: `Bearer ${OWNER}` } });
        const listed = JSON.stringify(await response.json());
        return [...acknowledged.get(scope)!].filter((file) => !listed.includes(`/${file}`));
      };
      const deadline = Date.now() + 60_000;
      // The other servers first, before any request reaches the restarted one: what it acknowledged before the kill
      // and had not pushed yet must reach the store without waiting for a request there (scope-pool.ts, recovery).
      const restarted = servers[1]!;
      const pairsOf = (list: ServeProcess[]) => list.flatMap((server) => [...acknowledged.keys()].map((scope) => ({ server, scope })));
      let pending = pairsOf(servers.filter((server) => server !== restarted));
      const checker = async () => {
        for (let next = pending.shift(); next; next = pending.shift()) {
          let left = await missing(next.server, next.scope);
          while (left.length > 0 && Date.now() < deadline) {
            await new Promise((resolve) => setTimeout(resolve, 200));
            left = await missing(next.server, next.scope);
          }
          expect(left, `${next.scope} on ${next.server.info.url}`).toEqual([]);
        }
      };
      await Promise.all(Array.from({ length: 12 }, checker));
      pending = pairsOf([restarted]);
      await Promise.all(Array.from({ length: 12 }, checker));
    } finally {
      await Promise.all(servers.map((server) => server.stop('SIGTERM')));
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
