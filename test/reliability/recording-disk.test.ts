/**
 * The recording disk driver's answers that the reliability oracle relies on
 * to excuse a token: only writes inside the window asked about count, and
 * only tokens the outside save did not keep.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingDisk } from './fixtures/recording-disk.js';

let dir: string;
let disk: RecordingDisk;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-recording-disk-'));
  disk = new RecordingDisk({ root: dir, fsync: false });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const clock = () => process.hrtime.bigint();

describe('RecordingDisk.clobberedWithin (a rename save over a scopefs write it never read)', () => {
  it('names the tokens of a write that landed between the save check and its rename, minus what the save kept', async () => {
    const checkedAt = clock();
    await disk.write('/notes.md', new TextEncoder().encode('#k1# one\n#k2# two\n'));
    const renamedAt = clock();
    expect(disk.clobberedWithin('/notes.md', checkedAt, renamedAt, ['#k2#', '#k9#']).sort()).toEqual(['#k1#']);
    expect(disk.clobberedWithin('/notes.md', checkedAt, renamedAt, ['#k1#', '#k2#'])).toEqual([]);
    expect(disk.clobberedWithin('/other.md', checkedAt, renamedAt, [])).toEqual([]);
  });

  it('ignores writes whose span does not overlap the window: done before the check, or begun after the rename', async () => {
    await disk.write('/notes.md', new TextEncoder().encode('#k1# before\n'));
    const checkedAt = clock();
    const renamedAt = clock();
    expect(disk.clobberedWithin('/notes.md', checkedAt, renamedAt, [])).toEqual([]);
    await disk.write('/notes.md', new TextEncoder().encode('#k3# after\n'));
    expect(disk.clobberedWithin('/notes.md', checkedAt, renamedAt, [])).toEqual([]);
  });
});
