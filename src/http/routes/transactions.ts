/**
 * Transactions over HTTP (docs/transactions.md, docs/http.md#transactions):
 *
 * - `POST /v1/transactions` `{ name?, onConflict? }` (body optional) → 201 with the transaction's info
 *   (`id`, `name`, `actor`, `startedAt`, `lastUsedAt`, `paths`, `bytes`). One left unused for the scope's
 *   idle time (`transactions.idleMs`, default 10 minutes) is aborted.
 * - `GET /v1/transactions` → `{ transactions: [info] }`; `GET /v1/transactions/<id>` → its info.
 * - `POST /v1/transactions/<id>/commit` → 200 with the result (`committed`, `checkpoint`, `changes`,
 *   `conflicts`); 409 ECONFLICT with the same result when conflicts refused it (onConflict `fail`).
 * - `POST /v1/transactions/<id>/abort` `{ reason? }` (body optional) → 200 `{ id, name, aborted: true }`.
 *
 * A file request carrying `X-Scopefs-Transaction: <id>` acts inside the transaction (requestFs): reads see
 * the scope as of its start plus its own writes, writes stay private until the commit. The caller's grant
 * applies inside as outside (tokens-scope.ts gives a limited caller only its own transactions).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { ScopeFsError, fsErrors } from '../../errors.js';
import type { Transaction, Transactions } from '../../transactions/transactions.js';
import type { TransactionOptions } from '../../transactions/types.js';
import type { FileSystem, ScopeHandle } from '../../types.js';
import { readJsonObject } from '../body.js';
import { HttpError, sendJson } from '../responses.js';
import type { RequestContext, Route } from '../router.js';

export interface TransactionRouteDeps {
  scope: Pick<ScopeHandle, 'transactions'>;
  /** Who begins: recorded as the actor of the transaction's changes. */
  actor: string;
  maxJsonBytes: number;
}

const TRANSACTIONS = '/v1/transactions';
const HEADER = 'x-scopefs-transaction';
const BEGIN_FIELDS = new Set(['name', 'onConflict']);
const MAX_NAME = 200;

export function transactionRoutes(deps: TransactionRouteDeps): Route[] {
  return [
    { method: 'POST', path: TRANSACTIONS, handler: (ctx) => begin(deps, ctx) },
    { method: 'GET', path: TRANSACTIONS, handler: ({ res }) => sendJson(res, 200, { transactions: transactionsOf(deps.scope.transactions).list() }) },
    { method: 'GET', path: TRANSACTIONS, prefix: true, handler: ({ res, rest }) => sendJson(res, 200, openTransaction(deps.scope.transactions, idOf(rest)).info()) },
    { method: 'POST', path: TRANSACTIONS, prefix: true, handler: (ctx) => finish(deps, ctx) },
  ];
}

/**
 * The filesystem a request acts on: the scope's, or with `X-Scopefs-Transaction: <id>` that transaction's
 * (as the caller may use it: `transactions` is the caller's facade, so its grant applies inside too).
 */
export function requestFs(fs: FileSystem, transactions: Transactions | undefined, headers: IncomingHttpHeaders): FileSystem {
  const value = headers[HEADER];
  if (value === undefined) return fs;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new HttpError(400, 'EINVAL', 'send one X-Scopefs-Transaction header with the id POST /v1/transactions answered');
  }
  return openTransaction(transactions, checkedId(value.trim(), 'the X-Scopefs-Transaction header')).fs;
}

async function begin(deps: TransactionRouteDeps, { req, res }: RequestContext): Promise<void> {
  const transactions = transactionsOf(deps.scope.transactions);
  const body = hasBody(req) ? await readJsonObject(req, deps.maxJsonBytes) : {};
  const options: TransactionOptions & { idle: true } = { idle: true, actor: deps.actor, ...beginOptions(body) };
  const transaction = await transactions.begin(options);
  sendJson(res, 201, transaction.info());
}

/** `{ name?, onConflict? }`, checked: anything else is a mistake the caller should hear about. */
function beginOptions(body: Record<string, unknown>): Pick<TransactionOptions, 'name' | 'onConflict'> {
  const unknown = Object.keys(body).filter((key) => !BEGIN_FIELDS.has(key));
  if (unknown.length > 0) {
    throw fsErrors.invalid(`POST ${TRANSACTIONS} takes { "name"?: string, "onConflict"?: "fail" | "copy" }, not ${unknown.map((key) => JSON.stringify(key)).join(', ')}`);
  }
  const { name, onConflict } = body;
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME)) {
    throw fsErrors.invalid(`"name" must be a non-empty string of at most ${MAX_NAME} characters`);
  }
  if (onConflict !== undefined && onConflict !== 'fail' && onConflict !== 'copy') {
    throw fsErrors.invalid(`"onConflict" must be "fail" (a conflict commits nothing) or "copy" (keep conflicting versions as copies), not ${JSON.stringify(onConflict)}`);
  }
  return { ...(name === undefined ? {} : { name }), ...(onConflict === undefined ? {} : { onConflict }) };
}

/** `POST /v1/transactions/<id>/commit` and `/abort`. */
async function finish(deps: TransactionRouteDeps, { req, res, rest }: RequestContext): Promise<void> {
  const match = /^\/([^/]+)\/(commit|abort)$/.exec(rest);
  if (!match) throw new HttpError(404, 'ENOTFOUND', `no such endpoint: POST ${TRANSACTIONS}${rest}; use ${TRANSACTIONS}/<id>/commit or ${TRANSACTIONS}/<id>/abort`);
  const transaction = openTransaction(deps.scope.transactions, checkedId(match[1]!, 'the URL'));
  if (match[2] === 'abort') {
    const body = hasBody(req) ? await readJsonObject(req, deps.maxJsonBytes) : {};
    if (body.reason !== undefined && typeof body.reason !== 'string') throw fsErrors.invalid('"reason" must be a string');
    transaction.abort(typeof body.reason === 'string' && body.reason !== '' ? body.reason.slice(0, MAX_NAME) : `aborted by ${deps.actor} over HTTP`);
    sendJson(res, 200, { id: transaction.id, name: transaction.name, aborted: true });
    return;
  }
  const result = await transaction.commit();
  if (result.committed) return sendJson(res, 200, result);
  sendJson(res, 409, {
    error: {
      code: 'ECONFLICT',
      message:
        `nothing was committed: ${result.conflicts.length} path(s) changed both in transaction ${result.name} and outside it, in ways that do not merge ` +
        `(${result.conflicts.map((conflict) => conflict.path).join(', ')}). The transaction is over: read those files again, begin a new transaction and redo the edits, ` +
        'or begin it with "onConflict": "copy" to commit what merges and keep the rest as conflict copies',
    },
    ...result,
  });
}

function transactionsOf(transactions: Transactions | undefined): Transactions {
  if (!transactions) throw new HttpError(403, 'EACCES', 'this scope offers no transactions to this caller');
  return transactions;
}

function openTransaction(transactions: Transactions | undefined, id: string): Transaction {
  const transaction = transactionsOf(transactions).get(id);
  if (!transaction) {
    throw new ScopeFsError(
      'ENOENT',
      `no open transaction ${JSON.stringify(id)}: it was committed or aborted (one left unused for the scope's idle time is aborted), or never begun. ` +
        `Nothing of an aborted one was applied: begin a new one with POST ${TRANSACTIONS} and redo its changes`,
    );
  }
  return transaction;
}

function idOf(rest: string): string {
  return checkedId(rest.slice(1), 'the URL');
}

function checkedId(id: string, where: string): string {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(id)) {
    throw fsErrors.invalid(`not a transaction id in ${where}: ${JSON.stringify(id.slice(0, 40))}; use the id POST ${TRANSACTIONS} answered`);
  }
  return id;
}

/** Whether the request carries a body (a POST without one, e.g. `fetch` with no body, sends Content-Length: 0). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
