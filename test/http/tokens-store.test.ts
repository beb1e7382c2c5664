import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenStore, describeToken, parseLifetime, tokensFilePath } from '../../src/http/tokens-store.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scopefs-tokens-'));
  file = tokensFilePath(join(dir, 'root'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('TokenStore', () => {
  it('keeps only a digest of the token, in a private file, and recognises the token', async () => {
    const store = new TokenStore(file);
    const { token, info } = await store.create({ name: 'ci-bot', read: ['/docs/'], write: ['/notes'], delete: false });
    expect(token).toMatch(/^sfs_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ name: 'ci-bot', read: ['/docs'], write: ['/notes'], delete: false, move: true, expiresAt: null });
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.slice(4));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(file, '..'))).mode & 0o777).toBe(0o700);

    // Another store (another process) reads the same file.
    const other = new TokenStore(file);
    expect(await other.match(token)).toEqual({ status: 'valid', token: info });
    expect(await other.match(`${token}x`)).toEqual({ status: 'unknown' });
    expect(await other.list()).toEqual([info]);
  });

  it('refuses a second token of one name, bad names and empty grants with what to do', async () => {
    const store = new TokenStore(file);
    await store.create({ name: 'a', read: ['/'] });
    await expect(store.create({ name: 'a', read: ['/'] })).rejects.toThrow(/EEXIST|already exists; revoke it first/);
    await expect(store.create({ name: '../x', read: ['/'] })).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(store.create({ name: 'b' })).rejects.toThrow(/give --read and\/or --write/);
    await expect(store.create({ name: 'c', read: ['docs'] })).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('tells an expired token from an unknown one', async () => {
    const store = new TokenStore(file);
    const now = Date.parse('2026-01-01T00:00:00Z');
    const { token } = await store.create({ name: 'short', read: ['/'], expiresInMs: parseLifetime('1h') }, now);
    expect((await store.match(token, now + 3_599_000)).status).toBe('valid');
    const late = await store.match(token, now + 3_600_000);
    expect(late).toMatchObject({ status: 'expired', token: { name: 'short', expiresAt: '2026-01-01T01:00:00.000Z' } });
  });

  it('revokes: the token no longer matches, in this store and in one that cached the file', async () => {
    const store = new TokenStore(file);
    const server = new TokenStore(file);
    const { token, info } = await store.create({ name: 'gone', write: ['/notes'] });
    expect((await server.match(token)).status).toBe('valid');
    expect(await store.revoke('gone')).toEqual(info);
    expect(await server.match(token)).toEqual({ status: 'unknown' });
    expect(await server.stillValid(info)).toBe(false);
    await expect(store.revoke('gone')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a token recreated under the same name does not revive streams of the old one', async () => {
    const store = new TokenStore(file);
    const first = await store.create({ name: 'bot', read: ['/'] }, Date.now() - 1_000);
    await store.revoke('bot');
    const second = await store.create({ name: 'bot', read: ['/'] });
    expect(await store.stillValid(first.info)).toBe(false);
    expect(await store.stillValid(second.info)).toBe(true);
    expect((await store.match(first.token)).status).toBe('unknown');
  });

  it('loses no token when many are created at once through separate stores', async () => {
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) => new TokenStore(file).create({ name: `t${i}`, read: [`/p${i}`] })),
    );
    const store = new TokenStore(file);
    expect((await store.list()).map((token) => token.name).sort()).toEqual(created.map(({ info }) => info.name).sort());
    for (const { token, info } of created) expect(await store.match(token)).toEqual({ status: 'valid', token: info });
  });

  it('says how to fix a damaged file', async () => {
    const store = new TokenStore(file);
    await store.create({ name: 'x', read: ['/'] });
    await writeFile(file, '{"version":1,"tokens":[');
    await expect(store.list()).rejects.toThrow(/not valid JSON; fix or remove it/);
  });

  it('parses lifetimes and describes tokens', () => {
    expect(parseLifetime('30d')).toBe(30 * 86_400_000);
    expect(parseLifetime('90m')).toBe(90 * 60_000);
    expect(() => parseLifetime('0d')).toThrow(/positive/);
    expect(() => parseLifetime('soon')).toThrow(/e\.g\. 30d/);
    expect(describeToken({ name: 'n', read: ['/a'], write: [], delete: true, move: true, createdAt: 'c', expiresAt: null })).toBe(
      'n: read /a; write (nothing) (never expires)',
    );
  });
});
