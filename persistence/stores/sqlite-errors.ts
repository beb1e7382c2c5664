/** How the SQLite store and its change poller tell a lock from a broken file. */

/** An SQLite error that a fresh connection might not have (corrupt or replaced file, I/O error), not a lock or a constraint. */
export function isBrokenFile(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') && !isBusy(err) && !code.startsWith('SQLITE_CONSTRAINT');
}

export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}
