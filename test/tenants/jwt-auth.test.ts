/** tenantAuthenticator's JWTs: a JWKS file of public keys, issuer/audience, algorithm confusion, claim checks. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mayUseScope, tenantAuthenticator, type TenantAuthenticate } from '../../src/http/tenant-auth.js';

const OWNER = 'owner-token-0123456789abcdef';
let dir: string;
let authenticate: TenantAuthenticate;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let publicJwk: Record<string, unknown>;

const request = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as unknown as IncomingMessage;

function sign(claims: Record<string, unknown>, edit: (jwt: SignJWT) => SignJWT = (jwt) => jwt): Promise<string> {
  return edit(new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('app-user').setExpirationTime('5m').setIssuer('https://app.example').setAudience('scopefs')).sign(privateKey);
}

async function refusal(token: string): Promise<string> {
  const err = (await authenticate(request(token)).then(() => undefined, (e: unknown) => e)) as { status?: number; message?: string } | undefined;
  expect(err?.status).toBe(401);
  return err!.message!;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-jwks-'));
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  const jwksFile = join(dir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify({ keys: [publicJwk] }));
  authenticate = tenantAuthenticator({ auth: { mode: 'token', token: OWNER, tokensFile: null }, jwt: { jwksFile, issuer: 'https://app.example', audience: 'scopefs' } });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('JWTs from a JWKS file', () => {
  it('gives a verified JWT its scopes, actor and grant; the owner token every scope', async () => {
    const caller = await authenticate(request(await sign({ scopes: ['user/7', ['org', 'x'].join('/')], read: ['/docs'], write: [], delete: false })));
    expect(caller.principal.actor).toBe('jwt:app-user');
    expect(caller.principal.grant).toMatchObject({ read: ['/docs'], write: [], delete: false, move: true });
    expect([mayUseScope(caller, 'user/7'), mayUseScope(caller, 'org/x'), mayUseScope(caller, 'user/8')]).toEqual([true, true, false]);
    expect(caller.expiresAt).toBeGreaterThan(Date.now());
    const owner = await authenticate(request(OWNER));
    expect(owner.scopes).toBe('all');
  });

  it('refuses a wrong issuer or audience, a missing exp, bad claims', async () => {
    expect(await refusal(await sign({ scopes: ['a'] }, (jwt) => jwt.setIssuer('https://evil.example')))).toMatch(/iss/);
    expect(await refusal(await sign({ scopes: ['a'] }, (jwt) => jwt.setAudience('other')))).toMatch(/aud/);
    const noExp = await new SignJWT({ scopes: ['a'] }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('u').setIssuer('https://app.example').setAudience('scopefs').sign(privateKey);
    expect(await refusal(noExp)).toMatch(/exp/);
    expect(await refusal(await sign({ scopes: 'user/7' }))).toMatch(/scopes/);
    expect(await refusal(await sign({ scopes: ['user/7'], write: '/' }))).toMatch(/write/);
    expect(await refusal(await sign({ scopes: ['user/7'], delete: 'yes' }))).toMatch(/delete/);
    expect(await refusal(await sign({ scopes: ['a/../b'] }))).toMatch(/invalid scope key/);
  });

  it('refuses an HS256 JWT whose secret is the public key (algorithm confusion)', async () => {
    const forged = await new SignJWT({ scopes: ['user/7'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setSubject('attacker')
      .setIssuer('https://app.example')
      .setAudience('scopefs')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    expect(await refusal(forged)).toMatch(/algorithm|signature/);
  });

  it('refuses configurations that cannot be safe', () => {
    const auth = { mode: 'token' as const, token: OWNER, tokensFile: null };
    expect(() => tenantAuthenticator({ auth, jwt: { secret: 'short' } })).toThrow(/at least 32 bytes/);
    expect(() => tenantAuthenticator({ auth, jwt: {} })).toThrow(/exactly one/);
    expect(() => tenantAuthenticator({ auth, jwt: { jwksFile: join(dir, 'missing.json') } })).toThrow(/cannot read the JWKS file/);
  });
});
