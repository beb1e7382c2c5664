/**
 * serve's structured logger (pino): a level and a format (`json`, one record
 * per line, or `pretty`, for people). The library never logs by itself; what
 * it reports reaches a logger only through `attachScopeLogger` (scope-log.ts).
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import { ScopeFsError } from '../errors.js';
import { prettyDestination } from './pretty.js';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  /** Default `info`. */
  level?: LogLevel;
  /** Default `json`. */
  format?: LogFormat;
  /** Where records go. Default: stderr, written synchronously so the last lines before a crash are not lost. */
  stream?: { write(text: string): unknown };
  /** Fields on every record (the scope, say). */
  base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!LOG_LEVELS.includes(level)) {
    throw new ScopeFsError('EINVAL', `unknown log level "${String(level)}"; use one of ${LOG_LEVELS.join(', ')}`);
  }
  const format = options.format ?? 'json';
  if (!LOG_FORMATS.includes(format)) {
    throw new ScopeFsError('EINVAL', `unknown log format "${String(format)}"; use json or pretty`);
  }
  const target = options.stream ?? pino.destination({ dest: 2, sync: true });
  const destination = (format === 'pretty' ? prettyDestination(target) : target) as DestinationStream;
  return pino(
    {
      level,
      base: options.base ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not pino's numbers: `"level":"warn"` reads and greps better.
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
