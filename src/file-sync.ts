/**
 * createFileSync: sync for apps that only want their content folder kept in
 * sync, configured from the environment:
 *
 *   FILE_SYNC_ENABLED         true | false (default false)
 *   FILE_SYNC_BACKEND         sqlite (default) | postgres | supabase
 *   DATABASE_URL              postgres: postgres://…; sqlite: an optional sqlite:PATH
 *   SUPABASE_URL              supabase, with one key (the first set wins):
 *   SUPABASE_PUBLISHABLE_KEY, SUPABASE_ANON_KEY, SUPABASE_SECRET_KEY, SUPABASE_SERVICE_ROLE_KEY
 *
 * It never throws for a bad configuration: it answers `disabled`, `error`
 * (with the reason) or `ready`.
 */
import { resolve } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import type { SyncStore } from '../persistence/stores/types.js';
import type { RunningScope } from '../supervisors/scope/scopes.js';
import { defaultStoreUrl } from './cli/store-url.js';
import { startScope } from './scope-api.js';
import { redactSecrets } from './redact.js';
import { errorMessage, ScopeFsError } from './errors.js';
import { sseHandlerFor, type FileSyncSseOptions, type SseRequestHandler } from './file-sync-sse.js';
import { subscribeScopeEvents, type ScopeEvent, type ScopeEventType } from './http/scope-events.js';
import type { ScopeKey } from './types.js';

export interface FileSyncOptions {
  /** The folder to keep in sync. */
  contentRoot: string;
  /** Where the settings are read from. Default: process.env. */
  env?: Record<string, string | undefined>;
  /** Default `file-sync:<absolute contentRoot>`. */
  scopeKey?: ScopeKey;
  /** Instances of the same app sync together. Default `default`. */
  app?: string;
  /** Owner of private files (privateSyncFilePatterns). */
  userId?: string;
  instanceId?: string;
  /** Replaces the global fetch for the supabase backend (tests, proxies). */
  fetch?: typeof fetch;
}

/** File and sync events by type (`file_updated`, `conflict`, ...), and all of them as `event`. */
export type FileSyncEventMap = { [K in ScopeEventType]: [Extract<ScopeEvent, { type: K }>] } & { event: [ScopeEvent] };
export type FileSyncEvents = EventEmitter<FileSyncEventMap>;

export type FileSyncResult =
  | { status: 'disabled' }
  | { status: 'error'; reason: string }
  | {
      status: 'ready';
      /** The running scope: `fileSync.fs` for files, `fileSync.sync` for status and conflicts. */
      fileSync: RunningScope;
      events: FileSyncEvents;
      /**
       * An SSE request handler for the app's server, streaming `events` plus
       * the app's own emitters, as agent-native's `createSSEHandler({ extraEmitters })`
       * does. To use agent-native's handler instead, pass `{ emitter: events, event: 'event' }`.
       */
      createSSEHandler: (options?: FileSyncSseOptions) => SseRequestHandler;
      /** Stops sync and flushes every pending write. Idempotent. */
      shutdown: () => Promise<void>;
    };

export type FileSyncBackend = 'sqlite' | 'postgres' | 'supabase';

export async function createFileSync(options: FileSyncOptions): Promise<FileSyncResult> {
  const env = options.env ?? process.env;
  try {
    if (!isEnabled(env.FILE_SYNC_ENABLED)) return { status: 'disabled' };
    if (typeof options.contentRoot !== 'string' || options.contentRoot === '') {
      throw new ScopeFsError('EINVAL', 'createFileSync needs a contentRoot directory');
    }
    const root = resolve(options.contentRoot);
    const store = await storeFor(backendOf(env.FILE_SYNC_BACKEND), env, root, options.fetch);
    const scope = await startScope({
      scopeKey: options.scopeKey ?? `file-sync:${root}`,
      root,
      sync: { store, app: options.app, userId: options.userId, instanceId: options.instanceId },
    });
    return ready(scope, store);
  } catch (err) {
    // An app may log or show the reason: a driver's message may quote the store URL.
    return { status: 'error', reason: redactSecrets(errorMessage(err)) };
  }
}

function ready(scope: RunningScope, store: string | SyncStore): FileSyncResult {
  const events: FileSyncEvents = new EventEmitter();
  const unsubscribe = subscribeScopeEvents(scope, (event) => {
    (events.emit as (type: string, event: ScopeEvent) => boolean)(event.type, event);
    events.emit('event', event);
  });
  let stopping: Promise<void> | undefined;
  const shutdown = () => {
    stopping ??= (async () => {
      unsubscribe();
      await scope.stop();
      // A store object is ours to close; a URL's store is closed by the sync actor.
      if (typeof store !== 'string') await store.close();
      events.removeAllListeners();
    })();
    return stopping;
  };
  const createSSEHandler = (sse: FileSyncSseOptions = {}) =>
    sseHandlerFor([{ emitter: events, event: 'event' }, ...(sse.extraEmitters ?? [])], sse.heartbeatMs);
  return { status: 'ready', fileSync: scope, events, createSSEHandler, shutdown };
}

function isEnabled(value: string | undefined): boolean {
  const normalized = (value ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(normalized)) return false;
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  throw new ScopeFsError('EINVAL', `FILE_SYNC_ENABLED must be true or false, not ${JSON.stringify(value)}`);
}

function backendOf(value: string | undefined): FileSyncBackend {
  const backend = (value ?? '').trim().toLowerCase() || 'sqlite';
  if (backend === 'sqlite' || backend === 'postgres' || backend === 'supabase') return backend;
  throw new ScopeFsError('EINVAL', `FILE_SYNC_BACKEND must be sqlite, postgres or supabase, not ${JSON.stringify(value)}`);
}

/** The Supabase keys createFileSync accepts, in the order the store picks them (supabase-store.ts). */
const SUPABASE_KEYS = ['SUPABASE_PUBLISHABLE_KEY', 'SUPABASE_ANON_KEY', 'SUPABASE_SECRET_KEY', 'SUPABASE_SERVICE_ROLE_KEY'] as const;

async function storeFor(
  backend: FileSyncBackend,
  env: Record<string, string | undefined>,
  root: string,
  fetchImpl: typeof fetch | undefined,
): Promise<string | SyncStore> {
  const databaseUrl = env.DATABASE_URL?.trim();
  switch (backend) {
    case 'sqlite':
      return databaseUrl?.startsWith('sqlite:') ? databaseUrl : defaultStoreUrl(root);
    case 'postgres':
      if (!databaseUrl || !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
        throw new ScopeFsError('EINVAL', 'FILE_SYNC_BACKEND=postgres needs DATABASE_URL=postgres://user:password@host:5432/db');
      }
      return databaseUrl;
    case 'supabase': {
      const url = env.SUPABASE_URL?.trim();
      const keyName = SUPABASE_KEYS.find((name) => env[name]?.trim());
      if (!url || !keyName) {
        throw new ScopeFsError(
          'EINVAL',
          'FILE_SYNC_BACKEND=supabase needs SUPABASE_URL and one key: SUPABASE_PUBLISHABLE_KEY (or SUPABASE_ANON_KEY, or on a server SUPABASE_SERVICE_ROLE_KEY)',
        );
      }
      const key = env[keyName]!.trim();
      // A store object, not a URL: it must read its settings from `env`, not process.env.
      const { SupabaseStore } = await import('../persistence/stores/supabase-store.js');
      return new SupabaseStore({ env, url, key, fetch: fetchImpl });
    }
  }
}
