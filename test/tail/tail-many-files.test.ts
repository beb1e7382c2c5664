/** Many files: idle ones are closed past the open-handle bound, a closed file appended to is read again, a deleted one forgotten. */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { MemoryRecords, MemoryTailOffsets } from '../../persistence/records/memory-records.js';
import { resolveSources } from '../../src/tail/config.js';
import { Tailer } from '../../src/tail/tailer.js';
import { waitFor } from '../helpers/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'scopefs-tail-many-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const openFds = () => readdirSync('/proc/self/fd').length;

it.skipIf(process.platform !== 'linux')('tails 400 files with a bounded number of open handles', async () => {
  for (let i = 0; i < 400; i++) writeFileSync(join(dir, `s${i}.jsonl`), `{"file":${i}}\n`);
  const before = openFds();
  const records = new MemoryRecords();
  const tailer = await Tailer.start({ app: 'many', records, offsets: new MemoryTailOffsets(), sources: resolveSources([{ glob: `${dir}/*.jsonl` }], undefined), rescanMs: 100, backfillFiles: 1000 });
  try {
    await waitFor(async () => (await records.head('many')) === 400, 15_000, '400 records');
    expect(openFds() - before).toBeLessThan(300);
    appendFileSync(join(dir, 's0.jsonl'), '{"file":0,"again":true}\n'); // s0 was read first: its handle is closed by now
    await waitFor(async () => (await records.head('many')) === 401, 15_000, 'the appended line');
    expect((await records.since('many', 400))[0]).toMatchObject({ file: join(dir, 's0.jsonl'), line: 2, json: { file: 0, again: true } });
    unlinkSync(join(dir, 's1.jsonl')); // a deleted file is forgotten, cursor and all; its records stay
    await waitFor(() => tailer.status().sources[0]!.files.length === 399, 15_000, 'the deleted file forgotten');
    expect(await records.head('many')).toBe(401);
  } finally {
    await tailer.actor.stop('shutdown', 5_000);
  }
});

it('a source whose directory appears later is read once it is there', async () => {
  const later = join(dir, 'later');
  const records = new MemoryRecords();
  const tailer = await Tailer.start({ app: 'later', records, offsets: new MemoryTailOffsets(), sources: resolveSources([{ glob: `${later}/**/*.jsonl` }], undefined), rescanMs: 50 });
  try {
    expect(tailer.status().sources[0]!.errors.join()).toMatch(/cannot be watched/);
    mkdirSync(join(later, 'deep'), { recursive: true });
    writeFileSync(join(later, 'deep', 'a.jsonl'), '{"late":true}\n');
    await waitFor(async () => (await records.head('later')) === 1, 15_000, 'the record of the late directory');
    appendFileSync(join(later, 'deep', 'a.jsonl'), '{"late":2}\n');
    await waitFor(async () => (await records.head('later')) === 2, 15_000, 'the appended line');
    expect(tailer.status().sources[0]!.errors).toEqual([]);
  } finally {
    await tailer.actor.stop('shutdown', 5_000);
  }
});
