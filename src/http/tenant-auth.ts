/**
 * Who a request to a multi-scope server is, and which scopes it may use:
 * - the owner token: every scope, as the owner;
 * - a named token of `<data>/.scopefs/tokens.json` with a scope claim
 *   (`scopefs token create --data DIR --for-scope KEY`): its scopes, its grant;
 * - a signed JWT (HS256 with a shared secret, or a key of a JWKS file) an app
 *   mints for its users without calling scopefs: claims `sub` (the actor),
 *   `exp`, `scopes` (scope keys) and optionally `read`/`write` (path
 *   prefixes, default `/`), `delete`/`move` (default true).
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { canonicalScopeKey } from '../../supervisors/scope/scope-key.js';
import { ScopeFsError } from '../errors.js';
import { authenticateBearer, type AuthConfig } from './auth.js';
import { HttpError } from './responses.js';
import { normalizeGrantPrefixes } from './tokens-grant.js';
import type { Principal } from './tokens-scope.js';
import { TokenStore, type TokenInfo } from './tokens-store.js';

export interface JwtConfig {
  /** HS256 shared secret (at least 32 bytes). */
  secret?: string;
  /** A JWKS file (`{"keys":[...]}`) of public keys (RS256, PS256, ES256, EdDSA). */
  jwksFile?: string;
  /** Required `iss`, when given. */
  issuer?: string;
  /** Required `aud`, when given. */
  audience?: string;
}

export interface TenantAuthConfig {
  /** The owner token (every scope) and the named tokens file, or no auth (loopback only). */
  auth: AuthConfig;
  jwt?: JwtConfig;
}

/** A caller and the scopes (canonical keys) it may use: `all` for the owner. */
export interface TenantCaller {
  principal: Principal;
  scopes: 'all' | ReadonlySet<string>;
  token?: TokenInfo;
  /** When its credential expires (ms since the epoch): a JWT's `exp`. */
  expiresAt?: number;
}

export interface TenantAuthenticate {
  (req: IncomingMessage): Promise<TenantCaller>;
  /** Whether a named token matched earlier is still there and unexpired (to end a revoked caller's streams). */
  stillValid(token: TokenInfo): Promise<boolean>;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export function tenantAuthenticator(config: TenantAuthConfig): TenantAuthenticate {
  const { auth } = config;
  const tokensFile = auth.mode === 'token' ? auth.tokensFile : null;
  const tokens = tokensFile ? new TokenStore(tokensFile) : undefined;
  const verify = config.jwt ? jwtVerifier(config.jwt) : undefined;
  const authenticate = async (req: IncomingMessage): Promise<TenantCaller> => {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    if (verify && bearer !== undefined && JWT_SHAPE.test(bearer)) return verify(bearer);
    const { principal, token } = await authenticateBearer(req, auth, tokens);
    if (!token) return { principal, scopes: 'all' };
    if (token.scopes === undefined) {
      throw new HttpError(401, 'EAUTH', `token "${token.name}" names no scope; on a multi-scope server create tokens with --data DIR --for-scope KEY`);
    }
    return { principal, scopes: new Set(token.scopes), token };
  };
  return Object.assign(authenticate, { stillValid: async (token: TokenInfo) => (tokens ? tokens.stillValid(token) : false) });
}

/** Whether the caller may use the scope (a canonical key). */
export function mayUseScope(caller: TenantCaller, key: string): boolean {
  return caller.scopes === 'all' || caller.scopes.has(key);
}

function jwtVerifier(config: JwtConfig): (jwt: string) => Promise<TenantCaller> {
  const key = jwtKey(config);
  return async (jwt) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, key.get as JWTVerifyGetKey, {
        algorithms: key.algorithms,
        issuer: config.issuer,
        audience: config.audience,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      throw new HttpError(401, 'EAUTH', `the JWT was refused: ${jwtProblem(err)}`, { 'www-authenticate': 'Bearer realm="scopefs"' });
    }
    return callerOfClaims(payload);
  };
}

function jwtKey(config: JwtConfig): { get: JWTVerifyGetKey; algorithms: string[] } {
  if ((config.secret === undefined) === (config.jwksFile === undefined)) {
    throw new ScopeFsError('EINVAL', 'JWT auth needs exactly one of a shared secret (HS256) or a JWKS file');
  }
  if (config.secret !== undefined) {
    if (Buffer.byteLength(config.secret) < 32) throw new ScopeFsError('EINVAL', 'the JWT secret must be at least 32 bytes (HS256)');
    const secret = new TextEncoder().encode(config.secret);
    return { get: async () => secret, algorithms: ['HS256'] };
  }
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(config.jwksFile!, 'utf8'));
  } catch (err) {
    throw new ScopeFsError('EINVAL', `cannot read the JWKS file ${config.jwksFile}: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Public keys only: an HMAC algorithm with a public key as its secret would let anyone sign.
  return { get: createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]), algorithms: ASYMMETRIC };
}

function callerOfClaims(claims: JWTPayload): TenantCaller {
  const refuse = (why: string) => new HttpError(401, 'EAUTH', `the JWT was refused: ${why}`);
  const scopes = claims.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((scope) => typeof scope === 'string')) {
    throw refuse('claim "scopes" must be a non-empty array of scope keys');
  }
  const prefixes = (name: 'read' | 'write'): string[] => {
    const value = claims[name] ?? ['/'];
    if (!Array.isArray(value) || !value.every((prefix) => typeof prefix === 'string')) throw refuse(`claim "${name}" must be an array of path prefixes`);
    return normalizeGrantPrefixes(value);
  };
  const flag = (name: 'delete' | 'move'): boolean => {
    const value = claims[name] ?? true;
    if (typeof value !== 'boolean') throw refuse(`claim "${name}" must be true or false`);
    return value;
  };
  let keys: Set<string>;
  try {
    keys = new Set(scopes.map((scope: string) => canonicalScopeKey(scope)));
  } catch (err) {
    throw refuse(err instanceof Error ? err.message : String(err));
  }
  const sub = claims.sub!;
  return {
    principal: {
      actor: `jwt:${sub}`,
      grant: { holder: `JWT of "${sub}"`, read: prefixes('read'), write: prefixes('write'), delete: flag('delete'), move: flag('move') },
    },
    scopes: keys,
    expiresAt: claims.exp! * 1000,
  };
}

function jwtProblem(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'it has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim "${err.claim}" ${err.reason === 'missing' ? 'is missing' : 'is not accepted'}`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not accepted';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) return 'its signature does not verify';
  return 'it is not a valid JWT';
}
