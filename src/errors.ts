/**
 * Typed errors. Every failure a caller can provoke surfaces as a ScopeFsError
 * with a stable `code` and a message naming the offending path.
 */
import { RuntimeError, errorMessage, type RuntimeErrorCode } from '../supervisors/runtime/errors.js';

export type ErrorCode =
  | 'ENOENT' // no such file
  | 'EEXIST' // target already exists
  | 'EISDIR' // a directory where a file was expected
  | 'EINVAL' // invalid argument (path, content, options, config)
  | 'EROFS' // write to a readonly persistence config
  | 'EFBIG' // content over maxFileBytes
  | 'ESTALE' // compare-and-swap failed: the revision moved on
  | 'ELOCKED' // resource held by someone else (lease, lock)
  | 'ETIMEDOUT' // call or operation timed out
  | 'ESTOPPED' // the actor is not running
  | 'EIO' // a persistence or store operation failed
  | 'EACCES' // the store refused: permission denied (RLS, grants)
  | 'ECONFLICT' // unresolved sync conflict
  | 'EPAUSED' // sync paused by the safety gate
  | 'ESCHEMA'; // store schema unknown or newer than this build

export class ScopeFsError extends RuntimeError {
  declare readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: { path?: string; cause?: unknown } = {}) {
    super(code as RuntimeErrorCode, message, options);
  }
}

/** True for every typed error, including the actor runtime's own (ETIMEDOUT, ESTOPPED, ...). */
export function isScopeFsError(err: unknown, code?: ErrorCode): err is ScopeFsError {
  return err instanceof RuntimeError && (code === undefined || err.code === code);
}

const describe = (path: string) => JSON.stringify(path);

export const fsErrors = {
  notFound: (path: string) => new ScopeFsError('ENOENT', `no such file ${describe(path)}`, { path }),
  exists: (path: string) => new ScopeFsError('EEXIST', `file already exists ${describe(path)}`, { path }),
  invalidPath: (path: unknown, why: string) =>
    new ScopeFsError('EINVAL', `invalid path ${describePathInput(path)}: ${why}`, {
      path: typeof path === 'string' ? path : undefined,
    }),
  invalid: (message: string, path?: string) => new ScopeFsError('EINVAL', message, { path }),
  readonly: (path: string, base: string) =>
    new ScopeFsError('EROFS', `${describe(path)} is under readonly directory ${describe(base)}`, { path }),
  tooBig: (path: string, size: number, limit: number) =>
    new ScopeFsError('EFBIG', `${describe(path)} is ${size} bytes, over the limit of ${limit}`, { path }),
  stale: (path: string, expected: number, actual: number) =>
    new ScopeFsError(
      'ESTALE',
      `${describe(path)} is at revision ${actual}, not the expected ${expected}`,
      { path },
    ),
  io: (path: string, cause: unknown) =>
    new ScopeFsError('EIO', `persisting ${describe(path)} failed: ${errorMessage(cause)}`, { path, cause }),
};

function describePathInput(path: unknown): string {
  if (typeof path !== 'string') return `of type ${path === null ? 'null' : typeof path}`;
  const shown = path.length > 80 ? `${path.slice(0, 80)}…` : path;
  return JSON.stringify(shown);
}

export { errorMessage };
