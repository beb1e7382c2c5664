import { ScopeFsError, type ErrorCode } from '../errors.js';
import { normalizePath, normalizePrefix } from '../paths.js';
import type { ScopeStatus } from '../http/status.js';
import type { ControlOutcome } from '../http/routes/sync.js';
import type { ConflictRecord, ConflictResolution } from '../sync/types.js';
import type { EntryMeta, FlushResult, MoveResult } from '../types.js';
import { httpHistory } from './history-ops.js';
import type { ScopeTarget } from './target.js';

const KNOWN_CODES = new Set<string>([
  'ENOENT', 'EEXIST', 'EINVAL', 'EROFS', 'EFBIG', 'ESTALE', 'ELOCKED',
  'ETIMEDOUT', 'ESTOPPED', 'EIO', 'ECONFLICT', 'EPAUSED', 'ESCHEMA',
]);

/** A client of a running serve's HTTP API. */
export function httpTarget(baseUrl: string, token: string | undefined): ScopeTarget {
  const call = (method: string, path: string, init: { body?: string | Uint8Array; headers?: Record<string, string> } = {}) =>
    request(baseUrl, token, method, path, init);
  const json = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const init = body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
    return (await (await call(method, path, init)).json()) as T;
  };
  return {
    mode: 'serve',
    history: httpHistory(json, (method, path) => call(method, path)),
    list: async (prefix) => (await json<{ files: EntryMeta[] }>('GET', `/v1/files?prefix=${encodeURIComponent(normalizePrefix(prefix))}`)).files,
    read: async (path) => {
      const response = await call('GET', fileUrl(path));
      return { bytes: new Uint8Array(await response.arrayBuffer()), revision: Number(response.headers.get('x-scopefs-revision')) };
    },
    write: async (path, content, ifRevision) => {
      const headers: Record<string, string> = ifRevision === undefined ? {} : { 'if-match': `"${ifRevision}"` };
      return (await (await call('PUT', fileUrl(path), { body: content, headers })).json()) as EntryMeta;
    },
    move: (from, to) => json<MoveResult>('POST', '/v1/move', { from, to }),
    remove: async (path) => void (await call('DELETE', fileUrl(path))),
    flush: () => json<FlushResult>('POST', '/v1/flush'),
    status: () => json<ScopeStatus>('GET', '/v1/status'),
    conflicts: async () => (await json<{ conflicts: ConflictRecord[] }>('GET', '/v1/conflicts')).conflicts,
    resolve: async (path, resolution) => void (await json('POST', '/v1/conflicts/resolve', { path, ...resolutionBody(resolution) })),
    control: (control) => json<ControlOutcome>('POST', `/v1/sync/${control}`),
    // The serve keeps syncing after we leave; nothing to wait for here.
    settle: async () => true,
    close: async () => undefined,
  };
}

/** `/v1/files/<path>` with each segment percent-encoded; the path is validated here first for the same error. */
function fileUrl(path: string): string {
  return `/v1/files${normalizePath(path).split('/').map(encodeURIComponent).join('/')}`;
}

function resolutionBody(resolution: ConflictResolution): Record<string, string> {
  if (typeof resolution === 'string') return { keep: resolution };
  const { content } = resolution;
  return typeof content === 'string' ? { content } : { contentBase64: Buffer.from(content).toString('base64') };
}

async function request(
  baseUrl: string,
  token: string | undefined,
  method: string,
  path: string,
  init: { body?: string | Uint8Array; headers?: Record<string, string> },
): Promise<Response> {
  const headers = { ...init.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, { method, headers, body: init.body });
  } catch (err) {
    throw new ScopeFsError('EIO', `the serve at ${baseUrl} did not answer`, { cause: err });
  }
  if (!response.ok) throw await responseError(baseUrl, response);
  return response;
}

/** The server's typed error as a ScopeFsError, so both modes fail alike. */
async function responseError(baseUrl: string, response: Response): Promise<Error> {
  const body = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  const code = body?.error?.code ?? '';
  const message = body?.error?.message ?? `HTTP ${response.status}`;
  if (response.status === 401) {
    return new ScopeFsError('EINVAL', `the serve at ${baseUrl} refused the token; pass --token or set SCOPEFS_TOKEN`);
  }
  if (KNOWN_CODES.has(code)) return new ScopeFsError(code as ErrorCode, message.replace(`${code}: `, ''));
  return new Error(`the serve at ${baseUrl} answered ${response.status}: ${message}`);
}
