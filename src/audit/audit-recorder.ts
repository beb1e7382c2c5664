/**
 * Records audit entries synchronously into a local sink (the spool, or
 * memory): an entry is durable when `record` returns. It hears the scope's
 * filesystem events (applied changes) and the refusals the audited facade
 * reports (audit-fs.ts).
 *
 * Why a subscriber is durable enough: the FileSystemServer emits a change's
 * events inside the handler that appended its journal record, and each
 * delivery is a microtask queued then; the caller's reply is resolved after
 * the handler returns, so its continuation runs after these microtasks
 * (FIFO). The entry is therefore on disk before any caller can see the
 * acknowledgement, and a kill -9 that keeps the journal record keeps the entry.
 */
import { randomBytes } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { FsEvent } from '../types.js';
import type { SyncEvent } from '../sync/types.js';
import { draftOfEvent, draftOfRefusal, draftOfSyncEvent, type AuditDraft } from './audit-entries.js';
import type { AuditEntry, AuditLog } from './types.js';

/** A log that takes an entry synchronously. */
export interface AuditSink extends AuditLog {
  appendSync(entry: AuditEntry): void;
}

export class AuditRecorder {
  /** Unique per recorder, so ids never repeat across restarts or instances. */
  private readonly session = randomBytes(6).toString('hex');
  private seq = 0;
  /** Errors already recorded by an inner facade: an outer one does not record them again. */
  private readonly recorded = new WeakSet<object>();

  constructor(
    readonly log: AuditSink,
    private readonly options: { instance?: string; onError?: (message: string) => void } = {},
  ) {}

  /** Records the change an event reports (other events are ignored). */
  event(event: FsEvent): void {
    const draft = draftOfEvent(event);
    if (draft) this.record(draft);
  }

  /** Records a path settled or held by its conflict strategy (other sync events are ignored). */
  syncEvent(event: SyncEvent): void {
    const draft = draftOfSyncEvent(event);
    if (draft) this.record(draft);
  }

  /** Records a refused request; `err` is rethrown by the caller. */
  refused(operation: string, paths: string[], actor: string, err: unknown): void {
    if (typeof err === 'object' && err !== null) {
      if (this.recorded.has(err)) return;
      this.recorded.add(err);
    }
    const draft = draftOfRefusal(operation, paths, actor, err);
    if (draft) this.record(draft);
  }

  /** Records a request refused before it reached the scope (no or a bad token), as `anonymous`. */
  unauthenticated(method: string, path: string, code: string, message: string): void {
    this.record({ actor: 'anonymous', operation: 'request', paths: [], result: 'refused', code, message: `${method} ${path}: ${message}` });
  }

  private record(draft: AuditDraft): void {
    // The draft becomes the entry (drafts are made for this call only): no copy on the write path.
    const entry = draft as AuditEntry;
    entry.id = `${this.session}-${++this.seq}`;
    entry.at = Date.now();
    if (this.options.instance !== undefined) entry.instance = this.options.instance;
    try {
      this.log.appendSync(entry);
    } catch (err) {
      // The change itself is already applied and journaled; a full or broken disk is reported, never thrown into it.
      this.options.onError?.(`recording an audit entry failed: ${errorMessage(err)}`);
    }
  }
}
