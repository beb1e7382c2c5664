/**
 * The dashboard's only way to the server: the public HTTP API, with the
 * bearer token in the Authorization header. The token lives in
 * sessionStorage (this tab, until it closes), never in a URL or in the page.
 */
import { streamEvents, type SseEvent } from './sse.js';

/** A refusal or failure, with the server's own code and message (they say what to do next). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly response?: Response,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface FileMeta {
  path: string;
  size: number;
  revision: string;
  mimeType?: string;
  modifiedAt?: number;
  createdAt?: number;
  [key: string]: unknown;
}

export interface Grant {
  read?: string[];
  write?: string[];
  noDelete?: boolean;
  noMove?: boolean;
  [key: string]: unknown;
}

/** Where the page was served from: the API is relative to it (a mounted handler lives under a prefix). */
export function apiRootOfPage(location: Location): string {
  return new URL('.', location.href).pathname;
}

export class Api {
  constructor(
    /** Absolute path prefix of this scope's API, ending in '/': `/`, `/scopefs/` or `/v1/scopes/<scope>/`. */
    readonly root: string,
    private readonly token: string,
  ) {}

  /** The same server and token, for another scope of a multi-scope server. */
  forScope(serverRoot: string, scopeKey: string): Api {
    return new Api(`${serverRoot}v1/scopes/${encodeURIComponent(scopeKey)}/`, this.token);
  }

  url(path: string): string {
    return `${this.root}${path.replace(/^\//, '')}`;
  }

  async request(method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Response> {
    const response = await fetch(this.url(path), {
      method,
      body: init.body,
      signal: init.signal,
      cache: 'no-store',
      headers: { authorization: `Bearer ${this.token}`, ...init.headers },
    });
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  async json<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const init = body === undefined ? { headers } : { body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } };
    const response = await this.request(method, path, init);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>('GET', path);
  }

  /** `/v1/files/<path>` for a scope path like `/notes/a.md` (each segment encoded). */
  filePath(path: string): string {
    return `v1/files/${path.split('/').filter(Boolean).map(encodeURIComponent).join('/')}`;
  }

  events(onEvent: (event: SseEvent) => void, signal: AbortSignal, onOpen?: (open: boolean) => void, onRefused?: (status: number) => void): Promise<void> {
    return streamEvents({ url: this.url('v1/events'), token: this.token, onEvent, onOpen, onRefused, signal });
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.clone().text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new ApiError(response.status, body.error.code ?? `HTTP${response.status}`, body.error.message, response);
  } catch {
    // not JSON: fall through to the status line
  }
  return new ApiError(response.status, `HTTP${response.status}`, text.trim() || `the server answered ${response.status} ${response.statusText}`, response);
}

const TOKEN_KEY = 'scopefs.token';

export const tokenStore = {
  load(): string | undefined {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  },
  save(token: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};
