import type { ServerResponse } from 'node:http';
import { isScopeFsError, type ErrorCode } from '../errors.js';

/** An error that is about the HTTP exchange itself (auth, body size, route, method). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  ENOENT: 404,
  EINVAL: 400,
  EEXIST: 409,
  ESTALE: 412,
  EROFS: 403,
  EACCES: 403, // a grant's (or the store's) refusal: the caller's fault, the message names the grant
  EFBIG: 413,
  ETIMEDOUT: 504,
  ELOCKED: 423,
  EPAUSED: 409, // sync is paused: resume (or confirm the safety gate) first
  ESTOPPED: 503,
};

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Status and JSON body for any error; unexpected errors become a bare 500 (the details go to the log). */
export function describeError(err: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof HttpError) {
    return { status: err.status, body: { error: { code: err.code, message: err.message } }, headers: err.headers };
  }
  if (isScopeFsError(err)) {
    return { status: STATUS_BY_CODE[err.code] ?? 500, body: { error: { code: err.code, message: err.message } }, headers: {} };
  }
  return { status: 500, body: { error: { code: 'EINTERNAL', message: 'internal error' } }, headers: {} };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const { status, body, headers } = describeError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, body, headers);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers);
  res.end();
}
