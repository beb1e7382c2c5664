import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { ScopeFsError } from '../errors.js';
import { makeStateDirFor } from '../private-files.js';
import { HttpError } from './responses.js';
import { OWNER, type Principal } from './tokens-scope.js';
import { grantOf, type TokenInfo, type TokenMatch, type TokenStore } from './tokens-store.js';

/** Who a request is, and the named token it presented (to notice its revocation later). */
export interface Authenticated {
  principal: Principal;
  token?: TokenInfo;
}

/**
 * How `serve` authenticates requests: the owner's bearer token (and the named,
 * limited tokens of `tokensFile`, by default `<root>/.scopefs/tokens.json`;
 * `null` accepts the owner token only), or nothing (loopback only, explicitly
 * asked for).
 */
export type AuthConfig = { mode: 'token'; token: string; tokensFile?: string | null } | { mode: 'none' };

/**
 * An app's own authentication for a mounted handler: who the request is
 * (its actor and, for a limited caller, its grant), or null/undefined to
 * refuse it with 401.
 */
export type Authenticate = (req: IncomingMessage) => Principal | null | undefined | Promise<Principal | null | undefined>;

/** Whether a listen address (or a Host header's name) stays on this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare.toLowerCase().startsWith('::ffff:127.');
  return false;
}

/** Refuses a configuration that would expose the files without a token. */
export function assertAuthAllowed(auth: AuthConfig, host: string): void {
  if (auth.mode === 'none' && !isLoopbackHost(host)) {
    throw new ScopeFsError('EINVAL', `listening on ${host} (beyond loopback) requires a bearer token`);
  }
  if (auth.mode === 'token' && auth.token.length < 16) {
    throw new ScopeFsError('EINVAL', 'the bearer token must be at least 16 characters long');
  }
}

/**
 * The token stored in `file`, generated (32 random bytes, base64url) on first
 * use. The file is only readable by its owner; looser permissions are fixed.
 */
export async function loadOrCreateToken(file: string): Promise<string> {
  makeStateDirFor(file);
  try {
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
  const token = (await readFile(file, 'utf8')).trim();
  if (token === '') throw new ScopeFsError('EINVAL', `the token file ${file} is empty`);
  return token;
}

/**
 * Who a request is: the owner (the owner token, or anyone when auth is off),
 * or a named token with its grant. Throws 401 for anything else, saying why
 * when the token is known but expired.
 */
export async function authenticateBearer(req: IncomingMessage, auth: AuthConfig, tokens: TokenStore | undefined): Promise<Authenticated> {
  if (auth.mode === 'none') return { principal: OWNER };
  const given = bearerOf(req);
  if (given === undefined) throw unauthorized('missing or invalid bearer token');
  // Constant-time against the owner token; named tokens are only looked up
  // when it is not the owner's (what that timing tells, only the owner knows).
  if (sameSecret(given, auth.token)) return { principal: OWNER };
  let named: TokenMatch = { status: 'unknown' };
  let unreadable = false;
  try {
    if (tokens) named = await tokens.match(given);
  } catch {
    unreadable = true;
  }
  if (unreadable) {
    throw new HttpError(503, 'EUNAVAILABLE', 'named tokens cannot be checked now (the token file is unreadable); the owner can see why with scopefs token list');
  }
  if (named.status === 'valid') {
    return { principal: { actor: `token:${named.token.name}`, grant: grantOf(named.token) }, token: named.token };
  }
  if (named.status === 'expired') {
    throw unauthorized(`token "${named.token.name}" expired at ${named.token.expiresAt}; the owner can create a new one (scopefs token create)`);
  }
  throw unauthorized('missing or invalid bearer token');
}

function bearerOf(req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, 'EAUTH', message, { 'www-authenticate': 'Bearer realm="scopefs"' });
}

/** Refuses requests whose Host names another machine while we listen on loopback (DNS rebinding). */
export function checkHost(req: IncomingMessage, listenHost: string): void {
  if (!isLoopbackHost(listenHost)) return;
  const host = req.headers.host ?? '';
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  if (!isLoopbackHost(name)) throw new HttpError(403, 'EHOST', 'requests to a loopback server must name a loopback host');
}

// Comparing digests keeps the comparison constant-time whatever the lengths.
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
