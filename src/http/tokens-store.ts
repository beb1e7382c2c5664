/**
 * Named, limited bearer tokens of a root, kept in `<root>/.scopefs/tokens.json`
 * (a private file: 0600 in a 0700 directory). Only a token's SHA-256 is
 * stored, never the token: it is shown once, when created. Tokens are 32
 * random bytes, so an unsalted digest cannot be searched back.
 *
 * The server re-reads the file whenever it changed (checked on every request
 * by its size, mtime and inode), so a `scopefs token revoke` in another
 * process takes effect on the next request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import writeFileAtomic from 'write-file-atomic';
import { ScopeFsError } from '../errors.js';
import { RESERVED_SEGMENT } from '../paths.js';
import { makePrivateDir, PRIVATE_FILE_MODE } from '../private-files.js';
import { describeGrant, normalizeGrantPrefixes, type Grant } from './tokens-grant.js';

/** What is known about a named token; never its secret. */
export interface TokenInfo {
  name: string;
  read: string[];
  write: string[];
  delete: boolean;
  move: boolean;
  /** ISO 8601. */
  createdAt: string;
  /** ISO 8601, or null for a token that does not expire. */
  expiresAt: string | null;
  /**
   * The scopes (canonical keys) it is for, on a multi-scope server
   * (`serve --data`); absent: the one scope of its root. A multi-scope server
   * refuses a token without it.
   */
  scopes?: string[];
}

interface TokenRecord extends TokenInfo {
  /** SHA-256 of the token, hex. */
  sha256: string;
}

export interface CreateTokenInput {
  name: string;
  read?: readonly string[];
  write?: readonly string[];
  /** Default true. */
  delete?: boolean;
  /** Default true. */
  move?: boolean;
  /** Lifetime from now; undefined: it does not expire. */
  expiresInMs?: number;
  /** The scopes it is for on a multi-scope server (canonicalised by the caller). */
  scopes?: readonly string[];
}

/** The outcome of presenting a token: a live named token, an expired one, or none we know. */
export type TokenMatch = { status: 'valid'; token: TokenInfo } | { status: 'expired'; token: TokenInfo } | { status: 'unknown' };

const FILE_VERSION = 1;
const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/i;
const SECRET_PREFIX = 'sfs_';
const LOCK_WAIT_MS = 5_000;

export function tokensFilePath(root: string): string {
  return join(root, RESERVED_SEGMENT, 'tokens.json');
}

/** The grant a named token carries, holder named for refusals. */
export function grantOf(token: TokenInfo): Grant {
  return { holder: `token "${token.name}"`, read: token.read, write: token.write, delete: token.delete, move: token.move };
}

export class TokenStore {
  private cached: { signature: string; records: TokenRecord[] } | undefined;

  constructor(readonly file: string) {}

  /** Creates a named token; returns its secret, which is not kept and cannot be shown again. */
  async create(input: CreateTokenInput, now = Date.now()): Promise<{ token: string; info: TokenInfo }> {
    const info = tokenInfoOf(input, now);
    const token = `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
    await this.update((records) => {
      if (records.some((record) => record.name === info.name)) {
        throw new ScopeFsError('EEXIST', `a token named "${info.name}" already exists; revoke it first or choose another name`);
      }
      return [...records, { ...info, sha256: digest(token) }];
    });
    return { token, info };
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.records()).map(withoutSecret);
  }

  /** Revokes a token by name; ENOENT when there is none. */
  async revoke(name: string): Promise<TokenInfo> {
    let revoked: TokenRecord | undefined;
    await this.update((records) => {
      revoked = records.find((record) => record.name === name);
      if (!revoked) throw new ScopeFsError('ENOENT', `no token named "${name}"; scopefs token list shows the tokens`);
      return records.filter((record) => record !== revoked);
    });
    return withoutSecret(revoked!);
  }

  /** Which named token `secret` is, comparing its digest with every stored one in constant time. */
  async match(secret: string, now = Date.now()): Promise<TokenMatch> {
    const given = Buffer.from(digest(secret), 'hex');
    let found: TokenRecord | undefined;
    for (const record of await this.records()) {
      // No early exit: the time taken does not depend on which record matches.
      if (timingSafeEqual(given, Buffer.from(record.sha256, 'hex')) && !found) found = record;
    }
    if (!found) return { status: 'unknown' };
    const token = withoutSecret(found);
    return isExpired(token, now) ? { status: 'expired', token } : { status: 'valid', token };
  }

  /** Whether a token matched earlier is still there, unchanged and unexpired (for open streams). */
  async stillValid(token: TokenInfo, now = Date.now()): Promise<boolean> {
    const record = (await this.records()).find((candidate) => candidate.name === token.name);
    return record !== undefined && record.createdAt === token.createdAt && !isExpired(record, now);
  }

  /** The tokens as stored now, re-read only when the file changed. */
  private async records(): Promise<TokenRecord[]> {
    const signature = await fileSignature(this.file);
    if (this.cached?.signature === signature) return this.cached.records;
    const records = signature === 'missing' ? [] : parseFile(this.file, await readText(this.file));
    this.cached = { signature, records };
    return records;
  }

  /** Read, change, write atomically, under a lock file so two CLIs at once lose neither change. */
  private async update(change: (records: TokenRecord[]) => TokenRecord[]): Promise<void> {
    makePrivateDir(join(this.file, '..'));
    const release = await lockFile(`${this.file}.lock`);
    try {
      this.cached = undefined;
      const next = change(await this.records());
      const text = `${JSON.stringify({ version: FILE_VERSION, tokens: next }, null, 2)}\n`;
      await writeFileAtomic(this.file, text, { mode: PRIVATE_FILE_MODE });
      this.cached = undefined;
    } finally {
      await release();
    }
  }
}

function tokenInfoOf(input: CreateTokenInput, now: number): TokenInfo {
  if (!NAME.test(input.name)) {
    throw new ScopeFsError('EINVAL', `a token name is 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit, not ${JSON.stringify(input.name)}`);
  }
  const read = normalizeGrantPrefixes(input.read ?? []);
  const write = normalizeGrantPrefixes(input.write ?? []);
  if (read.length + write.length === 0) {
    throw new ScopeFsError('EINVAL', 'a token must grant something: give --read and/or --write prefixes (e.g. --read /docs)');
  }
  if (input.expiresInMs !== undefined && !(input.expiresInMs > 0 && Number.isFinite(input.expiresInMs))) {
    throw new ScopeFsError('EINVAL', 'a token\'s lifetime must be positive, e.g. 30d, 12h or 90m');
  }
  return {
    name: input.name,
    read,
    write,
    delete: input.delete ?? true,
    move: input.move ?? true,
    createdAt: new Date(now).toISOString(),
    expiresAt: input.expiresInMs === undefined ? null : new Date(now + input.expiresInMs).toISOString(),
    ...(input.scopes === undefined ? {} : { scopes: scopesOf(input.scopes) }),
  };
}

function scopesOf(scopes: readonly string[]): string[] {
  if (scopes.length === 0) throw new ScopeFsError('EINVAL', 'a token for a multi-scope server names at least one scope (--scope KEY)');
  return [...new Set(scopes)];
}

/** `30d`, `12h`, `90m`, `45s`, `2w` as milliseconds; EINVAL otherwise. */
export function parseLifetime(text: string): number {
  const match = /^(\d+)\s*(s|m|h|d|w)$/i.exec(text.trim());
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
  if (!match || Number(match[1]) === 0) {
    throw new ScopeFsError('EINVAL', `a lifetime is a positive number and a unit (s, m, h, d, w), e.g. 30d, not ${JSON.stringify(text)}`);
  }
  return Number(match[1]) * unit[match[2]!.toLowerCase() as keyof typeof unit];
}

export function isExpired(token: Pick<TokenInfo, 'expiresAt'>, now: number): boolean {
  return token.expiresAt !== null && Date.parse(token.expiresAt) <= now;
}

/** One line for `token list` and refusals: `ci-bot: read /docs; write /notes; no deletes (expires ...)`. */
export function describeToken(token: TokenInfo): string {
  const expiry = token.expiresAt === null ? 'never expires' : `expires ${token.expiresAt}`;
  const scopes = token.scopes === undefined ? '' : `; scopes ${token.scopes.join(', ')}`;
  return `${token.name}: ${describeGrant(token)}${scopes} (${expiry})`;
}

function withoutSecret(record: TokenRecord): TokenInfo {
  const { sha256: _secret, ...info } = record;
  return info;
}

function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

async function fileSignature(file: string): Promise<string> {
  try {
    const info = await stat(file);
    return `${info.ino}:${info.size}:${info.mtimeMs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '{"version":1,"tokens":[]}';
    throw err;
  }
}

function parseFile(file: string, text: string): TokenRecord[] {
  let parsed: { version?: unknown; tokens?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new ScopeFsError('EINVAL', `${file} is not valid JSON; fix or remove it (every named token in it stops working)`);
  }
  if (parsed.version !== FILE_VERSION || !Array.isArray(parsed.tokens)) {
    throw new ScopeFsError('EINVAL', `${file} is not a version ${FILE_VERSION} token file; fix or remove it`);
  }
  return parsed.tokens.filter(isRecord);
}

function isRecord(value: unknown): value is TokenRecord {
  const record = value as Partial<TokenRecord> | null;
  return (
    typeof record?.name === 'string' &&
    typeof record.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(record.sha256) &&
    Array.isArray(record.read) &&
    Array.isArray(record.write) &&
    typeof record.delete === 'boolean' &&
    typeof record.move === 'boolean' &&
    (record.expiresAt === null || typeof record.expiresAt === 'string') &&
    (record.scopes === undefined || (Array.isArray(record.scopes) && record.scopes.every((scope) => typeof scope === 'string')))
  );
}

/** An exclusive lock file holding our pid; one left by a dead process is taken over. */
async function lockFile(file: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: PRIVATE_FILE_MODE });
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) await rm(file, { force: true });
    else if (Date.now() >= deadline) throw new ScopeFsError('ELOCKED', `${file} is held by pid ${holder || 'unknown'}; retry in a moment`);
    else await delay(20);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
