/**
 * `scopefs lock <path>`, `scopefs unlock <token>`, `scopefs locks`: the locks
 * of the running serve for the root (docs/coordination.md#locks). A lock
 * lives in the scope's process, so there is no direct mode: a CLI process
 * that opened the scope itself would release it as it exits.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { LockGrant, LockInfo } from '../../coordination/locks.js';
import { scopePath } from '../options.js';
import { callServe as callServeAt } from '../serve-call.js';
import { columns, Output } from '../output.js';

interface LockCliOptions {
  root: string;
  token?: string;
  json?: boolean;
  ttl?: number;
  wait?: number;
  owner?: string;
}

export function lockCommands(): Command[] {
  const lock = withServeOptions(new Command('lock'))
    .description('lock a file or a directory (everything under it) on the running serve; prints the token')
    .argument('<path>', 'file or directory, e.g. /docs or docs/a.md')
    .option('--ttl <ms>', 'how long the lock lasts unless renewed (ms)', milliseconds, 60_000)
    .option('--wait <ms>', 'wait up to this long for another holder (ms, at most 30000)', milliseconds, 0)
    .option('--owner <name>', 'who holds it, shown to others (default: the token\'s name)')
    .action(async (path: string, options: LockCliOptions) => {
      const body = { path: scopePath(path), ttlMs: options.ttl, wait: options.wait, ...(options.owner ? { owner: options.owner } : {}) };
      const grant = await callServe<LockGrant>(options, 'POST', '/v1/locks', body);
      new Output(options.json === true).result(grant, () => [
        grant.token,
        `locked ${grant.path} as ${grant.owner} until ${new Date(grant.expiresAt).toISOString()} (fence ${grant.fence}); unlock with: scopefs unlock ${grant.token}`,
      ]);
    });
  const unlock = withServeOptions(new Command('unlock'))
    .description('release a lock taken with scopefs lock (or POST /v1/locks)')
    .argument('<token>', 'the token scopefs lock printed')
    .action(async (token: string, options: LockCliOptions) => {
      const answer = await callServe<{ released: boolean }>(options, 'DELETE', `/v1/locks/${encodeURIComponent(token)}`);
      new Output(options.json === true).result(answer, () => (answer.released ? 'released' : 'that lock was no longer held (expired or released)'));
    });
  const list = withServeOptions(new Command('locks'))
    .description('list the live locks of the running serve')
    .action(async (options: LockCliOptions) => {
      const { locks } = await callServe<{ locks: LockInfo[] }>(options, 'GET', '/v1/locks');
      new Output(options.json === true).result(locks, () =>
        locks.length === 0 ? 'no locks' : columns(locks.map((l) => [l.path, l.owner, `fence ${l.fence}`, `until ${new Date(l.expiresAt).toISOString()}`])),
      );
    });
  return [lock, unlock, list];
}

function withServeOptions(command: Command): Command {
  return command
    .option('--root <dir>', 'the workspace directory of the running serve', './workspace')
    .option('--token <token>', 'bearer token for the running serve (default: SCOPEFS_TOKEN, then its token file)')
    .option('--json', 'machine-readable output');
}

function callServe<T>(options: LockCliOptions, method: string, path: string, body?: unknown): Promise<T> {
  return callServeAt<T>(options, method, path, body, 'locks live in a running scope');
}

function milliseconds(value: string): number {
  const ms = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(ms)) throw new InvalidArgumentError('a whole number of milliseconds, e.g. 30000');
  return ms;
}
