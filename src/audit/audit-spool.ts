/**
 * The local audit log: append-only JSONL segments under `.scopefs/audit/`
 * (`000001.jsonl`, `000002.jsonl`, ...; the highest is open). An append is
 * one synchronous `writeSync` on an fd opened for appending, as the journal's
 * is: once it returns, the entry survives a killed process, so an entry
 * written in the same turn as a journal record is as durable as that record.
 * A segment past `segmentBytes` is closed and the next one opened; retention
 * removes whole old segments and trims the oldest kept one.
 *
 * A crash in the middle of an append leaves a torn last line; opening the
 * log cuts it off, so the next append starts on a line of its own.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fsErrors, errorMessage } from '../errors.js';
import { checkAuditQuery, prunedCount, selectNewest } from './audit-query.js';
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
  private fd: number;
  private segment: number;
  private bytes: number;
  private readonly segmentBytes: number;
  private closed = false;

  constructor(
    readonly dir: string,
    options: AuditSpoolOptions = {},
  ) {
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.segment = segmentsIn(dir).at(-1) ?? 1;
    const path = this.segmentPath(this.segment);
    this.bytes = cutTornLine(path);
    this.fd = openSync(path, 'a', 0o600);
  }

  /** Appends one entry durably (survives a killed process once this returns). */
  appendSync(entry: AuditEntry): void {
    if (this.closed) throw fsErrors.invalid('the audit log is closed (its scope stopped)');
    // Encoded once: the length and the write use the same bytes (a short write, rare on a regular file, goes on byte-exact).
    const bytes = Buffer.from(`${JSON.stringify(entry)}\n`);
    let written = 0;
    while (written < bytes.byteLength) written += writeSync(this.fd, bytes, written);
    this.bytes += bytes.byteLength;
    if (this.bytes >= this.segmentBytes) this.rotate();
  }

  async append(entries: readonly AuditEntry[]): Promise<void> {
    const known = new Set((await this.all()).map((e) => e.id));
    for (const entry of entries) if (!known.has(entry.id)) this.appendSync(entry);
  }

  async query(query?: AuditQuery): Promise<AuditEntry[]> {
    const checked = checkAuditQuery(query);
    return selectNewest(await this.all(), checked);
  }

  async prune(retention: AuditRetention): Promise<number> {
    const segments = segmentsIn(this.dir);
    const perSegment = segments.map((n) => readSegment(this.segmentPath(n)));
    let drop = prunedCount(perSegment.flat(), retention);
    const dropped = drop;
    for (let i = 0; i < segments.length && drop > 0; i++) {
      const entries = perSegment[i]!;
      const n = segments[i]!;
      if (n === this.segment) {
        this.rewriteOpen(entries.slice(drop));
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
    return segmentsIn(this.dir).flatMap((n) => readSegment(this.segmentPath(n)));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    this.segment += 1;
    this.fd = openSync(this.segmentPath(this.segment), 'a', 0o600);
    this.bytes = 0;
  }

  private rewriteOpen(kept: AuditEntry[]): void {
    closeSync(this.fd);
    const path = this.segmentPath(this.segment);
    writeAtomically(path, kept);
    this.fd = openSync(path, 'a', 0o600);
    this.bytes = statSync(path).size;
  }

  private segmentPath(n: number): string {
    return join(this.dir, `${String(n).padStart(6, '0')}.jsonl`);
  }
}

function segmentsIn(dir: string): number[] {
  return readdirSync(dir)
    .map((name) => SEGMENT.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
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
    writeFileSync(tmp, entries.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    throw fsErrors.io(path, `rewriting the audit log failed: ${errorMessage(err)}`);
  }
}
