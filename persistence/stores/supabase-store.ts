/**
 * The Supabase SyncStore: supabase-js calling the same scopefs SQL functions
 * as the postgres store, through PostgREST RPC (`POST /rest/v1/rpc/<fn>`).
 * Row-level security applies: with a publishable (anon) key plus a signed-in
 * user's JWT, a user sees their own private files and the shared files of the
 * apps they are a member of; a secret (service role) key sees everything.
 * Hints come from Realtime when available, else from polling the head.
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { ScopeFsError, errorMessage } from '../../src/errors.js';
import { redactSecrets } from '../../src/redact.js';
import { SqlFunctionStore } from '../sql/sql-function-store.js';
import { sqlError, type SqlArgs, type SqlFunctionName } from '../sql/sql-store-mapping.js';
import { HintListeners } from './store-hints.js';
import { checkName } from './store-input.js';
import { SupabaseHeadWatch } from './supabase-hints.js';
import type { StoreHint } from './types.js';

type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

export interface SupabaseStoreOptions {
  /** Project URL, e.g. https://xyz.supabase.co; defaults to SUPABASE_URL. */
  url?: string;
  /** API key; defaults to SUPABASE_PUBLISHABLE_KEY, SUPABASE_ANON_KEY, SUPABASE_SECRET_KEY, SUPABASE_SERVICE_ROLE_KEY. */
  key?: string;
  /** A signed-in user's access token (JWT), for RLS; defaults to SCOPEFS_SUPABASE_ACCESS_TOKEN. */
  accessToken?: string | (() => Promise<string | null>);
  /** A ready client (e.g. with a user session); url and key are then only used for naming. */
  client?: SupabaseClient;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
  /** Use Realtime for hints (default: when a WebSocket implementation is available). */
  realtime?: boolean;
  /** WebSocket implementation for Realtime on Node < 22 (e.g. the `ws` package). */
  webSocket?: WebSocketConstructor;
  /** Head polling interval while Realtime is not connected (default 2000 ms). */
  pollIntervalMs?: number;
  /** Where the defaults are read from (default process.env). */
  env?: Record<string, string | undefined>;
}

const KEY_VARIABLES = ['SUPABASE_PUBLISHABLE_KEY', 'SUPABASE_ANON_KEY', 'SUPABASE_SECRET_KEY', 'SUPABASE_SERVICE_ROLE_KEY'];
const DEFAULT_POLL_INTERVAL_MS = 2_000;

/**
 * The table's entry for `supabase:` URLs: `supabase:` (project URL from
 * SUPABASE_URL), `supabase://PROJECT.supabase.co` or `supabase:https://HOST`;
 * the key always comes from `env`.
 */
export function storeFromUrl(url: string, env: Record<string, string | undefined>): SupabaseStore {
  return new SupabaseStore({ url: supabaseProjectUrl(url), env });
}

/** The project URL a `supabase:` store URL names, or undefined for "from SUPABASE_URL". */
export function supabaseProjectUrl(storeUrl: string): string | undefined {
  const rest = storeUrl.slice('supabase:'.length);
  if (rest === '') return undefined;
  if (rest.startsWith('//')) return `https:${rest}`;
  if (/^https?:\/\//i.test(rest)) return rest;
  throw new ScopeFsError(
    'EINVAL',
    `invalid supabase store URL ${JSON.stringify(redactSecrets(storeUrl))}: use supabase:, supabase://PROJECT.supabase.co or supabase:https://HOST`,
  );
}

export class SupabaseStore extends SqlFunctionStore {
  readonly url: string;
  private readonly client: SupabaseClient;
  private readonly realtime: boolean;
  private readonly pollIntervalMs: number;
  private readonly hints = new HintListeners();
  private readonly watches = new Map<string, SupabaseHeadWatch>();
  private opened = false;

  constructor(options: SupabaseStoreOptions = {}) {
    super();
    const env = options.env ?? process.env;
    const projectUrl = options.url ?? env.SUPABASE_URL;
    this.url = `supabase:${projectUrl === undefined ? 'client' : describeProject(projectUrl)}`;
    const webSocket = options.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    this.realtime = options.realtime ?? webSocket !== undefined;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.client = options.client ?? buildClient(projectUrl, options, env, webSocket);
  }

  /** Checks that the database has the scopefs schema this build needs. Idempotent. */
  async open(): Promise<void> {
    if (this.opened) return;
    await this.checkSchema();
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
    this.hints.clear();
    const watches = [...this.watches.values()];
    this.watches.clear();
    await Promise.all(watches.map((watch) => watch.stop()));
  }

  /** Whether the app's hints currently come from Realtime (false: head polling). */
  usingRealtime(app: string): boolean {
    return this.watches.get(app)?.usingRealtime ?? false;
  }

  async watch(app: string, listener: (hint: StoreHint) => void): Promise<() => Promise<void>> {
    checkName('app', app);
    this.requireOpen('watch');
    const head = await this.head(app);
    const remove = this.hints.add(app, listener);
    if (!this.watches.has(app)) this.startWatch(app, head);
    return async () => {
      remove();
      if (this.hints.apps().includes(app)) return;
      const watch = this.watches.get(app);
      this.watches.delete(app);
      await watch?.stop();
    };
  }

  /** Calls any scopefs RPC function (persistence/history calls its SQL functions through it). */
  callRpc(fn: string, args: Record<string, unknown>): Promise<unknown> {
    return this.callFunction(fn as SqlFunctionName, args as SqlArgs);
  }

  protected async callFunction(fn: SqlFunctionName, args: SqlArgs): Promise<unknown> {
    if (fn !== 'scopefs_schema_version') this.requireOpen(fn);
    let response;
    try {
      response = await this.client.rpc(fn, args);
    } catch (err) {
      throw new ScopeFsError('EIO', `store ${this.url}: ${fn} failed: ${errorMessage(err)}`, { cause: err });
    }
    const { data, error } = response;
    if (error) throw sqlError(error.code || undefined, error.message, this.url, error);
    return data;
  }

  private startWatch(app: string, initialHead: number): void {
    const watch = new SupabaseHeadWatch({
      app,
      initialHead,
      emit: (hint) => this.hints.emit(app, hint),
      readHead: () => this.head(app),
      realtime: this.realtime ? this.client : null,
      pollIntervalMs: this.pollIntervalMs,
    });
    this.watches.set(app, watch);
    watch.start();
  }

  private requireOpen(operation: string): void {
    if (!this.opened) throw new ScopeFsError('EIO', `supabase store ${this.url} is not open (${operation})`);
  }
}

function buildClient(
  projectUrl: string | undefined,
  options: SupabaseStoreOptions,
  env: Record<string, string | undefined>,
  webSocket: WebSocketConstructor | undefined,
): SupabaseClient {
  const key = options.key ?? KEY_VARIABLES.map((name) => env[name]).find(Boolean);
  if (!projectUrl || !key) {
    throw new ScopeFsError(
      'EINVAL',
      `supabase store needs a project URL and an API key: set SUPABASE_URL and SUPABASE_PUBLISHABLE_KEY ` +
        `(or SUPABASE_ANON_KEY / SUPABASE_SERVICE_ROLE_KEY), or pass them as options`,
    );
  }
  const token = options.accessToken ?? env.SCOPEFS_SUPABASE_ACCESS_TOKEN;
  return createClient(projectUrl, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    // supabase-js builds its Realtime client eagerly and throws without a
    // WebSocket (Node < 22); with Realtime off it is never used.
    realtime: { transport: (webSocket ?? NoWebSocket) as never },
    ...(options.fetch ? { global: { fetch: options.fetch } } : {}),
    ...(token === undefined ? {} : { accessToken: typeof token === 'string' ? async () => token : token }),
  });
}

class NoWebSocket {
  constructor() {
    throw new Error('no WebSocket implementation: pass the `webSocket` option (e.g. the ws package) for Realtime');
  }
}

/** The project URL without credentials or query, for `url`. */
function describeProject(projectUrl: string): string {
  try {
    return new URL(projectUrl).origin;
  } catch {
    throw new ScopeFsError('EINVAL', `SUPABASE_URL must be a URL like https://xyz.supabase.co`);
  }
}
