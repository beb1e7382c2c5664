import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { adminQuery, describePostgres, useTestDatabase, waitFor } from '../helpers/postgres.js';
import { startInstance, type Instance } from '../helpers/instance.js';

/**
 * Separate processes syncing one scope through the real PostgreSQL server.
 * Serial: the second test restarts the server, which other test files must
 * not see.
 */
describePostgres('multi-process sync through PostgreSQL', () => {
  const db = useTestDatabase('mpsync');
  let dir: string;
  const running: Instance[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scopefs-pgsync-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((i) => i.kill()));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function start(name: string, app: string): Promise<Instance> {
    const instance = await startInstance({ root: join(dir, app, name), store: db.url, app, instanceId: name });
    running.push(instance);
    return instance;
  }

  async function settle(...instances: Instance[]): Promise<void> {
    for (let round = 0; round < 2; round++) for (const i of instances) await i.call('idle', { timeoutMs: 60_000 });
  }

  async function snapshot(instance: Instance): Promise<Record<string, string>> {
    const files = (await instance.call<string[]>('list')).filter((p) => !p.startsWith('/.sync'));
    const entries = await Promise.all(files.map(async (p) => [p, await instance.call<string>('read', { path: p })]));
    return Object.fromEntries(entries);
  }

  it('three processes converge after concurrent edits and a restart', async () => {
    let [a, b, c] = await Promise.all([start('a', 'three'), start('b', 'three'), start('c', 'three')]);
    await a.call('write', { path: '/plan.md', content: 'goal\n\nstep 1\nstep 2\nstep 3\n\ndone\n' });
    await settle(a, b, c);
    await Promise.all([
      a.call('write', { path: '/plan.md', content: 'goal: ship\n\nstep 1\nstep 2\nstep 3\n\ndone\n' }),
      c.call('write', { path: '/plan.md', content: 'goal\n\nstep 1\nstep 2\nstep 3\n\ndone!\n' }),
      b.call('append', { path: '/log.jsonl', content: '{"from":"b"}\n' }),
      ...Array.from({ length: 20 }, (_, i) => [a, b, c][i % 3]!.call('write', { path: `/bulk/${i}.md`, content: `#${i}` })),
    ]);
    // b restarts (SIGKILL) in the middle of it all and catches up.
    await b.kill('SIGKILL');
    running.splice(running.indexOf(b), 1);
    b = await start('b', 'three');
    await b.call('append', { path: '/log.jsonl', content: '{"from":"b again"}\n' });
    await settle(a, b, c);
    const [sa, sb, sc] = await Promise.all([a, b, c].map(snapshot));
    expect(sb).toEqual(sa);
    expect(sc).toEqual(sa);
    expect(Object.keys(sa!).filter((p) => p.startsWith('/bulk/'))).toHaveLength(20);
    expect(sa!['/plan.md']).toBe('goal: ship\n\nstep 1\nstep 2\nstep 3\n\ndone!\n');
    expect(sa!['/log.jsonl']).toBe('{"from":"b"}\n{"from":"b again"}\n');
  });

  it('the server restarts while two instances write: both reconnect, catch up and converge', async () => {
    const [a, b] = await Promise.all([start('a', 'restart'), start('b', 'restart')]);
    await settle(a, b);
    const acknowledged = new Map<string, string>();
    const write = async (instance: Instance, path: string, content: string) => {
      await instance.call('write', { path, content });
      acknowledged.set(path, content);
    };
    let restarted = false;
    const restart = restartPostgres().then(() => (restarted = true));
    // Both keep writing through the whole restart, and a little after it.
    const writers = [a, b].map(async (instance, n) => {
      for (let i = 0; !restarted || i < 20; i++) await write(instance, `/w${n}/${i}.md`, `writer ${n} item ${i}`);
    });
    await restart;
    await Promise.all(writers);
    await waitFor(async () => (await adminQuery('SELECT 1').then(() => true, () => false)), 30_000, 'PostgreSQL to accept connections');
    await settle(a, b);
    const [sa, sb] = await Promise.all([snapshot(a), snapshot(b)]);
    expect(sb).toEqual(sa);
    for (const [path, content] of acknowledged) expect(sa[path]).toBe(content);
    expect(acknowledged.size).toBeGreaterThanOrEqual(40);
    const states = [a, b].flatMap((i) => i.events.filter((e) => e.type === 'sync_state').map((e) => e.state));
    expect(states).toContain('backing_off');
  });
});

async function restartPostgres(): Promise<void> {
  const version = readdirSync('/etc/postgresql')[0]!;
  await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart']);
}
