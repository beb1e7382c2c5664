/**
 * An audit entry as one line of JSON, for the journal record that carries it
 * and for the spool. Written out field by field: JSON.stringify of an entry
 * cost about 2 µs here, as much as the rest of the audit log's work on a
 * write, and a quarter of that this way (cheap enough to do twice: caching
 * the line on the entry cost as much as making it). Any field added to
 * AuditEntry must be added here (test/audit/audit-line.test.ts checks that
 * every field round-trips).
 */
import type { AuditEntry } from './types.js';

const text = JSON.stringify;

/** Ids (hex and digits), operations and results, the recorder's own words, need no escaping; anything else gets it. */
const PLAIN = /^[\w.:-]*$/;
const word = (s: string): string => (PLAIN.test(s) ? `"${s}"` : text(s));

export function auditLine(e: AuditEntry): string {
  let json = `{"id":${word(e.id)},"at":${e.at},"actor":${text(e.actor)},"operation":${word(e.operation)},"paths":[`;
  for (let i = 0; i < e.paths.length; i++) json += (i === 0 ? '' : ',') + text(e.paths[i]);
  json += `],"result":${word(e.result)}`;
  if (e.revision !== undefined) json += `,"revision":${e.revision}`;
  if (e.code !== undefined) json += `,"code":${text(e.code)}`;
  if (e.message !== undefined) json += `,"message":${text(e.message)}`;
  if (e.source !== undefined) json += `,"source":${text(e.source)}`;
  if (e.instance !== undefined) json += `,"instance":${text(e.instance)}`;
  return `${json}}`;
}
