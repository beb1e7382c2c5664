import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScope, type RunningScope } from '../../supervisors/scope/scopes.js';
import { startHttpServer, type HttpServerHandle, type HttpServerOptions } from '../../src/http/server.js';
import type { SyncOptions } from '../../src/sync/sync-actor.js';
import type { Durability } from '../../src/types.js';

export const TOKEN = 'test-token-0123456789abcdef';

export interface TestServer {
  dir: string;
  root: string;
  scope: RunningScope;
  http: HttpServerHandle;
  url: string;
  /** fetch against the server with the bearer token. */
  call(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

let counter = 0;

/** A scope on a fresh temp root, served over HTTP on a free loopback port. */
export async function startTestServer(
  options: Partial<Omit<HttpServerOptions, 'scope'>> & { sync?: (dir: string) => SyncOptions; durability?: Durability } = {},
): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'scopefs-http-'));
  const root = join(dir, 'root');
  const scope = await startScope({
    scopeKey: `http-test-${process.pid}-${++counter}`,
    root,
    durability: options.durability ?? 'journal',
    sync: options.sync?.(dir),
  });
  const http = await startHttpServer({ auth: { mode: 'token', token: TOKEN }, port: 0, onError: () => undefined, ...options, scope });
  return {
    dir,
    root,
    scope,
    http,
    url: http.url,
    call: (path, init = {}) =>
      fetch(`${http.url}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) } }),
    close: async () => {
      await http.close();
      await scope.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A raw HTTP request whose target is sent exactly as given (fetch would
 * normalise `..` away before it reaches the server).
 */
export function rawRequest(
  url: string,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, method, path: target, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Headers of a JSON request body (the JSON endpoints refuse any other type with 415). */
export const JSON_TYPE = { 'content-type': 'application/json' };
