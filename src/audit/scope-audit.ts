/**
 * A scope's audit log: where it lives (the spool under `<root>/.scopefs/audit/`,
 * else memory), its recorder, retention, and the audited view of a scope
 * handle that the interfaces (HTTP, MCP) hand to a caller.
 */
import { join } from 'node:path';
import { MemoryAuditLog } from '../../persistence/audit/memory-audit.js';
import { ScopeFsError, errorMessage, fsErrors } from '../errors.js';
import type { ScopeHandle } from '../types.js';
import { transactionsViewedThrough } from '../transactions/viewed-through.js';
import { auditedFileSystem } from './audit-fs.js';
import { checkAuditQuery, checkRetention } from './audit-query.js';
import { AuditShipper, type ShippableLog } from './audit-shipper.js';
import { AuditRecorder, type AuditSink } from './audit-recorder.js';
import { AuditSpool } from './audit-spool.js';
import { DEFAULT_AUDIT_RETENTION, type AuditEntry, type AuditLog, type AuditQuery, type AuditRetention } from './types.js';

export interface AuditOptions {
  /** Record nothing (default: on). */
  enabled?: boolean;
  /** What is kept (default 30 days, 1,000,000 entries); applied at start and every `pruneEveryMs`. */
  retention?: AuditRetention;
  /** Default 10 minutes. */
  pruneEveryMs?: number;
  /** Size of one spool segment (default 4 MiB). */
  segmentBytes?: number;
  /**
   * How long a change's entry may wait before it is written to the log
   * (default 200 ms). It is durable meanwhile: the change's journal record
   * carries it. A query, a refusal and a shrinking journal write it at once.
   */
  flushAfterMs?: number;
  onError?: (message: string) => void;
}

export interface ScopeAudit {
  recorder: AuditRecorder;
  query(query?: AuditQuery): Promise<AuditEntry[]>;
  prune(retention?: AuditRetention): Promise<number>;
  /** Ships what is recorded to the store now (when syncing). */
  ship(): Promise<void>;
  close(): Promise<void>;
}

/** The store's log a syncing scope ships to (supervisors/scope/audit-store.ts). */
export interface AuditStore {
  log: AuditLog;
  instance?: string;
  close(): Promise<void>;
}

export function openScopeAudit(root: string | undefined, options: AuditOptions = {}, store?: AuditStore): ScopeAudit | undefined {
  if (options.enabled === false) return undefined;
  const retention = { ...DEFAULT_AUDIT_RETENTION, ...options.retention };
  checkRetention(retention);
  const { flushAfterMs } = options;
  if (flushAfterMs !== undefined && !(Number.isFinite(flushAfterMs) && flushAfterMs >= 0)) throw fsErrors.invalid('audit flushAfterMs must be a number of ms >= 0');
  const log: AuditSink & ShippableLog & { close?(): void } =
    root === undefined ? new MemoryAuditLog(retention.maxEntries) : new AuditSpool(join(root, '.scopefs', 'audit'), { segmentBytes: options.segmentBytes });
  const recorder = new AuditRecorder(log, {
    onError: options.onError,
    flushAfterMs,
    ...(store?.instance === undefined ? {} : { instance: store.instance }),
  });
  const shipper = store && new AuditShipper(log, store.log, root === undefined ? undefined : join(root, '.scopefs', 'audit', 'shipped.json'), { onError: options.onError });
  if (shipper) {
    const append = log.appendSync.bind(log);
    log.appendSync = (entries, lines) => (append(entries, lines), shipper.noteAppended());
  }
  const prune = (): void => {
    log.prune(retention).catch((err: unknown) => options.onError?.(`pruning the audit log failed: ${errorMessage(err)}`));
  };
  prune();
  const timer = setInterval(prune, options.pruneEveryMs ?? 600_000);
  timer.unref();
  return {
    recorder,
    // With a store: every instance's entries, and this one's not shipped yet. Entries a journal carries are in the log first.
    query: async (query) => {
      recorder.flush();
      return store ? mergeNewest(await Promise.all([log.query(query), store.log.query(query)]), query) : log.query(query);
    },
    prune: async (given) => (await log.prune(given ?? retention)) + (store ? await store.log.prune(given ?? retention) : 0),
    ship: async () => {
      recorder.flush();
      await shipper?.ship();
    },
    close: async () => {
      clearInterval(timer);
      recorder.close();
      try {
        await shipper?.close();
        await store?.close();
      } finally {
        log.close?.();
      }
    },
  };
}

/** Two newest-first lists as one, each entry once, up to the limit. */
function mergeNewest(lists: AuditEntry[][], query: AuditQuery | undefined): AuditEntry[] {
  const byId = new Map<string, AuditEntry>();
  for (const list of lists) for (const entry of list) byId.set(entry.id, entry);
  return [...byId.values()].sort((a, b) => b.at - a.at).slice(0, checkAuditQuery(query).limit);
}

/** An HTTP request refused for its credentials (401) is recorded too: who tried, is unknown. */
export function auditUnauthenticated(base: ScopeHandle, method: string | undefined, path: string, err: unknown): void {
  const refusal = err as { status?: unknown; code?: unknown; message?: unknown } | null;
  if (refusal?.status !== 401) return;
  audits.get(base)?.recorder.unauthenticated(method ?? 'GET', path, String(refusal.code), String(refusal.message));
}

const audits = new WeakMap<object, ScopeAudit>();

/** Makes `scope`'s audit findable by the interfaces (auditedScope). */
export function registerScopeAudit(scope: object, audit: ScopeAudit): void {
  audits.set(scope, audit);
}

/**
 * The scope a caller gets from an interface: refusals (its grant's too, as
 * this wraps the grant's facade) recorded under `actor`; `audit` only for the
 * owner (a limited caller gets EACCES).
 */
export function auditedScope(callerScope: ScopeHandle, base: ScopeHandle, actor: string, owner: boolean): ScopeHandle {
  const audit = audits.get(base);
  if (!audit) return callerScope;
  return {
    ...callerScope,
    fs: auditedFileSystem(callerScope.fs, audit.recorder, actor),
    // A refusal inside a transaction (a grant, a lock, a limit) is a refusal too.
    transactions: callerScope.transactions && transactionsViewedThrough(callerScope.transactions, (fs) => auditedFileSystem(fs, audit.recorder, actor)),
    audit: owner
      ? (query) => audit.query(query)
      : () => Promise.reject(new ScopeFsError('EACCES', `${actor} may not read the audit log: it is the owner's. Use the owner token.`)),
  };
}
