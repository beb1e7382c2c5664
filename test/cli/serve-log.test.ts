import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, type ServeProcess } from './helpers.js';
import { event, LogLines } from './log-lines.js';

let dir: string;
const serves: ServeProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-serve-log-'));
});

afterAll(async () => {
  await Promise.all(serves.map((s) => s.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function serve(name: string, args: string[] = []): Promise<{ serve: ServeProcess; log: LogLines; api: Api }> {
  const started = await startServe(['--root', join(dir, name), '--port', '0', '--instance', name, '--log-format', 'json', ...args]);
  serves.push(started);
  const token = (await readFile(started.info.tokenFile!, 'utf8')).trim();
  return { serve: started, log: new LogLines(started.child, started.stderr()), api: api(started.info.url, token) };
}

type Api = (method: string, path: string, body?: string) => Promise<Response>;

function api(url: string, token: string): Api {
  return (method, path, body) => fetch(`${url}${path}`, { method, body, headers: { authorization: `Bearer ${token}` } });
}

async function json<T = Record<string, unknown>>(response: Promise<Response>, status = 200): Promise<T> {
  const answered = await response;
  const body = (await answered.json()) as T;
  expect(answered.status, JSON.stringify(body)).toBe(status);
  return body;
}

describe('serve logs', () => {
  it('an unreachable store: a store_error line with the reason, at error level', async () => {
    const { log } = await serve('unreachable', ['--store', 'postgres://root@127.0.0.1:1/scopefs']);
    const started = await log.next(event('scope_started'), { seen: true });
    expect(started).toMatchObject({ level: 'info', scope: 'default', sync: true });
    const failed = await log.next(event('store_error'), { seen: true });
    expect(failed.level).toBe('error');
    expect(failed.reason).toMatch(/ECONNREFUSED/);
    expect(failed.msg).toMatch(/retries/);
  });

  it('the safety gate: a gate_paused line; resync refused while held, confirm lets the deletions through (HTTP controls)', async () => {
    const { log, api } = await serve('gate');
    for (let i = 0; i < 10; i++) expect((await api('PUT', `/v1/files/f${i}.md`, `file ${i}`)).status).toBe(200);
    const synced = await json<{ ran: boolean; status: { pending: string[]; state: string } }>(api('POST', '/v1/sync/resync'));
    expect(synced).toMatchObject({ control: 'resync', ran: true, status: { state: 'live', pending: [] } });
    // Paused, so the eight deletions reach one pass together.
    expect((await json(api('POST', '/v1/sync/pause'))).status).toMatchObject({ state: 'paused', pausedReason: 'paused by request' });
    for (let i = 0; i < 8; i++) expect((await api('DELETE', `/v1/files/f${i}.md`)).status).toBe(204);
    const refused = await json<{ error: { code: string; message: string } }>(api('POST', '/v1/sync/confirm'), 400);
    expect(refused.error.message).toMatch(/safety gate holds nothing.*resume it instead/);
    const resuming = log.mark;
    await json(api('POST', '/v1/sync/resume'));
    const held = await log.next(event('gate_paused'), { since: resuming });
    expect(held).toMatchObject({ level: 'warn', state: 'paused' });
    expect(held.msg).toMatch(/would delete 8 of 10 synced files/);
    expect(held.hint).toMatch(/scopefs sync confirm/);
    const busy = await json<{ error: { code: string; message: string } }>(api('POST', '/v1/sync/resync'), 409);
    expect(busy.error).toMatchObject({ code: 'EPAUSED' });
    expect(busy.error.message).toMatch(/confirm first/);
    const confirming = log.mark;
    await json(api('POST', '/v1/sync/confirm'));
    await log.next((r) => r.event === 'sync_state' && r.state === 'live', { since: confirming });
    const after = await json<{ status: { state: string; pending: string[] } }>(api('POST', '/v1/sync/resync'));
    expect(after.status).toMatchObject({ state: 'live', pending: [] });
  });

  it('a conflict: a conflict line naming the path and the copy (CLI controls pause and resume the serve)', async () => {
    const a = await serve('conflict-a');
    const b = await serve('conflict-b');
    const root = ['--root', join(dir, 'conflict-b')];
    await a.api('PUT', '/v1/files/shared.md', 'base\n');
    await json(a.api('POST', '/v1/sync/resync'));
    await json(b.api('POST', '/v1/sync/resync'));
    expect(await (await b.api('GET', '/v1/files/shared.md')).text()).toBe('base\n');
    const paused = await runCli(['sync', 'pause', ...root, '--json']);
    expect(paused.stderr).toBe('');
    expect(JSON.parse(paused.stdout.toString())).toMatchObject({ control: 'pause', status: { state: 'paused' } });
    await a.api('PUT', '/v1/files/shared.md', 'from A\n');
    await json(a.api('POST', '/v1/sync/resync'));
    await b.api('PUT', '/v1/files/shared.md', 'from B\n');
    const resumed = await runCli(['sync', 'resume', ...root]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout.toString()).toMatch(/^resume: done; sync is /);
    const conflict = await b.log.next(event('conflict'), { seen: true });
    expect(conflict).toMatchObject({ level: 'warn', path: '/shared.md', remoteInstance: 'conflict-a' });
    // The copy holds A's content, and its name says so.
    expect(conflict.copyPath).toMatch(/^\/shared\.sync-conflict-\d{8}-\d{6}-conflict-a\.md$/);
  }, 90_000);

  it('requests are logged at debug level, without their query', async () => {
    const { log, api } = await serve('requests', ['--log-level', 'debug', '--no-sync']);
    expect((await api('GET', '/v1/files/missing.md?secret=s3cr3t')).status).toBe(404);
    const line = await log.next((r) => r.event === 'request' && r.path === '/v1/files/missing.md', { seen: true });
    expect(line).toMatchObject({ level: 'debug', method: 'GET', status: 404 });
    expect(JSON.stringify(log.records)).not.toContain('s3cr3t');
  });

  it('--log-level warn leaves the info lines out; an unknown level is a usage error', async () => {
    const { serve: quiet } = await serve('quiet', ['--log-level', 'warn', '--no-sync']);
    expect(quiet.stderr()).not.toMatch(/scope_started/);
    const wrong = await runCli(['serve', '--root', join(dir, 'wrong'), '--log-level', 'loud']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/loud.*Allowed choices are trace, debug, info, warn, error, fatal, silent/s);
  });
});
