/** `scopefs serve --tail`, `scopefs tail status` and `scopefs tail backfill` against a real serve process. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startServe, type ServeProcess } from '../cli/helpers.js';

let dir: string;
let root: string;
let logs: string;
let serve: ServeProcess;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-tail-cli-'));
  root = join(dir, 'root');
  logs = join(dir, 'logs');
  await mkdir(logs, { recursive: true });
  await writeFile(join(logs, 'a.jsonl'), '{"n":1}\n{"n":2}\n');
  serve = await startServe(['--root', root, '--port', '0', '--tail', `${logs}/*.jsonl`]);
}, 90_000);
afterAll(async () => {
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('shows the tail status and backfills on demand', async () => {
  let status: { sources: Array<{ source: string; files: Array<{ file: string; lines: number }> }> } = { sources: [] };
  for (let i = 0; i < 200 && status.sources[0]?.files[0]?.lines !== 2; i++) {
    const result = await runCli(['tail', 'status', '--root', root, '--json']);
    expect(result.code, result.stderr.toString()).toBe(0);
    status = JSON.parse(result.stdout.toString());
  }
  expect(status.sources[0]).toMatchObject({ source: `${logs}/*.jsonl`, files: [{ file: join(logs, 'a.jsonl'), lines: 2 }] });
  const text = await runCli(['tail', 'status', '--root', root]);
  expect(text.stdout.toString()).toMatch(/a\.jsonl\s+offset 16\/16\s+2 lines/);
  const backfill = await runCli(['tail', 'backfill', '--root', root, '--json']);
  expect(JSON.parse(backfill.stdout.toString())).toEqual({ files: 0 });
}, 60_000);

it('without a running serve, says to start one', async () => {
  const result = await runCli(['tail', 'status', '--root', join(dir, 'nothing-here')]);
  expect(result.code).toBe(1);
  expect(result.stderr.toString()).toMatch(/no serve is running .*the tail runs in the serving scope/);
}, 30_000);
