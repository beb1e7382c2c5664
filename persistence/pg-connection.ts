/**
 * node-postgres plumbing shared by the postgres store, its LISTEN client and
 * the migrator: connection strings without secrets, and pg errors turned into
 * ScopeFsErrors.
 */
import type { ScopeFsError } from '../src/errors.js';
import { errorMessage, isScopeFsError } from '../src/errors.js';
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
 * The connection string with its password masked, for `url`, messages and
 * logs: `postgres://u:secret@h/db` becomes `postgres://u:***@h/db`.
 */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    for (const key of ['password', 'sslpassword', 'sslkey']) {
      if (url.searchParams.has(key)) url.searchParams.set(key, '***');
    }
    return url.toString().replace(/%2A%2A%2A/g, '***');
  } catch {
    // A libpq key=value string (host=... password=...).
    return connectionString.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, '$1***');
  }
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
