import type { IncomingHttpHeaders } from 'node:http';
import { fsErrors, isScopeFsError } from '../../errors.js';
import { normalizePath, normalizePrefix } from '../../paths.js';
import type { Transactions } from '../../transactions/transactions.js';
import type { EntryMeta, FileSystem } from '../../types.js';
import { readBody, readJsonObject } from '../body.js';
import { HttpError, sendEmpty, sendJson } from '../responses.js';
import type { RequestContext, Route } from '../router.js';
import { requestFs } from './transactions.js';

export interface FileRouteDeps {
  fs: FileSystem;
  /** The caller's transactions: a request with `X-Scopefs-Transaction: <id>` acts inside that one (transactions.ts). */
  transactions?: Transactions;
  maxBodyBytes: number;
  maxJsonBytes: number;
}

const FILES = '/v1/files';

/**
 * Files over HTTP: list, read (ETag = revision), write (If-Match = compare-and-swap), delete, move, flush;
 * inside a transaction when the request names one.
 */
export function fileRoutes(deps: FileRouteDeps): Route[] {
  const fsOf = ({ req }: RequestContext) => requestFs(deps.fs, deps.transactions, req.headers);
  return [
    { method: 'GET', path: FILES, handler: (ctx) => list(fsOf(ctx), ctx) },
    { method: 'GET', path: FILES, prefix: true, handler: (ctx) => read(fsOf(ctx), ctx) },
    { method: 'HEAD', path: FILES, prefix: true, handler: (ctx) => head(fsOf(ctx), ctx) },
    { method: 'PUT', path: FILES, prefix: true, handler: (ctx) => write(fsOf(ctx), deps, ctx) },
    { method: 'DELETE', path: FILES, prefix: true, handler: (ctx) => remove(fsOf(ctx), ctx) },
    { method: 'POST', path: '/v1/move', handler: (ctx) => move(fsOf(ctx), deps, ctx) },
    { method: 'POST', path: '/v1/flush', handler: async (ctx) => sendJson(ctx.res, 200, await fsOf(ctx).flushAll()) },
  ];
}

async function list(fs: FileSystem, { res, query }: RequestContext): Promise<void> {
  const prefix = normalizePrefix(query.get('prefix') ?? '/');
  sendJson(res, 200, { prefix, files: await fs.listEntries(prefix) });
}

async function read(fs: FileSystem, { req, res, rest, query }: RequestContext): Promise<void> {
  const revision = query.get('revision');
  if (revision !== null) return readRevision(fs, filePath(rest), revision, { req, res });
  const { content: bytes, meta } = await fs.readEntry(filePath(rest), { encoding: 'bytes' });
  const headers = metaHeaders(meta);
  if (req.headers['if-none-match'] === headers.etag) return sendEmpty(res, 304, headers);
  res.writeHead(200, { ...headers, 'content-length': String(bytes.byteLength) });
  res.end(bytes);
}

async function head(fs: FileSystem, { res, rest }: RequestContext): Promise<void> {
  const meta = await fs.stat(filePath(rest));
  sendEmpty(res, 200, { ...metaHeaders(meta), 'content-length': String(meta.size) });
}

async function write(fs: FileSystem, deps: FileRouteDeps, { req, res, rest }: RequestContext): Promise<void> {
  const path = filePath(rest);
  const ifRevision = await expectedRevision(fs, path, req.headers);
  const body = await readBody(req, deps.maxBodyBytes);
  const meta = await fs.writeFile(path, body, { ifRevision, lockToken: lockTokenOf(req.headers) }).catch((err: unknown) => {
    throw ifRevision === 0 && isScopeFsError(err, 'ESTALE') ? alreadyExists(path) : err;
  });
  sendJson(res, 200, meta, { etag: etagOf(meta.revision) });
}

/** `If-None-Match: *` on a file that exists: say so, not the internal "revision 0" of the compare-and-swap. */
function alreadyExists(path: string): HttpError {
  return new HttpError(412, 'EEXIST', `file already exists ${JSON.stringify(path)} (If-None-Match: *); read it, or send If-Match: "<revision>" to replace it`);
}

async function remove(fs: FileSystem, { req, res, rest }: RequestContext): Promise<void> {
  const path = filePath(rest);
  await fs.deleteFile(path, { ifRevision: await expectedRevision(fs, path, req.headers), lockToken: lockTokenOf(req.headers) });
  sendEmpty(res, 204);
}

async function move(fs: FileSystem, deps: FileRouteDeps, { req, res }: RequestContext): Promise<void> {
  const { from, to } = await readJsonObject(req, deps.maxJsonBytes);
  sendJson(res, 200, await fs.moveFile(from as string, to as string, { lockToken: lockTokenOf(req.headers) }));
}

/** `X-Scopefs-Lock: <token>`: the lock this write, delete or move holds (routes/locks.ts). */
function lockTokenOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['x-scopefs-lock'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new HttpError(400, 'EINVAL', 'send one X-Scopefs-Lock header with the token POST /v1/locks answered');
  return value.trim();
}

/** The virtual path named by the rest of the URL: percent-decoded once, then validated like the library does. */
export function filePath(rawRest: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawRest);
  } catch {
    throw fsErrors.invalidPath(rawRest, 'malformed percent-encoding');
  }
  return normalizePath(decoded);
}

export function etagOf(revision: number): string {
  return `"${revision}"`;
}

function metaHeaders(meta: EntryMeta): Record<string, string> {
  return {
    etag: etagOf(meta.revision),
    'content-type': meta.mimeType,
    'last-modified': new Date(meta.modifiedAt).toUTCString(),
    'x-scopefs-revision': String(meta.revision),
    'cache-control': 'no-cache',
  };
}

/**
 * The revision a conditional write or delete expects: `If-Match: "7"` means
 * revision 7, `If-Match: *` the current revision of an existing file, and
 * `If-None-Match: *` "must not exist" (revision 0).
 */
export async function expectedRevision(fs: FileSystem, path: string, headers: IncomingHttpHeaders): Promise<number | undefined> {
  const ifMatch = headers['if-match']?.trim();
  const ifNoneMatch = headers['if-none-match']?.trim();
  if (ifMatch !== undefined && ifNoneMatch !== undefined) {
    throw new HttpError(400, 'EINVAL', 'send either If-Match or If-None-Match, not both');
  }
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch !== '*') throw new HttpError(400, 'EINVAL', 'a write supports only If-None-Match: *');
    return 0;
  }
  if (ifMatch === undefined) return undefined;
  if (ifMatch === '*') return currentRevision(fs, path);
  const match = /^"(\d+)"$|^(\d+)$/.exec(ifMatch);
  const revision = Number(match?.[1] ?? match?.[2]);
  if (!match || !Number.isSafeInteger(revision)) {
    throw new HttpError(400, 'EINVAL', `If-Match must be one revision ETag such as "7", not ${JSON.stringify(ifMatch)}`);
  }
  return revision;
}

async function currentRevision(fs: FileSystem, path: string): Promise<number> {
  try {
    return (await fs.stat(path)).revision;
  } catch (err) {
    if (isScopeFsError(err, 'ENOENT')) throw new HttpError(412, 'ESTALE', `${JSON.stringify(path)} does not exist`);
    throw err;
  }
}

/**
 * `?revision=N`: an older version from the history. Its content never
 * changes, so its ETag names the history revision and a client may cache it.
 */
async function readRevision(fs: FileSystem, path: string, raw: string, { req, res }: Pick<RequestContext, 'req' | 'res'>): Promise<void> {
  const revision = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(revision) || revision <= 0) {
    throw new HttpError(400, 'EINVAL', `revision must be a positive integer from GET /v1/history/<path>, not ${JSON.stringify(raw)}`);
  }
  const bytes = (await fs.readFile(path, { encoding: 'bytes', revision })) as Uint8Array;
  const headers = { etag: `"h${revision}"`, 'x-scopefs-history-revision': String(revision), 'cache-control': 'private, max-age=31536000, immutable' };
  if (req.headers['if-none-match'] === headers.etag) return sendEmpty(res, 304, headers);
  res.writeHead(200, { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) });
  res.end(bytes);
}
