/**
 * `scopefs serve --data <dir>`: many scopes on one port, each on
 * `<dir>/<encoded key>/`, started by the first request for it and stopped
 * when idle (docs/multi-scope.md). Each scope syncs as its own app (its
 * canonical key) through the one store.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { errorMessage } from '../../errors.js';
import { loadOrCreateToken, type AuthConfig } from '../../http/auth.js';
import type { JwtConfig } from '../../http/tenant-auth.js';
import { tokensFilePath } from '../../http/tokens-store.js';
import { makePrivateDir } from '../../private-files.js';
import type { Logger } from '../../log/logger.js';
import { findServe, publishServeInfo, removeServeInfo, tokenFilePath } from '../discovery.js';
import { Output, columns } from '../output.js';
import { nextSignal } from '../signals.js';
import { requestFailed } from '../serve-log.js';
import { givenStoreUrl } from '../store-source.js';
import { checkStoreUrl } from '../store-url.js';
import { packageVersion } from '../version.js';
import { UsageError, type ScopeCliOptions } from '../options.js';

export interface ServeDataOptions extends ScopeCliOptions {
  data: string;
  host: string;
  port: number;
  auth: boolean;
  sync: boolean;
  user?: string;
  maxBody?: number;
  maxEventStreams?: number;
  maxEventBuffer?: number;
  debounceMs?: number;
  idleMs?: number;
  maxActive?: number;
  ephemeralDisk?: boolean;
  jwks?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
}

export async function serveData(options: ServeDataOptions, log: Logger): Promise<void> {
  const dataDir = resolve(options.data);
  const output = new Output(options.json === true);
  const running = await findServe(dataDir);
  if (running) throw new Error(`a serve (pid ${running.pid}) is already running for ${dataDir} at ${running.url}`);
  await mkdir(dataDir, { recursive: true });
  makePrivateDir(join(dataDir, '.scopefs'));
  const given = await givenStoreUrl(options);
  const store = options.sync ? checkStoreUrl(given ?? `sqlite:${join(dataDir, '.scopefs', 'store.db')}`) : undefined;
  if (options.ephemeralDisk && store === undefined) throw new UsageError('--ephemeral-disk needs sync: a scope\'s files must be in the store before its local copy goes');
  const { auth, tokenFile } = await resolveDataAuth(options, dataDir);
  const { startTenantServer } = await import('../../http/tenant-server.js');
  const http = await startTenantServer({
    host: options.host,
    port: options.port,
    auth,
    jwt: await jwtConfig(options),
    version: packageVersion(),
    maxBodyBytes: options.maxBody,
    maxEventStreams: options.maxEventStreams,
    maxEventBufferBytes: options.maxEventBuffer,
    onError: (err, req) => requestFailed(log, err, req),
    pool: {
      dataDir,
      idleMs: options.idleMs,
      maxActive: options.maxActive,
      ephemeralDisk: options.ephemeralDisk,
      scopeOptions: (key) => ({
        debounceMs: options.debounceMs,
        sync: store === undefined ? undefined : { store, app: key, userId: options.user },
      }),
    },
  });
  http.pool.on('scope_recovering', ({ key }) => log.info({ event: 'scope_recovering', scopeKey: key }, `scope ${key} was running when the last serve died: starting it to push what it acknowledged`));
  http.pool.on('scope_recovery_failed', ({ key, error }) =>
    log.warn({ event: 'scope_recovery_failed', scopeKey: key, error: errorMessage(error) }, `scope ${key} could not be started again: ${errorMessage(error)}; its changes are pushed when it is next used`),
  );
  http.pool.on('scope_started', ({ key }) => log.info({ event: 'scope_started', scopeKey: key }, `scope ${key} started`));
  http.pool.on('scope_stopped', ({ key, localCopyRemoved }) =>
    log.info({ event: 'scope_stopped', scopeKey: key, localCopyRemoved }, `scope ${key} stopped${localCopyRemoved ? ' (local copy removed)' : ''}`),
  );
  const info = await publishServeInfo({ url: http.url, root: dataDir, store, auth: auth.mode === 'token', tokenFile });
  log.info({ event: 'listening', url: http.url }, `listening on ${http.url}`);
  output.result({ event: 'listening', ...info, data: dataDir, host: http.host, port: http.port, scopes: `${http.url}/v1/scopes` }, () => [
    `scopefs serving the scopes of ${dataDir}`,
    ...columns([
      ['  scopes', `${info.url}/v1/scopes`],
      ['  a scope', `${info.url}/v1/scopes/<key>/v1/files, .../v1/events, .../mcp`],
      ['  store', info.store ?? 'none (sync off)'],
      ['  token', info.tokenFile ?? (info.auth ? 'given' : 'none (--no-auth)')],
    ]),
    'Press Ctrl-C to stop.',
  ]);
  const signal = await nextSignal();
  output.note(`${signal}: stopping (flushing and pushing every scope)`);
  await http.close();
  await removeServeInfo(dataDir);
  output.result({ event: 'stopped', signal }, () => 'stopped');
}

/** The owner token as for one root (--token, SCOPEFS_TOKEN, or generated), and the data dir's named tokens. */
async function resolveDataAuth(options: ServeDataOptions, dataDir: string): Promise<{ auth: AuthConfig; tokenFile: string | null }> {
  if (!options.auth) return { auth: { mode: 'none' }, tokenFile: null };
  const tokensFile = tokensFilePath(dataDir);
  const given = options.token ?? process.env.SCOPEFS_TOKEN;
  if (given) return { auth: { mode: 'token', token: given, tokensFile }, tokenFile: null };
  const tokenFile = tokenFilePath(dataDir);
  return { auth: { mode: 'token', token: await loadOrCreateToken(tokenFile), tokensFile }, tokenFile };
}

/** JWTs: SCOPEFS_JWT_SECRET (HS256; kept out of argv) or --jwks FILE. */
async function jwtConfig(options: ServeDataOptions): Promise<JwtConfig | undefined> {
  const secret = process.env.SCOPEFS_JWT_SECRET;
  if (secret === undefined && options.jwks === undefined) return undefined;
  if (secret !== undefined && options.jwks !== undefined) throw new UsageError('give SCOPEFS_JWT_SECRET or --jwks, not both');
  if (options.jwks !== undefined) await readFile(options.jwks); // a missing file fails here, with its path
  return { secret, jwksFile: options.jwks, issuer: options.jwtIssuer, audience: options.jwtAudience };
}
