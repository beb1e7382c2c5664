import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';

/** A command used wrongly (exit code 2), as opposed to a command that failed (exit code 1). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Options every command that works on a scope accepts. */
export interface ScopeCliOptions {
  root: string;
  scope: string;
  store?: string;
  storeFile?: string;
  token?: string;
  json?: boolean;
}

const CLIENT_TOKEN_HELP = 'bearer token for the running serve (default: SCOPEFS_TOKEN, then its token file)';

export function addScopeOptions(command: Command, storeHelp: string, tokenHelp = CLIENT_TOKEN_HELP): Command {
  return command
    .option('--root <dir>', 'the workspace directory', './workspace')
    .option('--scope <key>', 'scope key: instances with the same scope and store sync together', 'default')
    .option('--store <url>', storeHelp)
    .option('--store-file <path>', 'read the store URL from this file (keeps its password off the command line; or set SCOPEFS_STORE)')
    .option('--token <token>', tokenHelp)
    .option('--json', 'machine-readable output');
}

/** A path inside the scope as a person types it: `notes/a.md` means `/notes/a.md` (paths resolve against `/`). */
export function scopePath(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

export function rootOf(options: Pick<ScopeCliOptions, 'root'>): string {
  return resolve(options.root);
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) throw new InvalidArgumentError('a port is a number from 0 to 65535');
  return port;
}

export function parseCount(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(count)) throw new InvalidArgumentError('expected a whole number');
  return count;
}
