/** Argument checks shared by every store's locks, so all answer the same typed errors. */
import { randomBytes } from 'node:crypto';
import { fsErrors } from '../../src/errors.js';
import { assertTtl, lockTarget } from '../../src/coordination/lock-rules.js';
import type { StoreLockRequest } from './types.js';

export function checkApp(app: unknown): string {
  if (typeof app !== 'string' || app.trim() === '' || app.length > 200) {
    throw fsErrors.invalid('store locks need an app name: a non-empty string of at most 200 characters');
  }
  return app;
}

export function checkRequest(request: StoreLockRequest): StoreLockRequest {
  if (!request || typeof request !== 'object') throw fsErrors.invalid('a store lock needs { target, owner, ttlMs }');
  const { owner } = request;
  if (typeof owner !== 'string' || owner.trim() === '' || owner.length > 200) {
    throw fsErrors.invalid('lock owner must be a non-empty string of at most 200 characters (who holds it, for other callers)');
  }
  return { target: lockTarget(request.target), owner, ttlMs: assertTtl(request.ttlMs) };
}

export function checkToken(token: unknown): string {
  if (typeof token !== 'string' || token === '' || token.length > 200) {
    throw fsErrors.invalid('a lock token is the non-empty string lock answered (token)');
  }
  return token;
}

export { assertTtl as checkTtl };

/** Opaque and unguessable, like LockTable's. */
export function newLockToken(): string {
  return `lk_${randomBytes(18).toString('base64url')}`;
}
