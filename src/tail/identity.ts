/**
 * A tailed file's cursor (how far it was read, and what the file was) and the
 * pure decision of where to read next: resume at the cursor, or start again
 * from the beginning because the file was truncated, replaced (a new inode:
 * rotation, rename-and-recreate) or rewritten in place (the bytes just before
 * the cursor are not the ones read there). Starting again is always safe:
 * records are upserted by key, so lines read twice are stored once.
 */

/** Bytes hashed at the start of the file and just before the cursor. */
export const PROBE_BYTES = 64;

export interface FileCursor {
  dev: string;
  ino: string;
  /** The offset just past the last complete line stored. */
  offset: number;
  /** Lines stored before `offset` (the next line's number is line + 1). */
  line: number;
  /** Hash of bytes [0, min(PROBE_BYTES, offset)). */
  headHash: string;
  /** Hash of bytes [max(0, offset - PROBE_BYTES), offset). */
  tailHash: string;
}

/** What the reader saw of the file now: its identity and the hashes of the cursor's probe ranges. */
export interface Observed {
  dev: string;
  ino: string;
  size: number;
  /** Hash of the same range as cursor.headHash, read now. */
  headHash: string;
  /** Hash of the same range as cursor.tailHash, read now. */
  tailHash: string;
}

export type RestartReason = 'new' | 'truncated' | 'replaced' | 'rewritten';

export type ReadDecision =
  | { kind: 'resume'; offset: number; line: number }
  | { kind: 'restart'; reason: RestartReason };

export function decideRead(cursor: FileCursor | undefined, observed: Observed): ReadDecision {
  if (!cursor) return { kind: 'restart', reason: 'new' };
  if (cursor.dev !== observed.dev || cursor.ino !== observed.ino) return { kind: 'restart', reason: 'replaced' };
  if (observed.size < cursor.offset) return { kind: 'restart', reason: 'truncated' };
  if (observed.headHash !== cursor.headHash || observed.tailHash !== cursor.tailHash) return { kind: 'restart', reason: 'rewritten' };
  return { kind: 'resume', offset: cursor.offset, line: cursor.line };
}

/** The byte ranges [start, end) whose hashes a cursor at `offset` keeps. */
export function probeRanges(offset: number): { head: [number, number]; tail: [number, number] } {
  return { head: [0, Math.min(PROBE_BYTES, offset)], tail: [Math.max(0, offset - PROBE_BYTES), offset] };
}

/** A cursor at the start of a file. */
export function startCursor(dev: string, ino: string, emptyHash: string): FileCursor {
  return { dev, ino, offset: 0, line: 0, headHash: emptyHash, tailHash: emptyHash };
}
