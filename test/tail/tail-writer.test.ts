/**
 * A real writer process appends to a JSONL file (partial lines, invalid
 * lines, a truncate, a rename-and-recreate) while a scope in another process
 * tails it, and that process is killed with SIGKILL and restarted mid-way:
 * at the end every complete line is a record exactly once, in order.
 */
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SqliteRecords } from '../../persistence/records/sqlite-records.js';
import type { StoredRecord } from '../../persistence/records/types.js';
import { waitFor } from '../helpers/postgres.js';
import { startTailChild, startWriter, type TailChild, type Writer } from './tail-processes.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-tail-writer-'));
const root = join(dir, 'root');
const logs = join(dir, 'logs');
const file = join(logs, 'a.jsonl');
let writer: Writer;
let records: SqliteRecords;
const expected: string[] = [];
let n = 0;

beforeAll(() => {
  mkdirSync(root, { recursive: true });
  mkdirSync(logs, { recursive: true });
  writer = startWriter();
});

afterAll(async () => {
  await writer.close();
  await records?.close();
});

function textOf(record: StoredRecord): string {
  return record.json !== undefined ? JSON.stringify(record.json) : record.raw!;
}

async function all(): Promise<StoredRecord[]> {
  records ??= new SqliteRecords(join(root, '.scopefs', 'tail.db'));
  const out: StoredRecord[] = [];
  for (let cursor = 0; ; ) {
    const page = await records.since('default', cursor, { limit: 10_000 });
    if (page.length === 0) return out;
    out.push(...page);
    cursor = page.at(-1)!.seq;
  }
}

/** Appends `count` lines, every third one in two writes (the first half waits for its newline), every seventh invalid. */
async function appendLines(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    n++;
    const line = n % 7 === 0 ? `not json ${n}` : JSON.stringify({ n, text: `line ${n}` });
    expected.push(line);
    if (n % 3 === 0) {
      await writer.write(file, line.slice(0, 5));
      await writer.write(file, `${line.slice(5)}\n`);
    } else await writer.write(file, `${line}\n`);
  }
}

async function caughtUp(): Promise<void> {
  await waitFor(async () => (await all()).length >= expected.length, 30_000, `${expected.length} records`);
}

it('stores every complete line exactly once, in order, through truncation, rotation and a SIGKILL', async () => {
  let tailer: TailChild = await startTailChild({ root, glob: `${logs}/*.jsonl` });
  try {
    await appendLines(40);
    await writer.write(file, '{"partial": tr'); // no newline yet: not a record
    await caughtUp();
    await writer.write(file, 'ue}\n');
    expected.push('{"partial":true}');
    await caughtUp();

    // Truncated, then written again.
    await writer.truncate(file);
    await appendLines(30);
    await caughtUp();

    // Killed while lines keep coming, restarted: it resumes from its saved cursor.
    const before = expected.length;
    let killed!: () => void;
    const afterKill = new Promise<void>((resolve) => (killed = resolve));
    // Lines keep coming across the kill: half before it (while they are being stored), half after.
    const burst = appendLines(200).then(() => afterKill).then(() => appendLines(200));
    await waitFor(async () => (await all()).length > before + 20, 30_000, 'part of the burst');
    await tailer.kill();
    killed();
    await burst;
    tailer = await startTailChild({ root, glob: `${logs}/*.jsonl` });
    await caughtUp();

    // Rotation: the last lines of the old file are read through its open handle, then the new file from 0.
    await appendLines(10);
    await writer.rename(file, `${file}.1`);
    await appendLines(10);
    await caughtUp();
  } finally {
    await tailer.stop();
  }
  const stored = await all();
  expect(stored.map(textOf)).toEqual(expected);
  expect(new Set(stored.map((r) => r.key)).size).toBe(stored.length);
  expect(stored.filter((r) => r.error?.code === 'EPARSE').length).toBe(expected.filter((l) => l.startsWith('not json')).length);
}, 90_000);
