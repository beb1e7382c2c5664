/**
 * An in-memory persistence driver for tests and memory-only deployments.
 *
 * Besides the driver contract it offers test hooks: operation counters (so a
 * test can assert "exactly one persist" or "loaded once"), failure injection
 * (`failNext`), blocking an operation until released (`block`), and direct
 * inspection (`peek`, `seed`) that does not touch the counters.
 */
import { normalizePath, normalizePrefix, isUnder } from '../../src/paths.js';
import { fsErrors } from '../../src/errors.js';
import type { PersistenceDriver, StoredFileMeta } from './types.js';

export type MemoryOp = 'write' | 'load' | 'delete' | 'move' | 'list';

interface StoredFile {
  bytes: Uint8Array;
  createdAt: number;
  modifiedAt: number;
}

interface Injection {
  remaining: number;
  error: Error | undefined;
}

export interface MemoryDriverOptions {
  name?: string;
}

/** One successful mutating operation, in the order applied. */
export type MemoryDriverEvent =
  | { op: 'write'; path: string }
  | { op: 'delete'; path: string }
  | { op: 'move'; from: string; to: string };

export class MemoryDriver implements PersistenceDriver {
  readonly name: string;
  private readonly files = new Map<string, StoredFile>();
  private readonly injections = new Map<MemoryOp, Injection[]>();
  private readonly blocks = new Map<MemoryOp, Promise<void>>();
  private readonly counts: Record<MemoryOp, number> = { write: 0, load: 0, delete: 0, move: 0, list: 0 };
  private readonly history: MemoryDriverEvent[] = [];
  private batchCount = 0;
  private failureCount = 0;

  constructor(options: MemoryDriverOptions = {}) {
    this.name = options.name ?? 'memory';
  }

  /** Successful file writes (each item of a `writeMany` counts once). */
  get writes(): number {
    return this.counts.write;
  }
  /** Successful loads, including loads of missing files (which return null). */
  get loads(): number {
    return this.counts.load;
  }
  get deletes(): number {
    return this.counts.delete;
  }
  get moves(): number {
    return this.counts.move;
  }
  get lists(): number {
    return this.counts.list;
  }
  /** Calls to `writeMany`. */
  get batches(): number {
    return this.batchCount;
  }
  /** Operations that failed because of `failNext`. */
  get failures(): number {
    return this.failureCount;
  }
  /** Successful mutating operations, oldest first. */
  get events(): ReadonlyArray<MemoryDriverEvent> {
    return this.history;
  }

  async write(path: string, content: Uint8Array): Promise<void> {
    const key = normalizePath(path);
    await this.enter('write', key);
    this.store(key, content);
  }

  async writeMany(items: ReadonlyArray<{ path: string; content: Uint8Array }>): Promise<void> {
    this.batchCount += 1;
    for (const item of items) await this.write(item.path, item.content);
  }

  async load(path: string): Promise<Uint8Array | null> {
    const key = normalizePath(path);
    await this.enter('load', key);
    this.counts.load += 1;
    const file = this.files.get(key);
    return file ? file.bytes.slice() : null;
  }

  async delete(path: string): Promise<void> {
    const key = normalizePath(path);
    await this.enter('delete', key);
    this.files.delete(key);
    this.counts.delete += 1;
    this.history.push({ op: 'delete', path: key });
  }

  async move(from: string, to: string): Promise<void> {
    const source = normalizePath(from);
    const target = normalizePath(to);
    await this.enter('move', source);
    const file = this.files.get(source);
    if (!file) throw fsErrors.notFound(source);
    this.files.delete(source);
    this.files.set(target, file);
    this.counts.move += 1;
    this.history.push({ op: 'move', from: source, to: target });
  }

  async list(prefix?: string): Promise<StoredFileMeta[]> {
    const under = normalizePrefix(prefix);
    await this.enter('list', under);
    this.counts.list += 1;
    const result: StoredFileMeta[] = [];
    for (const [path, file] of this.files) {
      if (!isUnder(path, under)) continue;
      result.push({ path, size: file.bytes.byteLength, createdAt: file.createdAt, modifiedAt: file.modifiedAt });
    }
    return result;
  }

  /**
   * Makes the next `count` calls of `op` reject with `error` (default: an
   * Error naming the operation and path). Injections queue up in call order.
   */
  failNext(op: MemoryOp, count = 1, error?: Error): void {
    const queue = this.injections.get(op) ?? [];
    queue.push({ remaining: count, error });
    this.injections.set(op, queue);
  }

  /**
   * Holds every call of `op` (started now or later) until the returned release
   * function is called. Lets a test act while a persist is in flight.
   */
  block(op: MemoryOp): () => void {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.blocks.set(op, gate);
    return () => {
      if (this.blocks.get(op) === gate) this.blocks.delete(op);
      release();
    };
  }

  /** A copy of the stored bytes, without counting a load. */
  peek(path: string): Uint8Array | undefined {
    return this.files.get(normalizePath(path))?.bytes.slice();
  }

  /** Stored bytes decoded as UTF-8, without counting a load. */
  peekText(path: string): string | undefined {
    const bytes = this.peek(path);
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
  }

  has(path: string): boolean {
    return this.files.has(normalizePath(path));
  }

  /** Every stored path, sorted. */
  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  /** Stores files directly, as if persisted earlier; counters are untouched. */
  seed(files: Record<string, string | Uint8Array>): void {
    const now = Date.now();
    for (const [path, content] of Object.entries(files)) {
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      this.files.set(normalizePath(path), { bytes: copy(bytes), createdAt: now, modifiedAt: now });
    }
  }

  private store(path: string, content: Uint8Array): void {
    const now = Date.now();
    const createdAt = this.files.get(path)?.createdAt ?? now;
    this.files.set(path, { bytes: copy(content), createdAt, modifiedAt: now });
    this.counts.write += 1;
    this.history.push({ op: 'write', path });
  }

  /** Waits for a block on `op`, then throws if a failure is queued for it. */
  private async enter(op: MemoryOp, path: string): Promise<void> {
    const gate = this.blocks.get(op);
    if (gate) await gate;
    const injection = this.injections.get(op)?.[0];
    if (!injection) return;
    injection.remaining -= 1;
    if (injection.remaining <= 0) this.injections.get(op)?.shift();
    this.failureCount += 1;
    throw injection.error ?? new Error(`MemoryDriver: injected ${op} failure for ${JSON.stringify(path)}`);
  }
}

/** A private copy, so neither the caller nor the store can mutate the other's bytes. */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
