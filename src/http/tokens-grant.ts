/**
 * What a limited token may do, and the one decision every interface asks:
 * may this grant do this operation on this path? Pure: no I/O, no clock.
 *
 * A grant lists path prefixes it may read and prefixes it may write (writing
 * includes reading there), and may forbid deletes and moves. A prefix covers
 * the path it names and everything below it: `/docs` covers `/docs`,
 * `/docs/a.md` and `/docs/x/y.md`, not `/docs2`. `/` covers everything.
 */
import { ScopeFsError } from '../errors.js';
import { normalizePrefix } from '../paths.js';

export interface Grant {
  /** Who holds it, as named in refusals: `token "ci-bot"`. */
  holder: string;
  /** Prefixes that may be read (and listed). */
  read: string[];
  /** Prefixes that may be written (created, replaced, edited); they may be read too. */
  write: string[];
  /** Whether files it may write may also be deleted. */
  delete: boolean;
  /** Whether files it may write may also be moved (both ends must be writable). */
  move: boolean;
}

/** `move` is checked on both ends of a move; `delete` and `move` need `write` on the path too. */
export type GrantOperation = 'read' | 'write' | 'delete' | 'move';

export type GrantDecision = { allowed: true } | { allowed: false; reason: string };

/** The grant's decision for one operation on one path (a file or a directory prefix, normalised). */
export function checkGrant(grant: Grant, operation: GrantOperation, path: string): GrantDecision {
  if (operation === 'read') {
    if (covers(grant.read, path) || covers(grant.write, path)) return { allowed: true };
    return refuse(grant, `reading ${JSON.stringify(path)}`);
  }
  if (!covers(grant.write, path)) return refuse(grant, `${VERBS[operation]} ${JSON.stringify(path)}`);
  if (operation === 'delete' && !grant.delete) return refuse(grant, `deleting ${JSON.stringify(path)}`);
  if (operation === 'move' && !grant.move) return refuse(grant, `moving ${JSON.stringify(path)}`);
  return { allowed: true };
}

/** Whether the grant may do the operation anywhere at all (for deciding which MCP tools to list). */
export function grantAllowsAnywhere(grant: Grant, operation: GrantOperation): boolean {
  if (operation === 'read') return grant.read.length + grant.write.length > 0;
  if (grant.write.length === 0) return false;
  return operation === 'write' || (operation === 'delete' ? grant.delete : grant.move);
}

/** Throws the refusal (EACCES, naming the grant) unless the grant allows the operation. */
export function assertGrant(grant: Grant, operation: GrantOperation, path: string): void {
  const decision = checkGrant(grant, operation, path);
  if (!decision.allowed) throw new ScopeFsError('EACCES', decision.reason, { path });
}

/** `read /docs, /notes; write /notes; no deletes; no moves`. */
export function describeGrant(grant: Pick<Grant, 'read' | 'write' | 'delete' | 'move'>): string {
  const parts = [
    `read ${grant.read.length > 0 ? grant.read.join(', ') : '(nothing)'}`,
    `write ${grant.write.length > 0 ? grant.write.join(', ') : '(nothing)'}`,
  ];
  if (grant.write.length > 0 && !grant.delete) parts.push('no deletes');
  if (grant.write.length > 0 && !grant.move) parts.push('no moves');
  return parts.join('; ');
}

/**
 * Validates and normalises a list of prefixes (`/docs/` and `/docs` are the
 * same prefix, kept without the trailing slash; `/` stays `/`). Duplicates
 * and prefixes inside another one are dropped.
 */
export function normalizeGrantPrefixes(prefixes: readonly string[]): string[] {
  const normalised = prefixes.map((prefix) => {
    const withSlash = normalizePrefix(prefix);
    return withSlash === '/' ? '/' : withSlash.slice(0, -1);
  });
  const unique = [...new Set(normalised)].sort();
  return unique.filter((prefix) => !unique.some((other) => other !== prefix && coversOne(other, prefix)));
}

const VERBS: Record<Exclude<GrantOperation, 'read'>, string> = { write: 'writing', delete: 'deleting', move: 'moving' };

function covers(prefixes: readonly string[], path: string): boolean {
  return prefixes.some((prefix) => coversOne(prefix, path));
}

/** Either side may carry a directory's trailing slash (`/docs/`): a grant built by hand is judged the same. */
function coversOne(prefix: string, path: string): boolean {
  const base = withoutSlash(prefix);
  const bare = withoutSlash(path);
  return base === '/' || bare === base || bare.startsWith(`${base}/`);
}

function withoutSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

function refuse(grant: Grant, what: string): GrantDecision {
  return {
    allowed: false,
    reason:
      `${grant.holder} may not do this: ${what} is outside its grant (${describeGrant(grant)}). ` +
      'Stay inside the grant, or ask the owner for a token that covers it.',
  };
}
