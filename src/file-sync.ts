/**
 * createFileSync: sync for apps that only want their content folder kept in
 * sync, configured from the environment:
 *
 *   FILE_SYNC_ENABLED         true | false (default false)
 *   FILE_SYNC_BACKEND         sqlite (default) | postgres | supabase
 *   DATABASE_URL              postgres: postgres://…; sqlite: an optional sqlite:PATH
 *   SUPABASE_URL, SUPABASE_PUBLISHABLE_KEY   supabase
 *
 * It never throws for a bad configuration: it answers `disabled`, `error`
 * (with the reason) or `ready`.
 */
import { resolve } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { storeFromUrl } from '../persistence/stores/store-schemes.js';
import type { SyncStore } from '../persistence/stores/types.js';
import type { RunningScope } from '../supervisors/scope/scopes.js';
import { defaultStoreUrl } from './cli/store-url.js';
import { startScope } from './scope-api.js';
import { redactSecrets } from './redact.js';
import { errorMessage, ScopeFsError } from './errors.js';
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
    const store = await storeFor(backendOf(env.FILE_SYNC_BACKEND), env, root);
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
  return { status: 'ready', fileSync: scope, events, shutdown };
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

async function storeFor(backend: FileSyncBackend, env: Record<string, string | undefined>, root: string): Promise<string | SyncStore> {
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
      const key = env.SUPABASE_PUBLISHABLE_KEY?.trim();
      if (!url || !key) {
        throw new ScopeFsError('EINVAL', 'FILE_SYNC_BACKEND=supabase needs SUPABASE_URL and SUPABASE_PUBLISHABLE_KEY');
      }
      // A store object, not a URL: it must read its settings from `env`, not process.env.
      return storeFromUrl('supabase:', { env: { ...env, SUPABASE_URL: url, SUPABASE_PUBLISHABLE_KEY: key } });
    }
  }
}
