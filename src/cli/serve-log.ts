/** serve's logger: the level and format from its options, the scope on every line, request failures. */
import type { IncomingMessage } from 'node:http';
import { createLogger, type LogFormat, type Logger, type LogLevel } from '../log/logger.js';

/** Pretty for a person at a terminal, JSON records for everything else (a service manager, a pipe). */
export function serveLogger(level: LogLevel, format: LogFormat | undefined, scope: string): Logger {
  return createLogger({ level, format: format ?? (process.stderr.isTTY ? 'pretty' : 'json'), base: { scope } });
}

/** An unexpected (500) error of a request: the path without its query, which may hold a token. */
export function requestFailed(log: Logger, err: unknown, req: IncomingMessage): void {
  const path = (req.url ?? '/').split('?')[0];
  log.error({ event: 'request_failed', method: req.method, path, err }, `${req.method ?? 'request'} ${path} failed`);
}
