/**
 * Entries a journal carried, written to the log at the next start: those the
 * log holds already (written by a flush before the crash) are not written
 * again, and the log is read back only as far as it must be.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditSpool, heldAlready } from '../../src/audit/audit-spool.js';
import type { AuditEntry } from '../../src/audit/types.js';

const of = (run: string, seq: number): AuditEntry => ({ id: `${run}-${seq}`, at: seq, actor: 'a', operation: 'write', paths: ['/x'], result: 'ok' });
const range = (run: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => of(run, from + i));
const ids = (set: Set<string>) => [...set].sort();

describe('heldAlready', () => {
  it('finds nothing when no carried entry reached the log, reading one segment', () => {
    let read = 0;
    const segments = function* () {
      for (const s of [range('old', 1, 5), range('older', 1, 5)]) {
        read++;
        yield s;
      }
    };
    expect(ids(heldAlready(range('run', 1, 3), segments()))).toEqual([]);
    expect(read).toBe(1);
  });

  it('finds the carried entries a flush wrote, across segments and an empty newest one, and stops at an older entry of the run', () => {
    let read = 0;
    const newestFirst = [[], range('run', 8, 9), [of('run', 4), ...range('run', 5, 7)], range('run', 1, 3)];
    const segments = function* () {
      for (const s of newestFirst) {
        read++;
        yield s;
      }
    };
    // Carried: 5..12 (the journal's last shrink was after 4); the log holds 5..9.
    expect(ids(heldAlready(range('run', 5, 12), segments()))).toEqual(['run-5', 'run-6', 'run-7', 'run-8', 'run-9']);
    expect(read).toBe(3); // the segment holding run-4 is the last one read
  });

  it('tells runs apart: another run\'s entries with the same numbers are not these', () => {
    expect(ids(heldAlready(range('run', 1, 2), [[...range('other', 1, 2), of('run', 1)]]))).toEqual(['run-1']);
  });
});

describe('AuditSpool.recoverSync', () => {
  it('appends what is missing once, in order, even when recovery runs twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scopefs-audit-recover-'));
    try {
      const spool = new AuditSpool(dir, { segmentBytes: 400 });
      spool.appendSync(range('run', 1, 6)); // 1..3 before the journal's last shrink, 4..6 flushed after it
      spool.recoverSync(range('run', 4, 9));
      spool.recoverSync(range('run', 4, 9)); // a crash during the first recovery's start
      expect((await spool.all()).map((e) => e.id)).toEqual(range('run', 1, 9).map((e) => e.id));
      spool.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
