/**
 * One JSON request to the running serve of a root (found by discovery.ts),
 * for commands that act on the live scope (locks, the tail): the token as
 * the CLI finds it, the serve's typed error back as a ScopeFsError.
 */
import type { Command } from 'commander';
import { ScopeFsError, type ErrorCode } from '../errors.js';
import { clientToken } from './connect.js';
import { findServe } from './discovery.js';
import { rootOf } from './options.js';

export interface ServeCallOptions {
  root: string;
  token?: string;
}

/** `why`: the end of the message when no serve runs (what lives there and why the command needs it). */
export async function callServe<T>(options: ServeCallOptions, method: string, path: string, body: unknown, why: string): Promise<T> {
  const root = rootOf(options);
  const serve = await findServe(root);
  if (!serve) {
    throw new ScopeFsError('EINVAL', `no serve is running for ${root}: ${why}; start \`scopefs serve --root ${options.root}\` first`);
  }
  const token = await clientToken({ root: options.root, scope: 'default', token: options.token }, serve);
  const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  let response: Response;
  try {
    response = await fetch(`${serve.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ScopeFsError('EIO', `the serve at ${serve.url} did not answer`, { cause: err });
  }
  const answer = (await response.json().catch(() => undefined)) as (T & { error?: { code?: string; message?: string } }) | undefined;
  if (response.ok && answer) return answer;
  if (response.status === 401) throw new ScopeFsError('EINVAL', `the serve at ${serve.url} refused the token; pass --token or set SCOPEFS_TOKEN`);
  const code = (answer?.error?.code ?? 'EIO') as ErrorCode;
  throw new ScopeFsError(code, (answer?.error?.message ?? `the serve at ${serve.url} answered ${response.status}`).replace(`${code}: `, ''));
}

/** The options of a command that calls the running serve: --root, --token, --json. */
export function withServeOptions(command: Command): Command {
  return command
    .option('--root <dir>', 'the workspace directory of the running serve', './workspace')
    .option('--token <token>', 'bearer token for the running serve (default: SCOPEFS_TOKEN, then its token file)')
    .option('--json', 'machine-readable output');
}
