import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { RunningScope } from '../../../supervisors/scope/scopes.js';
import { isLoopbackHost, loadOrCreateToken, type AuthConfig } from '../../http/auth.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../../http/defaults.js';
import type { HttpServerHandle } from '../../http/server.js';
import { findServe, publishServeInfo, removeServeInfo, tokenFilePath, type ServeInfo } from '../discovery.js';
import { addScopeOptions, parseCount, parsePort, rootOf, UsageError, type ScopeCliOptions } from '../options.js';
import { Output, columns } from '../output.js';
import { showSyncProgress, wantsProgress } from '../progress.js';
import { followStartBackfill } from '../tail-progress.js';
import { nextSignal } from '../signals.js';
import { redactSecrets } from '../../redact.js';
import { givenStoreUrl } from '../store-source.js';
import { checkStoreUrl, defaultStoreUrl } from '../store-url.js';
import { packageVersion } from '../version.js';
import { makePrivateDir } from '../../private-files.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger, type LogLevel } from '../../log/logger.js';
import { serveLogger, requestFailed } from '../serve-log.js';

interface ServeOptions extends ScopeCliOptions {
  host: string;
  port: number;
  auth: boolean;
  sync: boolean;
  instance?: string;
  user?: string;
  maxBody?: number;
  maxEventStreams?: number;
  maxEventBuffer?: number;
  debounceMs?: number;
  logLevel: LogLevel;
  logFormat?: LogFormat;
  tail: string[];
  webhookAllow: string[];
  webhookDenyLoopback?: boolean;
  /** Multi-scope mode (serve-data.ts) and its options. */
  data?: string;
  idleMs?: number;
  maxActive?: number;
  ephemeralDisk?: boolean;
  jwks?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
}

/** `scopefs serve`: the supervised scope on a root, served over HTTP (files, events, status, MCP). */
export function serveCommand(): Command {
  return addScopeOptions(
    new Command('serve'),
    'store to sync with (default: sqlite:<root>/../.scopefs/store.db)',
    'bearer token to require (default: SCOPEFS_TOKEN, else one generated into <root>/.scopefs/token)',
  )
    .description('serve a workspace over HTTP and MCP, synced through a store')
    .option('--host <host>', 'address to listen on; beyond loopback a token is always required', DEFAULT_HOST)
    .option('--port <port>', 'port to listen on (0: any free port)', parsePort, DEFAULT_PORT)
    .option('--no-auth', 'accept requests without a token (loopback only)')
    .option('--no-sync', 'serve the files without syncing them')
    .option('--instance <id>', 'this instance\'s id in the store (default: generated once per root)')
    .option('--user <id>', 'owner id for privateSyncFilePatterns')
    .option('--max-body <bytes>', 'largest request body (default 64 MiB)', parseCount)
    .option('--max-event-streams <n>', 'event streams (SSE) open at once; more get 503 (default 512)', parseCount)
    .option('--max-event-buffer <bytes>', 'bytes waiting to be sent, summed over every event stream; over it the slowest are closed (default 32 MiB)', parseCount)
    .option('--debounce-ms <ms>', 'how long an updated file may wait before it is written to disk (default 500)', parseCount)
    .option('--tail <glob>', 'tail JSONL files into records (repeatable): a glob in the workspace, or an absolute or ~/ one outside it (read-only); see docs/tail.md', (glob: string, globs: string[]) => [...globs, glob], [] as string[])
    .option('--webhook-allow <url-or-host>', 'webhooks may only target URLs starting with this prefix or naming this host (repeatable; default: any but this server); see docs/webhooks.md', (allowed: string, list: string[]) => [...list, allowed], [] as string[])
    .option('--webhook-deny-loopback', 'refuse webhooks to loopback addresses')
    .option('--data <dir>', 'serve many scopes, each on <dir>/<encoded key>/, under /v1/scopes/<key>/ (docs/multi-scope.md)')
    .option('--idle-ms <ms>', 'with --data: stop a scope unused for this long (default 600000)', parseCount)
    .option('--max-active <n>', 'with --data: scopes running at once; the least recently used idle one makes room (default 1000)', parseCount)
    .option('--ephemeral-disk', 'with --data: remove a stopped scope\'s local copy once the store has every change')
    .option('--jwks <file>', 'with --data: accept JWTs signed by these public keys (or set SCOPEFS_JWT_SECRET for HS256)')
    .option('--jwt-issuer <iss>', 'with --data: the iss a JWT must have')
    .option('--jwt-audience <aud>', 'with --data: the aud a JWT must have')
    .addOption(new Option('--log-level <level>', 'least severe log lines written to stderr').choices(LOG_LEVELS).default('info'))
    .addOption(new Option('--log-format <format>', 'log lines as JSON records or for people (default: pretty on a terminal, else json)').choices(LOG_FORMATS))
    .action((options: ServeOptions) => serve(options));
}

async function serve(options: ServeOptions): Promise<void> {
  if (!options.auth && !isLoopbackHost(options.host)) {
    throw new UsageError(`--no-auth is only allowed on loopback; ${options.host} needs a token`);
  }
  if (options.data !== undefined) {
    const { serveData } = await import('./serve-data.js');
    return serveData({ ...options, data: options.data }, serveLogger(options.logLevel, options.logFormat, 'scopes'));
  }
  const root = rootOf(options);
  const output = new Output(options.json === true);
  const running = await findServe(root);
  if (running) throw new Error(`a serve (pid ${running.pid}) is already running for ${root} at ${running.url}`);
  await mkdir(root, { recursive: true });
  makePrivateDir(join(root, '.scopefs'));
  const log = serveLogger(options.logLevel, options.logFormat, options.scope);
  const { scope, http, info, detachLog } = await startServing(options, root, log);
  announce(output, info, http, options);
  const progress = wantsProgress(options.json) ? followInitialSync(scope) : undefined;
  const tailProgress = wantsProgress(options.json) ? followStartBackfill(scope, progress?.done) : undefined;
  const signal = await nextSignal();
  progress?.stop();
  tailProgress?.stop();
  output.note(`${signal}: stopping (flushing every pending write)`);
  log.info({ event: 'scope_stopping', signal }, `${signal}: stopping the scope (flushing every pending write)`);
  await http.close();
  await scope.stop();
  detachLog();
  log.info({ event: 'scope_stopped', signal }, 'scope stopped');
  await removeServeInfo(root);
  output.result({ event: 'stopped', signal }, () => 'stopped');
}

/** Starts the scope, then the HTTP server on it, and records serve.json for the other commands. */
async function startServing(
  options: ServeOptions,
  root: string,
  log: Logger,
): Promise<{ scope: RunningScope; http: HttpServerHandle; info: ServeInfo; detachLog: () => void }> {
  const given = await givenStoreUrl(options);
  const store = options.sync ? checkStoreUrl(given ?? defaultStoreUrl(root)) : undefined;
  const { auth, tokenFile } = await resolveAuth(options, root);
  // Loaded here rather than at start: the other commands do not need them.
  const [{ startScope }, { startHttpServer }] = await Promise.all([
    import('../../../supervisors/scope/scopes.js'),
    import('../../http/server.js'),
  ]);
  const { attachScopeLogger, lineForRequest, writeLine } = await import('../../log/scope-log.js');
  const scope = await startScope({
    scopeKey: options.scope,
    root,
    debounceMs: options.debounceMs,
    ...(options.tail.length > 0 ? { tail: options.tail.map((glob) => ({ glob })) } : {}),
    webhooks: {
      ...(options.webhookAllow.length > 0 ? { allow: options.webhookAllow } : {}),
      ...(options.webhookDenyLoopback ? { denyLoopback: true } : {}),
      onError: (message: string) => log.warn({ event: 'webhook_error' }, redactSecrets(message)),
    },
    sync: store === undefined ? undefined : { store, app: options.scope, instanceId: options.instance, userId: options.user },
  });
  const detachLog = attachScopeLogger(scope, log);
  log.info(
    { event: 'scope_started', root, store: store === undefined ? null : redactSecrets(store), sync: store !== undefined },
    `scope started on ${root}`,
  );
  let http: HttpServerHandle;
  try {
    http = await startHttpServer({
      scope,
      auth,
      host: options.host,
      port: options.port,
      version: packageVersion(),
      maxBodyBytes: options.maxBody,
      maxEventStreams: options.maxEventStreams,
      maxEventBufferBytes: options.maxEventBuffer,
      onError: (err, req) => requestFailed(log, err, req),
      // Request lines are debug: not even built unless that level is on.
      onRequest: log.isLevelEnabled('debug') ? (request) => writeLine(log, lineForRequest(request)) : undefined,
    });
  } catch (err) {
    await scope.stop();
    detachLog();
    throw err;
  }
  const info = await publishServeInfo({ url: http.url, root, store, auth: auth.mode === 'token', tokenFile });
  log.info({ event: 'listening', url: http.url }, `listening on ${http.url}`);
  return { scope, http, info, detachLog };
}

/** --token, then SCOPEFS_TOKEN, then the token file (generated on first start), or none with --no-auth. */
async function resolveAuth(options: ServeOptions, root: string): Promise<{ auth: AuthConfig; tokenFile: string | null }> {
  if (!options.auth) return { auth: { mode: 'none' }, tokenFile: null };
  const given = options.token ?? process.env.SCOPEFS_TOKEN;
  if (given) return { auth: { mode: 'token', token: given }, tokenFile: null };
  const tokenFile = tokenFilePath(root);
  return { auth: { mode: 'token', token: await loadOrCreateToken(tokenFile) }, tokenFile };
}

function announce(output: Output, info: ServeInfo, http: HttpServerHandle, options: ServeOptions): void {
  const token = info.tokenFile ?? (info.auth ? (options.token ? 'from --token' : 'from SCOPEFS_TOKEN') : 'none (--no-auth)');
  output.result({ event: 'listening', ...info, host: http.host, port: http.port, mcp: `${http.url}/mcp` }, () => [
    `scopefs serving ${info.root}`,
    ...columns([
      ['  url', info.url],
      ['  mcp', `${info.url}/mcp`],
      ['  events', `${info.url}/v1/events`],
      ['  store', info.store ?? 'none (sync off)'],
      ['  token', token],
    ]),
    'Press Ctrl-C to stop.',
  ]);
}

/** The initial sync's progress bar; it stops itself once sync is idle. */
function followInitialSync(scope: RunningScope): { stop(): void; done: Promise<void> } | undefined {
  if (!scope.sync) return undefined;
  const bar = showSyncProgress(scope.sync);
  let stopped = false;
  const stop = () => {
    if (!stopped) bar.stop();
    stopped = true;
  };
  const done = scope.sync.idle({ timeoutMs: 10 * 60_000 }).then(stop, stop);
  return { stop, done };
}
