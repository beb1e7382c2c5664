import type { IncomingMessage } from 'node:http';
import { HttpError } from './responses.js';

// `connection: close` so the rest of an oversized body is not read just to keep the connection alive.
const tooLarge = (limit: number) =>
  new HttpError(413, 'EFBIG', `the request body is over the limit of ${limit} bytes`, { connection: 'close' });

/** The whole request body, refusing (413) anything over `limit` bytes before or while reading it. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * The request body parsed as JSON. It must be declared `application/json`:
 * the types a browser may send cross-site without a preflight (`text/plain`,
 * forms) are refused before anything is read.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  requireJsonType(req.headers['content-type']);
  const body = await readBody(req, limit);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'EINVAL', 'the request body is not valid JSON');
  }
}

/** The request body parsed as a JSON object. */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const parsed = await readJson(req, limit);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, 'EINVAL', 'the request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function requireJsonType(contentType: string | undefined): void {
  const mediaType = contentType?.split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/json') return;
  const got = mediaType === undefined || mediaType === '' ? 'no Content-Type' : `Content-Type: ${mediaType}`;
  throw new HttpError(415, 'EMEDIATYPE', `this endpoint takes a JSON body: send it with Content-Type: application/json (got ${got})`);
}
