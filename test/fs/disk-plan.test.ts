/**
 * The memory-vs-disk decision as a table: every row of the reconcile table
 * with memory as the local side and the disk as the remote one, plus the
 * invariant that matters most: no plan drops a side's content.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/content.js';
import type { DiskBase } from '../../src/fs/disk-bases.js';
import { planDisk, type DiskPlan, type DiskSide, type MemorySide } from '../../src/fs/disk-plan.js';
import { RECONCILE_TABLE, type ReconcileCase } from '../../src/sync/reconcile.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const memoryOf = (text: string): MemorySide => ({ hash: sha256(bytes(text)), content: bytes(text) });
const diskOf = (text: string, version: string): DiskSide => ({ version, hash: sha256(bytes(text)), content: bytes(text) });
const baseOf = (text: string, version: string): DiskBase => ({ version, hash: sha256(bytes(text)), content: bytes(text) });
const ABSENT: DiskBase = { version: null };

const BASE = 'line 1\nline 2\nline 3\n';
const MEMORY_EDIT = 'line 1 (memory)\nline 2\nline 3\n';
const DISK_EDIT = 'line 1\nline 2\nline 3 (disk)\n';

interface Row {
  case: ReconcileCase;
  memory: MemorySide | null;
  base: DiskBase;
  disk: DiskSide | null;
  expect: Pick<DiskPlan, 'memory' | 'disk'> & { conflict?: boolean };
}

/** One concrete input per table row, with the changes it must produce. */
const ROWS: Row[] = [
  { case: 'unchanged', memory: memoryOf(BASE), base: baseOf(BASE, 'v1'), disk: diskOf(BASE, 'v1'), expect: { memory: { kind: 'keep' }, disk: 'keep' } },
  { case: 'unchanged', memory: memoryOf(BASE), base: baseOf(BASE, 'v1'), disk: diskOf(BASE, 'v2'), expect: { memory: { kind: 'settled' }, disk: 'keep' } },
  { case: 'local_changed', memory: memoryOf(MEMORY_EDIT), base: baseOf(BASE, 'v1'), disk: diskOf(BASE, 'v1'), expect: { memory: { kind: 'keep' }, disk: 'write' } },
  { case: 'local_changed', memory: memoryOf(MEMORY_EDIT), base: baseOf(BASE, 'v1'), disk: diskOf(BASE, 'v2'), expect: { memory: { kind: 'keep' }, disk: 'write' } },
  { case: 'remote_changed', memory: memoryOf(BASE), base: baseOf(BASE, 'v1'), disk: diskOf(DISK_EDIT, 'v2'), expect: { memory: { kind: 'take_disk' }, disk: 'keep' } },
  { case: 'both_changed_same', memory: memoryOf(DISK_EDIT), base: baseOf(BASE, 'v1'), disk: diskOf(DISK_EDIT, 'v2'), expect: { memory: { kind: 'settled' }, disk: 'keep' } },
  {
    case: 'both_changed',
    memory: memoryOf(MEMORY_EDIT),
    base: baseOf(BASE, 'v1'),
    disk: diskOf(DISK_EDIT, 'v2'),
    expect: { memory: { kind: 'merged', content: bytes('line 1 (memory)\nline 2\nline 3 (disk)\n') }, disk: 'write' },
  },
  { case: 'local_deleted_remote_changed', memory: null, base: baseOf(BASE, 'v1'), disk: diskOf(DISK_EDIT, 'v2'), expect: { memory: { kind: 'take_disk' }, disk: 'keep' } },
  { case: 'remote_deleted_local_changed', memory: memoryOf(MEMORY_EDIT), base: baseOf(BASE, 'v1'), disk: null, expect: { memory: { kind: 'keep' }, disk: 'write' } },
  { case: 'local_deleted', memory: null, base: baseOf(BASE, 'v1'), disk: diskOf(BASE, 'v1'), expect: { memory: { kind: 'keep' }, disk: 'delete' } },
  { case: 'local_deleted', memory: null, base: baseOf(BASE, 'v1'), disk: diskOf(BASE, 'v2'), expect: { memory: { kind: 'keep' }, disk: 'delete' } },
  { case: 'remote_deleted', memory: memoryOf(BASE), base: baseOf(BASE, 'v1'), disk: null, expect: { memory: { kind: 'delete' }, disk: 'keep' } },
  { case: 'both_deleted', memory: null, base: baseOf(BASE, 'v1'), disk: null, expect: { memory: { kind: 'keep' }, disk: 'keep' } },
  { case: 'local_only', memory: memoryOf(MEMORY_EDIT), base: ABSENT, disk: null, expect: { memory: { kind: 'keep' }, disk: 'write' } },
  { case: 'remote_only', memory: null, base: ABSENT, disk: diskOf(DISK_EDIT, 'v2'), expect: { memory: { kind: 'take_disk' }, disk: 'keep' } },
  { case: 'new_both_same', memory: memoryOf(DISK_EDIT), base: ABSENT, disk: diskOf(DISK_EDIT, 'v2'), expect: { memory: { kind: 'settled' }, disk: 'keep' } },
  { case: 'new_both_different', memory: memoryOf(MEMORY_EDIT), base: ABSENT, disk: diskOf(DISK_EDIT, 'v2'), expect: { memory: { kind: 'keep' }, disk: 'write', conflict: true } },
  { case: 'absent', memory: null, base: ABSENT, disk: null, expect: { memory: { kind: 'keep' }, disk: 'keep' } },
];

describe('planDisk: the memory-vs-disk table', () => {
  it('covers every case of the reconcile table', () => {
    expect(new Set(ROWS.map((r) => r.case))).toEqual(new Set(RECONCILE_TABLE.map((r) => r.case)));
  });

  it.each(ROWS.map((row, i) => [`${i}: ${row.case}`, row] as const))('%s', (_name, row) => {
    const plan = planDisk('/notes.md', row.memory, row.base, row.disk);
    expect(plan.case).toBe(row.case);
    expect(plan.memory).toEqual(row.expect.memory);
    expect(plan.disk).toBe(row.expect.disk);
    expect(plan.conflict !== undefined).toBe(row.expect.conflict ?? false);
    // The new base is always what was just read, so every write that follows is conditional on it.
    expect(plan.base.version).toBe(row.disk?.version ?? null);
  });

  it('an unloaded file stands for the base: a changed disk is taken in, an untouched one is left alone', () => {
    const indexed: DiskBase = { version: 'v1' }; // listed, never read: no hash
    const unloaded: MemorySide = { hash: undefined, content: undefined };
    expect(planDisk('/a.md', unloaded, indexed, diskOf('outside', 'v2')).memory).toEqual({ kind: 'take_disk' });
    expect(planDisk('/a.md', unloaded, indexed, { ...diskOf('same bytes', 'v1') })).toMatchObject({ case: 'unchanged', disk: 'keep' });
    expect(planDisk('/a.md', unloaded, indexed, null).memory).toEqual({ kind: 'delete' });
  });

  it('both changed with no base content to merge from keeps the disk version beside', () => {
    const indexed: DiskBase = { version: 'v1' };
    const plan = planDisk('/a.md', memoryOf(MEMORY_EDIT), indexed, diskOf(DISK_EDIT, 'v2'));
    expect(plan).toMatchObject({ case: 'both_changed', memory: { kind: 'keep' }, disk: 'write' });
    expect(Buffer.from(plan.conflict!.content).toString()).toBe(DISK_EDIT);
  });

  it('binary content is never merged: the disk version becomes a conflict copy', () => {
    const bin = (b: number[]) => new Uint8Array(b);
    const plan = planDisk(
      '/a.bin',
      { hash: sha256(bin([0, 1, 2])), content: bin([0, 1, 2]) },
      { version: 'v1', hash: sha256(bin([0, 1])), content: bin([0, 1]) },
      { version: 'v2', hash: sha256(bin([0, 1, 3])), content: bin([0, 1, 3]) },
    );
    expect(plan.conflict?.content).toEqual(bin([0, 1, 3]));
    expect(plan.disk).toBe('write');
  });

  it('invariant: no plan drops a side that changed (property over random sides)', () => {
    const text = fc.constantFrom('a\n', 'a\nb\n', 'b\n', '{"k":1}', '{"k":2}', '');
    const version = fc.constantFrom('v1', 'v2', 'v3');
    const side = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
    fc.assert(
      fc.property(side(text), side(fc.tuple(text, version)), side(fc.tuple(text, version)), (m, b, d) => {
        const memory = m === null ? null : memoryOf(m);
        const base: DiskBase = b === null ? ABSENT : baseOf(b[0], b[1]);
        // The same version always means the same bytes.
        const disk = d === null ? null : b !== null && d[1] === b[1] ? diskOf(b[0], b[1]) : diskOf(d[0], d[1] === b?.[1] ? 'fresh' : d[1]);
        const plan = planDisk('/f.txt', memory, base, disk);
        const after = outcome(plan, memory, disk);
        const baseText = b === null ? undefined : b[0];
        if (m !== null && m !== baseText) expect(after.some((t) => t.includes(m) || mergedFrom(t, m))).toBe(true);
        if (disk !== null && Buffer.from(disk.content).toString() !== baseText) {
          const diskText = Buffer.from(disk.content).toString();
          expect(after.some((t) => t.includes(diskText) || mergedFrom(t, diskText))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

/** The texts that exist after a plan is carried out: memory (which the disk then follows) and a conflict copy. */
function outcome(plan: DiskPlan, memory: MemorySide | null, disk: DiskSide | null): string[] {
  const texts: string[] = [];
  const memoryText = (side: { content?: Uint8Array } | null) => (side?.content ? Buffer.from(side.content).toString() : undefined);
  const after =
    plan.memory.kind === 'merged' ? Buffer.from(plan.memory.content).toString()
    : plan.memory.kind === 'take_disk' ? memoryText(disk)
    : plan.memory.kind === 'delete' ? undefined
    : memoryText(memory);
  if (after !== undefined) texts.push(after);
  if (plan.disk === 'keep' && disk) texts.push(memoryText(disk)!);
  if (plan.conflict) texts.push(Buffer.from(plan.conflict.content).toString());
  return texts;
}

/** A line-merge keeps every line a side added. */
function mergedFrom(merged: string, side: string): boolean {
  return side.split('\n').every((line) => merged.split('\n').includes(line));
}
