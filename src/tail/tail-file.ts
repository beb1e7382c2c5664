/**
 * One tailed file: its cursor, an open handle and the partial line read so
 * far. `pump` reads what was appended since the cursor and stores it:
 * records are upserted first, the cursor saved second, so a crash in between
 * reads those lines again and the upsert stores nothing twice. Whether to
 * resume or start again is decided by decideRead (identity.ts, pure); this
 * class only does the reading.
 */
import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { errorMessage } from '../errors.js';
import type { RecordInput, StoreRecords, TailOffsets } from '../../persistence/records/types.js';
import { decideRead, probeRanges, startCursor, type FileCursor, type RestartReason } from './identity.js';
import { LineSplitter } from './lines.js';
import { toRecord } from './record.js';
import type { ResolvedSource } from './config.js';

/** Bytes read per step; the lines a step completes are stored in one upsert. */
const CHUNK_BYTES = 256 * 1024;
const EMPTY_HASH = hash(Buffer.alloc(0));

export interface PumpContext {
  app: string;
  records: StoreRecords;
  offsets: TailOffsets;
  now: () => number;
  /** Told after each upsert that stored something. */
  stored: (source: string, file: string, inserted: number, head: number) => void;
}

export interface TailedFileStatus {
  file: string;
  offset: number;
  size: number;
  lines: number;
  lagBytes: number;
  lagMs: number;
  restarts: number;
  lastRestart?: RestartReason;
  error?: string;
}

export class TailedFile {
  private handle: FileHandle | undefined;
  private handleId: string | undefined;
  private splitter: LineSplitter | undefined;
  private size = 0;
  private pendingSince: number | undefined;
  private restarts = 0;
  private lastRestart: RestartReason | undefined;
  private error: string | undefined;

  constructor(
    readonly source: ResolvedSource,
    /** Absolute path on disk. */
    readonly path: string,
    /** The name records carry: a scope path, or the absolute path outside the scope. */
    readonly name: string,
    private cursor: FileCursor | undefined,
    private readonly maxLine: number,
  ) {}

  /** Reads and stores everything complete up to the file's current end. Never throws: errors are kept for status. */
  async pump(context: PumpContext): Promise<void> {
    this.lastPumpAt = context.now();
    try {
      await this.pumpOnce(context);
      this.error = undefined;
    } catch (err) {
      this.error = errorMessage(err);
      await this.closeHandle();
    }
  }

  status(now: number): TailedFileStatus {
    const offset = this.cursor?.offset ?? 0;
    const lagBytes = Math.max(0, this.size - offset);
    return {
      file: this.name,
      offset,
      size: this.size,
      lines: this.cursor?.line ?? 0,
      lagBytes,
      lagMs: lagBytes > 0 && this.pendingSince !== undefined ? now - this.pendingSince : 0,
      restarts: this.restarts,
      ...(this.lastRestart ? { lastRestart: this.lastRestart } : {}),
      ...(this.error ? { error: this.error } : {}),
    };
  }

  async close(): Promise<void> {
    await this.closeHandle();
  }

  /** True once the path had no file at the last read (what its old handle held was read first). */
  gone = false;

  /** Identity, size and mtime at the last read. */
  private lastSeen: string | undefined;

  /** When it was last read (for closing idle handles). */
  lastPumpAt = 0;

  /** Whether the handle may be closed without losing anything: open, and read to its end (no partial line waiting). */
  get idle(): boolean {
    return this.handle !== undefined && this.cursor !== undefined && this.cursor.offset === this.size && this.splitter?.nextOffset === this.size;
  }

  private async pumpOnce(context: PumpContext): Promise<void> {
    let onDisk: Stats;
    try {
      onDisk = await stat(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.drainOld(context); // renamed away or deleted: what was appended before still counts
      this.gone = true;
      return;
    }
    // A closed idle file that is as it was when last read: nothing to open (the sweep's stat is the whole cost).
    const seen = `${identityOf(onDisk)}:${onDisk.size}:${onDisk.mtimeMs}`;
    if (!this.handle && this.cursor && seen === this.lastSeen && this.error === undefined) return;
    this.lastSeen = seen;
    if (this.handle && this.handleId !== identityOf(onDisk)) await this.drainOld(context);
    if (!this.handle) {
      this.handle = await open(this.path, 'r');
      this.handleId = identityOf(await this.handle.stat());
    }
    const now = await this.handle.stat();
    this.size = now.size;
    await this.decide(now);
    if (this.size > this.cursor!.offset) this.pendingSince ??= context.now();
    await this.readToEnd(context, this.handle, now.size);
  }

  /** Resumes at the cursor, or starts the file again from 0 (decideRead says which). */
  private async decide(now: Stats): Promise<void> {
    const handle = this.handle!;
    const cursor = this.cursor;
    const probes = probeRanges(cursor?.offset ?? 0);
    const observed = {
      dev: String(now.dev),
      ino: String(now.ino),
      size: now.size,
      headHash: hash(await readRange(handle, probes.head)),
      tailHash: hash(await readRange(handle, probes.tail)),
    };
    const decision = decideRead(cursor, observed);
    if (decision.kind === 'resume') {
      if (this.splitter?.lineOffset !== decision.offset) this.splitter = new LineSplitter(decision.offset, this.maxLine);
      return;
    }
    if (decision.reason !== 'new' || cursor) {
      this.restarts++;
      this.lastRestart = decision.reason;
    }
    this.cursor = startCursor(observed.dev, observed.ino, EMPTY_HASH);
    this.splitter = new LineSplitter(0, this.maxLine);
  }

  private async readToEnd(context: PumpContext, handle: FileHandle, size: number): Promise<void> {
    const splitter = (this.splitter ??= new LineSplitter(this.cursor!.offset, this.maxLine));
    while (splitter.nextOffset < size) {
      const start = this.cursor!.offset;
      const chunk = await readRange(handle, [splitter.nextOffset, Math.min(size, splitter.nextOffset + CHUNK_BYTES)]);
      if (chunk.length === 0) break; // truncated while reading: the next pump decides
      const lines = splitter.push(chunk);
      // Read, then check that the bytes before the cursor are still the ones stored: a file rewritten
      // meanwhile is read again from 0 next time, instead of storing fragments of its new content.
      if (hash(await readRange(handle, probeRanges(start).tail)) !== this.cursor!.tailHash) {
        this.splitter = undefined;
        return;
      }
      if (lines.length > 0) await this.store(context, handle, lines);
    }
    if (this.cursor!.offset >= size) this.pendingSince = undefined;
  }

  private async store(context: PumpContext, handle: FileHandle, lines: ReturnType<LineSplitter['push']>): Promise<void> {
    const cursor = this.cursor!;
    const at = context.now();
    let lineNo = cursor.line;
    const records: RecordInput[] = lines.map((line) => toRecord(this.source, this.name, line, ++lineNo, at));
    const { inserted, head } = await context.records.upsert(context.app, records);
    const end = lines[lines.length - 1]!.end;
    const probes = probeRanges(end);
    this.cursor = {
      dev: cursor.dev,
      ino: cursor.ino,
      offset: end,
      line: lineNo,
      headHash: hash(await readRange(handle, probes.head)),
      tailHash: hash(await readRange(handle, probes.tail)),
    };
    await context.offsets.save(context.app, this.source.name, this.path, JSON.stringify(this.cursor));
    if (inserted > 0) context.stored(this.source.name, this.name, inserted, head);
  }

  /** The file at the path is another one now (or none): finish the old one through its handle, then let it go. */
  private async drainOld(context: PumpContext): Promise<void> {
    const handle = this.handle;
    if (!handle) return;
    if (this.cursor && this.cursor.ino === this.handleId?.split(':')[1]) {
      await this.readToEnd(context, handle, (await handle.stat()).size);
    }
    await this.closeHandle();
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = this.handleId = undefined;
    this.splitter = undefined;
    await handle?.close().catch(() => undefined);
  }
}

function identityOf(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

function hash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}

async function readRange(handle: FileHandle, [start, end]: [number, number]): Promise<Buffer> {
  const length = end - start;
  if (length <= 0) return Buffer.alloc(0);
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, start + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

export function parseCursor(state: string): FileCursor | undefined {
  try {
    const cursor = JSON.parse(state) as FileCursor;
    return typeof cursor.offset === 'number' && typeof cursor.ino === 'string' ? cursor : undefined;
  } catch {
    return undefined; // an unreadable cursor: the file is read again from the start (dedupe keeps that safe)
  }
}
