/**
 * Tailed records and the tail over HTTP (docs/tail.md), for the scope's
 * owner (a limited token sees no records: they may come from any file):
 *
 * - `GET /v1/records?since=&source=&file=&limit=` → `{ records, cursor }` (continue with `since=cursor`).
 * - `GET /v1/records/search?q=&source=&limit=` → `{ records }`, newest first.
 * - `GET /v1/tail/status` → per source: files, offsets, lag in bytes and ms, errors; the backfill's progress.
 * - `POST /v1/tail/backfill` `{ source?, limit? }` → `{ files }` once the files never read yet are read.
 */
import { fsErrors } from '../../errors.js';
import type { ScopeHandle } from '../../types.js';
import { readJsonObject } from '../body.js';
import { HttpError, sendJson } from '../responses.js';
import type { Route } from '../router.js';

export interface TailRouteDeps {
  scope: ScopeHandle;
  maxJsonBytes: number;
}

export function tailRoutes(deps: TailRouteDeps): Route[] {
  return [
    { method: 'GET', path: '/v1/records', handler: async ({ res, query }) => {
      const since = integer(query.get('since'), 'since') ?? 0;
      const page = await recordsOf(deps.scope).since(since, {
        ...optional('source', query.get('source')),
        ...optional('file', query.get('file')),
        ...(query.has('limit') ? { limit: integer(query.get('limit'), 'limit') } : {}),
      });
      sendJson(res, 200, page);
    } },
    { method: 'GET', path: '/v1/records/search', handler: async ({ res, query }) => {
      const text = query.get('q');
      if (!text) throw fsErrors.invalid('GET /v1/records/search needs ?q=<text the line contains>');
      const records = await recordsOf(deps.scope).search({
        text,
        ...optional('source', query.get('source')),
        ...(query.has('limit') ? { limit: integer(query.get('limit'), 'limit') } : {}),
      });
      sendJson(res, 200, { records });
    } },
    { method: 'GET', path: '/v1/tail/status', handler: ({ res }) => sendJson(res, 200, tailOf(deps.scope).status()) },
    { method: 'POST', path: '/v1/tail/backfill', handler: async ({ req, res }) => {
      const body = await readJsonObject(req, deps.maxJsonBytes);
      if (body.source !== undefined && typeof body.source !== 'string') throw fsErrors.invalid('source must be the name of a tail source');
      if (body.limit !== undefined && (!Number.isSafeInteger(body.limit) || (body.limit as number) < 1)) throw fsErrors.invalid('limit must be a positive integer (files, newest first)');
      const files = await tailOf(deps.scope).backfill({ ...optional('source', body.source as string | undefined), ...(body.limit === undefined ? {} : { limit: body.limit as number }) });
      sendJson(res, 200, { files });
    } },
  ];
}

function recordsOf(scope: ScopeHandle): NonNullable<ScopeHandle['records']> {
  if (!scope.records) throw new HttpError(403, 'EACCES', 'records are for the scope\'s owner: use an owner token');
  return scope.records;
}

function tailOf(scope: ScopeHandle): NonNullable<ScopeHandle['tail']> {
  if (!scope.tail) throw new HttpError(403, 'EACCES', 'the tail is for the scope\'s owner: use an owner token');
  return scope.tail;
}

function integer(value: string | null, name: string): number | undefined {
  if (value === null) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw fsErrors.invalid(`${name} must be a non-negative integer, not ${JSON.stringify(value.slice(0, 40))}`);
  return Number(value);
}

function optional<K extends string>(key: K, value: string | null | undefined): { [P in K]?: string } {
  return (value === null || value === undefined || value === '' ? {} : { [key]: value }) as { [P in K]?: string };
}
