import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, NODE_ARGS, REPO, runCli, startServe } from './helpers.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-cli-paths-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CLI paths and messages', () => {
  it('relative paths resolve against /; ls of a missing prefix says so and exits 1', async () => {
    const root = ['--root', join(dir, 'ws')];
    const wrote = await runCli(['write', 'notes/a.md', ...root], { input: 'hello\n' });
    expect(wrote.code, wrote.stderr).toBe(0);
    expect(wrote.stdout.toString()).toMatch(/to \/notes\/a\.md/);
    expect((await runCli(['cat', '/notes/a.md', ...root])).stdout.toString()).toBe('hello\n');
    expect((await runCli(['ls', 'notes', ...root])).stdout.toString()).toMatch(/\/notes\/a\.md/);
    expect((await runCli(['ls', 'notes/a.md', ...root])).stdout.toString()).toMatch(/ 6 .* \/notes\/a\.md\n$/);
    const missing = await runCli(['ls', 'nowhere', ...root]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nothing under \/nowhere; scopefs ls \/ lists every file/);
  }, 60_000);

  it('an unknown command names the help command', async () => {
    const unknown = await runCli(['bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'bogus'\n\(run scopefs --help to list the commands\)/);
  });

  it('mcp refuses a --root that does not exist unless --create', async () => {
    const refused = await runCli(['mcp', '--root', join(dir, 'typo')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/no workspace at .*typo; check --root, or pass --create/);
  });

  it('events follows the running serve\'s event stream', async () => {
    const root = join(dir, 'served');
    const serve = await startServe(['--root', root, '--port', '0', '--no-sync']);
    const child = spawn(process.execPath, [...NODE_ARGS, 'events', '--root', root, '--json'], { cwd: REPO, env: childEnv() });
    try {
      const lines = createInterface({ input: child.stdout });
      const seen: Array<Record<string, unknown>> = [];
      const updated = new Promise<Record<string, unknown>>((resolve) =>
        lines.on('line', (line) => {
          const event = JSON.parse(line) as Record<string, unknown>;
          seen.push(event);
          if (event.event === 'ready') void write();
          if (event.event === 'file_updated') resolve(event);
        }),
      );
      const token = (await readFile(serve.info.tokenFile!, 'utf8')).trim();
      const write = () => fetch(`${serve.info.url}/v1/files/live.md`, { method: 'PUT', body: 'x', headers: { authorization: `Bearer ${token}` } });
      expect(await updated).toMatchObject({ event: 'file_updated', path: '/live.md' });
    } finally {
      child.kill('SIGTERM');
      await serve.stop();
    }
  }, 60_000);
});
