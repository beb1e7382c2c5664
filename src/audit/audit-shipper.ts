/**
 * Ships the local audit spool to the store's log, off the write path: every
 * `intervalMs` after something was appended (and at start and on close; an
 * idle scope has no timer) it reads what follows the persisted position,
 * appends it in batches, then persists the new position (atomically). A
 * crash between the append and the position write re-ships that batch, which
 * the store ignores (entries are idempotent by id), so nothing is lost and
 * nothing is doubled. A store that is down is retried at the next tick.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { errorMessage } from '../errors.js';
import type { SpoolPosition } from './audit-spool.js';
import type { AuditEntry } from './types.js';
import type { AuditLog } from './types.js';

const MAX_BATCH = 500;

/** What a shipper reads: the spool, or a memory log. */
export interface ShippableLog {
  readFrom(position: SpoolPosition | undefined): Promise<Array<{ segment: number; entry: AuditEntry }>>;
}

export class AuditShipper {
  private running: Promise<void> | undefined;
  /** The next shipment, set only while something waits to be shipped: an idle scope has no timer at all. */
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly spool: ShippableLog,
    private readonly target: AuditLog,
    /** Where the position is persisted (undefined: in memory, for a memory log). */
    private readonly positionFile: string | undefined,
    private readonly options: { intervalMs?: number; onError?: (message: string) => void } = {},
  ) {
    this.schedule(); // ships what an earlier run left
  }

  /** Something was appended to the spool: it is shipped within `intervalMs`. */
  noteAppended(): void {
    this.schedule();
  }

  /** Ships what the spool holds now; resolves once it is stored (or the attempt failed and was reported). */
  ship(): Promise<void> {
    this.running ??= this.shipAll().finally(() => (this.running = undefined));
    return this.running;
  }

  /** A last shipment, then no more ticks. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.ship();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.ship();
    }, this.options.intervalMs ?? 1_000);
    this.timer.unref();
  }

  private async shipAll(): Promise<void> {
    try {
      const pending = await this.spool.readFrom(this.position());
      for (let i = 0; i < pending.length; i += MAX_BATCH) {
        const batch = pending.slice(i, i + MAX_BATCH);
        await this.target.append(batch.map((p) => p.entry));
        const last = batch[batch.length - 1]!;
        this.savePosition({ segment: last.segment, id: last.entry.id });
      }
    } catch (err) {
      this.schedule(); // retried at the next tick
      this.options.onError?.(`shipping the audit log to the store failed (retrying): ${errorMessage(err)}`);
    }
  }

  private memoryPosition: SpoolPosition | undefined;

  private position(): SpoolPosition | undefined {
    if (this.positionFile === undefined) return this.memoryPosition;
    try {
      return JSON.parse(readFileSync(this.positionFile, 'utf8')) as SpoolPosition;
    } catch {
      return undefined;
    }
  }

  private savePosition(position: SpoolPosition): void {
    this.memoryPosition = position;
    if (this.positionFile === undefined) return;
    const tmp = `${this.positionFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(position), { mode: 0o600 });
    renameSync(tmp, this.positionFile);
  }
}
