/**
 * Records audit entries into a local sink (the spool, or memory), so that
 * an entry is durable before the call it records is answered.
 *
 * Two ways in, one order:
 * - A change's entries are made by the filesystem server before it appends
 *   the change's journal record, and that record carries them
 *   (journal-codec.ts `audit`). They are durable with the change itself, at
 *   no write of their own, and wait here (`carried`) until they are written
 *   to the sink in one batch: at the latest before the journal drops the
 *   records (`flush`, called by journal-keeper.ts), on a short timer, when
 *   the batch is large, and before any query. A kill -9 in between leaves
 *   them in the journal, and the next start writes them (`recover`).
 * - Everything else (a refused request, a sync decision, a change no record
 *   carries) is written now, after whatever waits: the sink stays in the
 *   order things happened.
 */
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { Change, ChangeAudit, ChangeEntries } from '../fs/change.js';
import type { SyncEvent } from '../sync/types.js';
import { draftOfRefusal, draftOfSyncEvent, entriesOfChange, type AuditDraft } from './audit-entries.js';
import { auditLine } from './audit-line.js';
import type { AuditEntry, AuditLog } from './types.js';

/** A log that takes entries synchronously: durable once the call returns. */
export interface AuditSink extends AuditLog {
  /** `lines`: each entry's line (audit-line.ts), made already; a log that writes lines writes these. */
  appendSync(entries: readonly AuditEntry[], lines?: readonly string[]): void;
  /** Appends those of `entries` (recovered from a journal) that it does not hold already. */
  recoverSync(entries: readonly AuditEntry[]): void;
}

/** Carried entries are written at least this often (by default), so the log on disk lags the journal by little. */
export const DEFAULT_FLUSH_AFTER_MS = 200;
/** And once this many wait: a burst is written in batches of this size. */
const FLUSH_AT_ENTRIES = 64;
/** A failed write is tried again after this (the journal may have dropped the records by then). */
const RETRY_AFTER_MS = 1_000;
/** A sink that keeps failing (a full disk) holds at most this many in memory; the oldest go, reported. */
const MAX_WAITING = 100_000;

export class AuditRecorder implements ChangeAudit {
  /** Unique per recorder, so ids never repeat across restarts or instances. */
  private readonly session = randomBytes(6).toString('hex');
  private seq = 0;
  /** Errors already recorded by an inner layer (the stable filesystem): an outer facade does not record them again. */
  private readonly recorded = new WeakSet<object>();
  /** Entries durable elsewhere (a journal record, or a failed write's retry), oldest first, not yet in the sink; and their lines. */
  private waiting: AuditEntry[] = [];
  private waitingLines: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly log: AuditSink,
    private readonly options: { instance?: string; flushAfterMs?: number; onError?: (message: string) => void } = {},
  ) {}

  // ---- changes (the filesystem server, change.ts) ---------------------------

  entriesOf(change: Change): ChangeEntries | undefined {
    if (change.events.length === 0) return undefined;
    return withLines(entriesOfChange(change, { nextId: this.nextId, at: Date.now(), instance: this.options.instance }));
  }

  carried(made: ChangeEntries): void {
    this.wait(made);
    if (this.waiting.length >= FLUSH_AT_ENTRIES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.options.flushAfterMs ?? DEFAULT_FLUSH_AFTER_MS).unref();
  }

  record(made: ChangeEntries): void {
    this.wait(made);
    this.flush();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiting.length === 0) return;
    try {
      this.log.appendSync(this.waiting, this.waitingLines);
      this.waiting = [];
      this.waitingLines = [];
    } catch (err) {
      // The change itself is already applied and journaled; a full or broken disk is reported, never
      // thrown into it. What waits is tried again a second later (the oldest dropped past MAX_WAITING).
      const over = this.waiting.length - MAX_WAITING;
      if (over > 0) {
        this.waiting.splice(0, over);
        this.waitingLines.splice(0, over);
      }
      if (!this.closed) this.timer = setTimeout(() => this.flush(), RETRY_AFTER_MS).unref();
      this.options.onError?.(`recording ${this.waiting.length} audit entr${this.waiting.length === 1 ? 'y' : 'ies'} failed${over > 0 ? ` (${over} older ones dropped)` : ''}: ${errorMessage(err)}`);
    }
  }

  recover(entries: AuditEntry[]): void {
    this.flush(); // a restarted server's journal carries what still waits here: written first, so recovery finds it
    if (entries.length === 0) return;
    try {
      this.log.recoverSync(entries);
    } catch (err) {
      this.options.onError?.(`recovering ${entries.length} audit entries from the journal failed: ${errorMessage(err)}`);
    }
  }

  // ---- everything else -------------------------------------------------------

  /** Records a path settled or held by its conflict strategy (other sync events are ignored). */
  syncEvent(event: SyncEvent): void {
    const draft = draftOfSyncEvent(event);
    if (draft) this.record(withLines([this.stamp(draft)]));
  }

  /** Records a refused request; `err` is rethrown by the caller. */
  refused(operation: string, paths: string[], actor: string, err: unknown): void {
    if (typeof err === 'object' && err !== null) {
      if (this.recorded.has(err)) return;
      this.recorded.add(err);
    }
    const draft = draftOfRefusal(operation, paths, actor, err);
    if (draft) this.record(withLines([this.stamp(draft)]));
  }

  /** Records a request refused before it reached the scope (no or a bad token), as `anonymous`. */
  unauthenticated(method: string, path: string, code: string, message: string): void {
    this.record(withLines([this.stamp({ actor: 'anonymous', operation: 'request', paths: [], result: 'refused', code, message: `${method} ${path}: ${message}` })]));
  }

  /** Writes what waits, and retries no more (the scope stopped: its journal closed after a last flush). */
  close(): void {
    this.closed = true;
    this.flush();
  }

  private wait({ entries, lines }: ChangeEntries): void {
    for (let i = 0; i < entries.length; i++) {
      this.waiting.push(entries[i]!);
      this.waitingLines.push(lines[i]!);
    }
  }

  private readonly nextId = (): string => `${this.session}-${++this.seq}`;

  private stamp(draft: AuditDraft): AuditEntry {
    // The draft becomes the entry (drafts are made for this call only): no copy.
    const entry = draft as AuditEntry;
    entry.id = this.nextId();
    entry.at = Date.now();
    if (this.options.instance !== undefined) entry.instance = this.options.instance;
    return entry;
  }
}

/** Entries with their lines, each made once here for every log that writes lines. */
function withLines(entries: AuditEntry[]): ChangeEntries {
  const lines: string[] = [];
  for (const entry of entries) lines.push(auditLine(entry));
  return { entries, lines };
}
