/**
 * Audit queries and retention as pure functions, shared by every AuditLog
 * that filters in memory (the spool, the memory log) and by the interfaces
 * that parse a query (HTTP, CLI).
 */
import { fsErrors } from '../errors.js';
import { normalizePrefix } from '../paths.js';
import { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT, type AuditEntry, type AuditQuery, type AuditRetention } from './types.js';

/** A checked query: the path normalised, the limit bounded. EINVAL saying what to pass instead. */
export function checkAuditQuery(query: AuditQuery = {}): Required<Pick<AuditQuery, 'limit'>> & AuditQuery {
  const checked: AuditQuery & { limit: number } = { limit: DEFAULT_AUDIT_LIMIT };
  if (query.path !== undefined) {
    // A file or a directory: '/docs' and '/docs/' both mean '/docs' and what is under it.
    const prefix = normalizePrefix(query.path);
    checked.path = prefix === '/' ? '/' : prefix.slice(0, -1);
  }
  if (query.actor !== undefined) {
    if (typeof query.actor !== 'string' || query.actor === '') throw fsErrors.invalid('audit actor must be a non-empty string, e.g. "token:ci-bot"');
    checked.actor = query.actor;
  }
  if (query.since !== undefined) {
    if (!Number.isFinite(query.since) || query.since < 0) throw fsErrors.invalid('audit since must be a time in ms since the epoch (or an ISO date at the interfaces)');
    checked.since = query.since;
  }
  if (query.limit !== undefined) {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_AUDIT_LIMIT) {
      throw fsErrors.invalid(`audit limit must be an integer from 1 to ${MAX_AUDIT_LIMIT}`);
    }
    checked.limit = query.limit;
  }
  return checked;
}

/** Whether `entry` names `path` itself or, for a directory prefix, a path under it. */
export function namesPath(entry: AuditEntry, path: string): boolean {
  if (path === '/') return true;
  return entry.paths.some((p) => p === path || p.startsWith(`${path}/`));
}

export function matchesQuery(entry: AuditEntry, query: AuditQuery): boolean {
  if (query.actor !== undefined && entry.actor !== query.actor) return false;
  if (query.since !== undefined && entry.at < query.since) return false;
  if (query.path !== undefined && !namesPath(entry, query.path)) return false;
  return true;
}

/** Entries given oldest first (append order): the matching ones, newest first, up to the limit. */
export function selectNewest(entries: readonly AuditEntry[], query: AuditQuery & { limit: number }): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = entries.length - 1; i >= 0 && out.length < query.limit; i--) {
    if (matchesQuery(entries[i]!, query)) out.push(entries[i]!);
  }
  return out;
}

/** How many of `entries` (oldest first) retention drops from the front. */
export function prunedCount(entries: readonly AuditEntry[], retention: AuditRetention, now = Date.now()): number {
  checkRetention(retention);
  let drop = 0;
  if (retention.maxEntries !== undefined) drop = Math.max(0, entries.length - retention.maxEntries);
  if (retention.maxAgeMs !== undefined) {
    const oldest = now - retention.maxAgeMs;
    while (drop < entries.length && entries[drop]!.at < oldest) drop++;
  }
  return drop;
}

export function checkRetention(retention: AuditRetention): void {
  const { maxAgeMs, maxEntries } = retention;
  if (maxAgeMs !== undefined && (!Number.isFinite(maxAgeMs) || maxAgeMs < 0)) throw fsErrors.invalid('audit retention maxAgeMs must be a number of ms >= 0');
  if (maxEntries !== undefined && (!Number.isInteger(maxEntries) || maxEntries < 0)) throw fsErrors.invalid('audit retention maxEntries must be an integer >= 0');
}

/** A query given as text (HTTP query parameters, CLI flags): `since` is an ISO date or ms since the epoch. */
export function parseAuditQuery(text: { path?: string; actor?: string; since?: string; limit?: string }): AuditQuery {
  const query: AuditQuery = {};
  if (text.path) query.path = text.path;
  if (text.actor) query.actor = text.actor;
  if (text.since) query.since = parseSince(text.since);
  if (text.limit) {
    if (!/^\d+$/.test(text.limit)) throw fsErrors.invalid(`audit limit must be an integer from 1 to ${MAX_AUDIT_LIMIT}, not "${text.limit}"`);
    query.limit = Number(text.limit);
  }
  return checkAuditQuery(query);
}

function parseSince(text: string): number {
  const at = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(at)) throw fsErrors.invalid(`audit since must be an ISO date (2026-01-31T12:00:00Z) or ms since the epoch, not "${text}"`);
  return at;
}
