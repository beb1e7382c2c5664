/**
 * The runtime's own failures. The scope layer's `ScopeFsError` extends this
 * class, so a caller checks one type (`isScopeFsError`) whichever layer
 * refused; the runtime itself knows nothing of files.
 */
export type RuntimeErrorCode =
  | 'EINVAL' // a bad spec or option
  | 'EEXIST' // a child id or key already taken
  | 'ENOENT' // no such child
  | 'ETIMEDOUT' // a call was not answered in time
  | 'ESTOPPED'; // the process is not running

export class RuntimeError extends Error {
  readonly code: string;
  readonly path: string | undefined;

  constructor(code: RuntimeErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ScopeFsError';
    this.code = code;
    this.path = options.path;
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(errorMessage(err));
}
