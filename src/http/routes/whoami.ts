/**
 * `GET /v1/whoami`: who the caller is and what its token may do, so a client
 * (the dashboard) offers only what will be allowed. It says nothing secret:
 * no token, no hash, no store URL.
 */
import { sendJson } from '../responses.js';
import type { Route } from '../router.js';
import type { Principal } from '../tokens-scope.js';

export interface WhoAmI {
  actor: string;
  /** True for the owner token (and an app's callers without a grant): everything is allowed. */
  owner: boolean;
  grant?: { read: string[]; write: string[]; delete: boolean; move: boolean };
}

export function whoAmI(principal: Principal): WhoAmI {
  const { grant } = principal;
  if (!grant) return { actor: principal.actor, owner: true };
  return { actor: principal.actor, owner: false, grant: { read: grant.read, write: grant.write, delete: grant.delete, move: grant.move } };
}

export function whoAmIRoutes(principal: Principal): Route[] {
  const answer = whoAmI(principal);
  return [{ method: 'GET', path: '/v1/whoami', handler: ({ res }) => sendJson(res, 200, answer) }];
}
