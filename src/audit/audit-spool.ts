/**
 * The local audit log: append-only JSONL segments under `.scopefs/audit/`
 * (`000001.jsonl`, `000002.jsonl`, ...; the highest is open, from the first
 * append on: a scope that records nothing creates no files). An append (of
 * one entry or a batch) is one synchronous `writeSync` on an fd opened for
 * appending, as the journal's is: once it returns, the entries survive a
 * killed process. Entries a journal record carried are appended later, in
 * batches, and after a crash from the journal (`recoverSync`). A segment
 * past `segmentBytes` is closed and the next one opened; retention removes
 * whole old segments and trims the oldest kept one.
 *
 * A crash in the middle of an append leaves a torn last line; opening the
 * log cuts it off, so the next append starts on a line of its own.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fsErrors, errorMessage } from '../errors.js';
import { auditLine } from './audit-line.js';
import { checkAuditQuery, checkRetention, prunedCount, selectNewest } from './audit-query.js';
import type { AuditEntry, AuditLog, AuditQuery, AuditRetention } from './types.js';

export interface AuditSpoolOptions {
  /** Close the open segment and start the next once it is this large. Default 4 MiB. */
  segmentBytes?: number;
}

/** How far a shipper got: the last entry it stored, and its segment. */
export interface SpoolPosition {
  segment: number;
  id: string;
}

const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;
const SEGMENT = /^(\d{6})\.jsonl$/;

export class AuditSpool implements AuditLog {
  /** The open segment: opened by the first append (or prune), so a scope that records nothing creates no files. */
  private open: { fd: number; segment: number; bytes: number } | undefined;
  private readonly segmentBytes: number;
  private closed = false;

  constructor(
    readonly dir: string,
    options: AuditSpoolOptions = {},
  ) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  }

  /** The highest segment, opened for appending after its torn last line (if any) is cut off. */
  private opened(): { fd: number; segment: number; bytes: number } {
    if (this.open) return this.open;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const segment = segmentsIn(this.dir).at(-1) ?? 1;
    const path = this.segmentPath(segment);
    const bytes = cutTornLine(path);
    this.open = { fd: openSync(path, 'a', 0o600), segment, bytes };
    return this.open;
  }

  /** Whether there is anything to read: never when nothing was appended and the directory is missing (asked without blocking). */
  private async anything(): Promise<boolean> {
    if (this.open) return true;
    try {
      return (await readdir(this.dir)).some((name) => SEGMENT.test(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /** Appends entries durably, in one write (they survive a killed process once this returns); `lines`: theirs, when made already. */
  appendSync(entries: readonly AuditEntry[], lines?: readonly string[]): void {
    if (this.closed) throw fsErrors.invalid('the audit log is closed (its scope stopped)');
    if (entries.length === 0) return;
    const open = this.opened();
    let text = '';
    for (let i = 0; i < entries.length; i++) text += `${lines?.[i] ?? auditLine(entries[i]!)}\n`;
    // The string is written as it is (node encodes it into its own buffer: about 1 µs less than a Buffer of ours).
    // A short write, rare on a regular file, goes on byte-exact from an encoded copy.
    const length = Buffer.byteLength(text);
    let written = writeSync(open.fd, text);
    if (written < length) {
      const bytes = Buffer.from(text);
      while (written < length) written += writeSync(open.fd, bytes, written);
    }
    open.bytes += length;
    if (open.bytes >= this.segmentBytes) this.rotate(open);
  }

  /** Appends the entries recovered from a journal that are not here yet (see `heldAlready`). */
  recoverSync(entries: readonly AuditEntry[]): void {
    const newestFirst = existsSync(this.dir) ? segmentsIn(this.dir).reverse() : [];
    const held = heldAlready(entries, readEach(newestFirst.map((n) => this.segmentPath(n))));
    this.appendSync(entries.filter((e) => !held.has(e.id)));
  }

  async append(entries: readonly AuditEntry[]): Promise<void> {
    const known = new Set((await this.all()).map((e) => e.id));
    this.appendSync(entries.filter((e) => !known.has(e.id)));
  }

  async query(query?: AuditQuery): Promise<AuditEntry[]> {
    const checked = checkAuditQuery(query);
    return selectNewest(await this.all(), checked);
  }

  async prune(retention: AuditRetention): Promise<number> {
    checkRetention(retention);
    if (!(await this.anything()) || this.closed) return 0;
    // From here on synchronous, as appends are: no entry is appended between reading a segment and rewriting it.
    const open = this.opened();
    const segments = segmentsIn(this.dir);
    const perSegment = segments.map((n) => readSegment(this.segmentPath(n)));
    let drop = prunedCount(perSegment.flat(), retention);
    const dropped = drop;
    for (let i = 0; i < segments.length && drop > 0; i++) {
      const entries = perSegment[i]!;
      const n = segments[i]!;
      if (n === open.segment) {
        this.rewriteOpen(open, entries.slice(drop));
        drop = 0;
      } else if (drop >= entries.length) {
        unlinkSync(this.segmentPath(n));
        drop -= entries.length;
      } else {
        writeAtomically(this.segmentPath(n), entries.slice(drop));
        drop = 0;
      }
    }
    return dropped;
  }

  /**
   * The entries after `position` (the segment and id last shipped), oldest
   * first, each with its segment. An id no longer there (pruned) ships its
   * whole segment again: storing is idempotent, skipping is not.
   */
  async readFrom(position: SpoolPosition | undefined): Promise<Array<{ segment: number; entry: AuditEntry }>> {
    const out: Array<{ segment: number; entry: AuditEntry }> = [];
    if (!(await this.anything())) return out;
    for (const n of segmentsIn(this.dir)) {
      if (position && n < position.segment) continue;
      let entries = readSegment(this.segmentPath(n));
      if (position && n === position.segment) {
        const at = entries.findIndex((e) => e.id === position.id);
        if (at >= 0) entries = entries.slice(at + 1);
      }
      for (const entry of entries) out.push({ segment: n, entry });
    }
    return out;
  }

  /** Every entry, oldest first. */
  async all(): Promise<AuditEntry[]> {
    if (!(await this.anything())) return [];
    return segmentsIn(this.dir).flatMap((n) => readSegment(this.segmentPath(n)));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.open) closeSync(this.open.fd);
  }

  private rotate(open: { fd: number; segment: number; bytes: number }): void {
    closeSync(open.fd);
    open.segment += 1;
    open.fd = openSync(this.segmentPath(open.segment), 'a', 0o600);
    open.bytes = 0;
  }

  private rewriteOpen(open: { fd: number; segment: number; bytes: number }, kept: AuditEntry[]): void {
    closeSync(open.fd);
    const path = this.segmentPath(open.segment);
    writeAtomically(path, kept);
    open.fd = openSync(path, 'a', 0o600);
    open.bytes = statSync(path).size;
  }

  private segmentPath(n: number): string {
    return join(this.dir, `${String(n).padStart(6, '0')}.jsonl`);
  }
}

/**
 * The ids of `carried` (entries a journal's records carry) that the log
 * holds already, reading its segments newest first. Every carried entry was
 * made by one run of a recorder (the part of its id before the last `-`),
 * numbered in order, and reaches the log in that order; so the reading stops
 * at a segment that holds none of those runs' entries, or one older than
 * every carried entry of its run.
 */
export function heldAlready(carried: readonly AuditEntry[], segmentsNewestFirst: Iterable<AuditEntry[]>): Set<string> {
  const ids = new Set(carried.map((e) => e.id));
  const firstOfRun = new Map<string, number>();
  for (const { id } of carried) {
    const [run, seq] = runAndSeq(id);
    firstOfRun.set(run, Math.min(seq, firstOfRun.get(run) ?? Infinity));
  }
  const held = new Set<string>();
  for (const entries of segmentsNewestFirst) {
    if (entries.length === 0) continue; // just rotated into
    let ofTheRuns = false;
    let older = false;
    for (const { id } of entries) {
      const [run, seq] = runAndSeq(id);
      const first = firstOfRun.get(run);
      if (first === undefined) continue;
      ofTheRuns = true;
      if (ids.has(id)) held.add(id);
      else if (seq < first) older = true;
    }
    if (!ofTheRuns || older) break;
  }
  return held;
}

function runAndSeq(id: string): [string, number] {
  const dash = id.lastIndexOf('-');
  return [id.slice(0, dash), Number(id.slice(dash + 1))];
}

function segmentsIn(dir: string): number[] {
  return readdirSync(dir)
    .map((name) => SEGMENT.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** Each segment's entries, read only when asked for. */
function* readEach(paths: readonly string[]): Generator<AuditEntry[]> {
  for (const path of paths) yield readSegment(path);
}

/** The entries of one segment; a torn or unreadable line (only ever the last, after a crash) is skipped. */
function readSegment(path: string): AuditEntry[] {
  if (!existsSync(path)) return [];
  const entries: AuditEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '') continue;
    try {
      entries.push(JSON.parse(line) as AuditEntry);
    } catch {
      // a torn append
    }
  }
  return entries;
}

/** Truncates `path` after its last complete line (a crash may have torn the last append); returns its size. */
function cutTornLine(path: string): number {
  if (!existsSync(path)) return 0;
  const data = readFileSync(path);
  if (data.length === 0 || data[data.length - 1] === 0x0a) return data.length;
  const keep = data.lastIndexOf(0x0a) + 1;
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, keep);
  } finally {
    closeSync(fd);
  }
  return keep;
}

function writeAtomically(path: string, entries: AuditEntry[]): void {
  const tmp = `${path}.tmp`;
  try {
    writeFileSync(tmp, entries.map((e) => `${auditLine(e)}\n`).join(""), { mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    throw fsErrors.io(path, `rewriting the audit log failed: ${errorMessage(err)}`);
  }
}
