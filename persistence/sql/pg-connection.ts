/**
 * node-postgres plumbing shared by the postgres store, its LISTEN client and
 * the migrator: connection strings without secrets, and pg errors turned into
 * ScopeFsErrors.
 */
import type { ScopeFsError } from '../../src/errors.js';
import { errorMessage, isScopeFsError } from '../../src/errors.js';
import { redactSecrets } from '../../src/redact.js';
import { sqlError } from './sql-store-mapping.js';

/** Connection settings every scopefs pg connection uses. */
export const CONNECTION_DEFAULTS = {
  /** A down server makes calls fail after this long instead of hanging. */
  connectionTimeoutMillis: 10_000,
  /** TCP keepalive, so a vanished server is noticed without polling queries. */
  keepAlive: true,
  application_name: 'scopefs',
} as const;

/**
 * The connection string with its secrets masked, for `url`, messages and
 * logs: `postgres://u:secret@h/db` becomes `postgres://u:***@h/db`.
 */
export function redactConnectionString(connectionString: string): string {
  return redactSecrets(connectionString);
}

/** True for errors that mean "the server is unreachable or went away", not "the SQL failed". */
export function isConnectionError(err: unknown): boolean {
  const sqlState = sqlStateOf(err);
  return sqlState === undefined || sqlState.startsWith('08') || sqlState.startsWith('57P');
}

/** A pg or network error as a ScopeFsError (ESCHEMA, EINVAL, or EIO for the server being down). */
export function pgError(err: unknown, storeUrl: string): ScopeFsError {
  if (isScopeFsError(err)) return err;
  return sqlError(sqlStateOf(err), errorMessage(err) || `connection failed (${codeOf(err) ?? 'unknown error'})`, storeUrl, err);
}

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

/** The SQLSTATE of a server error. Network errors carry errno names (ECONNREFUSED, EPIPE) instead; no SQLSTATE class starts with E. */
function sqlStateOf(err: unknown): string | undefined {
  const code = codeOf(err);
  return code !== undefined && /^(?!E)[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
