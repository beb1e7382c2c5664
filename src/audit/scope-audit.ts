/**
 * A scope's audit log: where it lives (the spool under `<root>/.scopefs/audit/`,
 * else memory), its recorder, retention, and the audited view of a scope
 * handle that the interfaces (HTTP, MCP) hand to a caller.
 */
import { join } from 'node:path';
import { MemoryAuditLog } from '../../persistence/audit/memory-audit.js';
import { ScopeFsError, errorMessage } from '../errors.js';
import type { ScopeHandle } from '../types.js';
import { auditedFileSystem } from './audit-fs.js';
import { checkRetention } from './audit-query.js';
import { AuditRecorder, type AuditSink } from './audit-recorder.js';
import { AuditSpool } from './audit-spool.js';
import { DEFAULT_AUDIT_RETENTION, type AuditEntry, type AuditQuery, type AuditRetention } from './types.js';

export interface AuditOptions {
  /** Record nothing (default: on). */
  enabled?: boolean;
  /** What is kept (default 30 days, 1,000,000 entries); applied at start and every `pruneEveryMs`. */
  retention?: AuditRetention;
  /** Default 10 minutes. */
  pruneEveryMs?: number;
  /** Size of one spool segment (default 4 MiB). */
  segmentBytes?: number;
  onError?: (message: string) => void;
}

export interface ScopeAudit {
  recorder: AuditRecorder;
  query(query?: AuditQuery): Promise<AuditEntry[]>;
  prune(retention?: AuditRetention): Promise<number>;
  close(): void;
}

export function openScopeAudit(root: string | undefined, options: AuditOptions = {}): ScopeAudit | undefined {
  if (options.enabled === false) return undefined;
  const retention = { ...DEFAULT_AUDIT_RETENTION, ...options.retention };
  checkRetention(retention);
  const log: AuditSink & { close?(): void } =
    root === undefined ? new MemoryAuditLog(retention.maxEntries) : new AuditSpool(join(root, '.scopefs', 'audit'), { segmentBytes: options.segmentBytes });
  const recorder = new AuditRecorder(log, { onError: options.onError });
  const prune = (): void => {
    log.prune(retention).catch((err: unknown) => options.onError?.(`pruning the audit log failed: ${errorMessage(err)}`));
  };
  prune();
  const timer = setInterval(prune, options.pruneEveryMs ?? 600_000);
  timer.unref();
  return {
    recorder,
    query: (query) => log.query(query),
    prune: (given) => log.prune(given ?? retention),
    close: () => {
      clearInterval(timer);
      log.close?.();
    },
  };
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
    audit: owner
      ? (query) => audit.query(query)
      : () => Promise.reject(new ScopeFsError('EACCES', `${actor} may not read the audit log: it is the owner's. Use the owner token.`)),
  };
}
