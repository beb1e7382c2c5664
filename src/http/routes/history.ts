/**
 * History over HTTP (docs/history.md): the versions of a path, restore and
 * undelete, deleted paths, checkpoints and rolling back to one. Same auth
 * and error rules as the files API; a restore answers the new revision as
 * its ETag, like a write. Old revisions themselves are read through
 * `GET /v1/files/<path>?revision=N` (files.ts).
 */
import { normalizePath, normalizePrefix } from '../../paths.js';
import type { Transactions } from '../../transactions/transactions.js';
import type { FileSystem } from '../../types.js';
import { readJsonObject } from '../body.js';
import { HttpError, sendEmpty, sendJson } from '../responses.js';
import type { RequestContext, Route } from '../router.js';
import { etagOf, expectedRevision, filePath } from './files.js';
import { requestFs } from './transactions.js';

export interface HistoryRouteDeps {
  fs: FileSystem;
  /** With `X-Scopefs-Transaction: <id>`: reads of history are the same inside; restores and checkpoints are refused there. */
  transactions?: Transactions;
  maxJsonBytes: number;
}

const CHECKPOINTS = '/v1/checkpoints';

export function historyRoutes(deps: HistoryRouteDeps): Route[] {
  const fsOf = ({ req }: RequestContext) => requestFs(deps.fs, deps.transactions, req.headers);
  return [
    { method: 'GET', path: '/v1/history', prefix: true, handler: (ctx) => versions(fsOf(ctx), ctx) },
    { method: 'POST', path: '/v1/restore', handler: (ctx) => restore(fsOf(ctx), deps, ctx) },
    { method: 'GET', path: '/v1/deleted', handler: async (ctx) => {
      const prefix = normalizePrefix(ctx.query.get('prefix') ?? '/');
      sendJson(ctx.res, 200, { prefix, deleted: await fsOf(ctx).listDeleted(prefix) });
    } },
    { method: 'GET', path: CHECKPOINTS, handler: async (ctx) => sendJson(ctx.res, 200, { checkpoints: await fsOf(ctx).listCheckpoints() }) },
    { method: 'POST', path: CHECKPOINTS, handler: (ctx) => createCheckpoint(fsOf(ctx), deps, ctx) },
    { method: 'POST', path: CHECKPOINTS, prefix: true, handler: (ctx) => restoreCheckpoint(fsOf(ctx), deps, ctx) },
    { method: 'GET', path: CHECKPOINTS, prefix: true, handler: (ctx) => diffCheckpoint(fsOf(ctx), ctx) },
    { method: 'DELETE', path: CHECKPOINTS, prefix: true, handler: (ctx) => deleteCheckpoint(fsOf(ctx), ctx) },
  ];
}

async function versions(fs: FileSystem, { res, rest, query }: RequestContext): Promise<void> {
  const path = filePath(rest);
  const limit = query.get('limit');
  sendJson(res, 200, { path, versions: await fs.history(path, limit === null ? {} : { limit: positiveInteger(limit, 'limit') }) });
}

async function restore(fs: FileSystem, deps: HistoryRouteDeps, { req, res }: RequestContext): Promise<void> {
  const body = await readJsonObject(req, deps.maxJsonBytes);
  if (typeof body.path !== 'string') throw new HttpError(400, 'EINVAL', 'POST /v1/restore needs {"path": "/a.md", "revision": N}; list revisions with GET /v1/history/<path>');
  const revision = integerField(body.revision, 'revision');
  // The body's ifRevision, or If-Match / If-None-Match: * as for a write.
  const ifRevision = body.ifRevision === undefined ? await expectedRevision(fs, normalizePath(body.path), req.headers) : integerField(body.ifRevision, 'ifRevision');
  const meta = await fs.restore(body.path, revision, ifRevision === undefined ? {} : { ifRevision });
  sendJson(res, 200, meta, { etag: etagOf(meta.revision) });
}

async function createCheckpoint(fs: FileSystem, deps: HistoryRouteDeps, { req, res }: RequestContext): Promise<void> {
  const body = await readJsonObject(req, deps.maxJsonBytes);
  const name = optionalString(body.name, 'name');
  const message = optionalString(body.message, 'message');
  const prefix = optionalString(body.prefix, 'prefix');
  const info = await fs.checkpoint(name, { ...(message === undefined ? {} : { message }), ...(prefix === undefined ? {} : { prefix }) });
  sendJson(res, 201, info);
}

/** `POST /v1/checkpoints/<name>/restore` with `{ prefix?, dryRun? }`. */
async function restoreCheckpoint(fs: FileSystem, deps: HistoryRouteDeps, { req, res, rest }: RequestContext): Promise<void> {
  const name = checkpointName(rest, '/restore');
  const body = await readJsonObject(req, deps.maxJsonBytes);
  const prefix = optionalString(body.prefix, 'prefix');
  if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') throw new HttpError(400, 'EINVAL', '"dryRun" must be true or false');
  const result = await fs.restoreCheckpoint(name, { ...(prefix === undefined ? {} : { prefix }), dryRun: body.dryRun === true });
  sendJson(res, 200, result);
}

/** `GET /v1/checkpoints/<name>/diff[?to=<other>]`: against the current files without `to`. */
async function diffCheckpoint(fs: FileSystem, { res, rest, query }: RequestContext): Promise<void> {
  const name = checkpointName(rest, '/diff');
  sendJson(res, 200, await fs.diffCheckpoint(name, query.get('to') ?? undefined));
}

/** `DELETE /v1/checkpoints/<name>`: 204; the versions only it kept become prunable. */
async function deleteCheckpoint(fs: FileSystem, { res, rest }: RequestContext): Promise<void> {
  if (rest.slice(1).includes('/')) throw noEndpoint();
  await fs.deleteCheckpoint(checkpointName(rest, ''));
  sendEmpty(res, 204);
}

/** The `<name>` of `/<name><action>` (action `''` for the checkpoint itself). */
function checkpointName(rest: string, action: string): string {
  if (!rest.endsWith(action) || rest.length <= action.length + 1) throw noEndpoint();
  try {
    return decodeURIComponent(rest.slice(1, rest.length - action.length));
  } catch {
    throw new HttpError(400, 'EINVAL', 'malformed percent-encoding in the checkpoint name');
  }
}

function noEndpoint(): HttpError {
  return new HttpError(404, 'ENOENT', 'no such endpoint; use /v1/checkpoints/<name>/restore (POST), /v1/checkpoints/<name>/diff (GET) or /v1/checkpoints/<name> (DELETE)');
}

function positiveInteger(value: string, name: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new HttpError(400, 'EINVAL', `${name} must be a positive integer, not ${JSON.stringify(value)}`);
  return n;
}

function integerField(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new HttpError(400, 'EINVAL', `"${name}" must be a non-negative integer (a revision from GET /v1/history/<path>)`);
  }
  return value;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, 'EINVAL', `"${name}" must be a string`);
  return value;
}
