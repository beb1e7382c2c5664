import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { parseAuditQuery } from '../../audit/audit-query.js';
import type { AuditEntry, AuditQuery } from '../../audit/types.js';
import { ScopeFsError, type ErrorCode } from '../../errors.js';
import { clientToken } from '../connect.js';
import { findServe } from '../discovery.js';
import { rootOf, type ScopeCliOptions } from '../options.js';
import { columns, Output } from '../output.js';

interface AuditCliOptions extends ScopeCliOptions {
  path?: string;
  actor?: string;
  since?: string;
  limit?: string;
}

/** `scopefs audit`: who changed what and what was refused, newest first (from the running serve, else the root's log). */
export function auditCommand(): Command {
  return new Command('audit')
    .option('--root <dir>', 'the workspace directory', './workspace')
    .option('--scope <key>', 'scope key (when no serve is running)', 'default')
    .option('--token <token>', 'bearer token for the running serve (default: SCOPEFS_TOKEN, then its token file)')
    .option('--json', 'machine-readable output')
    .description('show the audit log: changes and refused requests, newest first')
    .option('--path <path>', 'only entries naming this file, or a directory and what is under it')
    .option('--actor <actor>', 'only entries of this actor (owner, token:<name>, agent:<id>, disk, sync, ...)')
    .option('--since <when>', 'only entries at or after this time (ISO date, or ms since the epoch)')
    .option('--limit <n>', 'at most this many entries (default 100, at most 10000)')
    .action(async (options: AuditCliOptions) => {
      const query = parseAuditQuery(options);
      const entries = await readAudit(options, query);
      new Output(options.json === true).result(entries, () => describeEntries(entries));
    });
}

async function readAudit(options: AuditCliOptions, query: AuditQuery): Promise<AuditEntry[]> {
  const root = rootOf(options);
  const serve = await findServe(root);
  if (serve) return fromServe(serve.url, await clientToken(options, serve), query);
  if (!existsSync(root)) throw new ScopeFsError('ENOENT', `no workspace at ${root} (pass --root)`);
  // Loaded only here: the scope runtime is not needed to talk to a serve.
  const { startScope } = await import('../../../supervisors/scope/scopes.js');
  const scope = await startScope({ scopeKey: options.scope, root });
  try {
    return await scope.audit!(query);
  } finally {
    await scope.stop();
  }
}

async function fromServe(url: string, token: string | undefined, query: AuditQuery): Promise<AuditEntry[]> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  let response: Response;
  try {
    response = await fetch(`${url}/v1/audit?${params.toString()}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch (err) {
    throw new ScopeFsError('EIO', `the serve at ${url} did not answer`, { cause: err });
  }
  const body = (await response.json().catch(() => undefined)) as { entries?: AuditEntry[]; error?: { code?: string; message?: string } } | undefined;
  if (response.ok && body?.entries) return body.entries;
  if (response.status === 401) throw new ScopeFsError('EINVAL', `the serve at ${url} refused the token; pass --token or set SCOPEFS_TOKEN`);
  const code = (body?.error?.code ?? 'EIO') as ErrorCode;
  throw new ScopeFsError(code, body?.error?.message ?? `the serve at ${url} answered ${response.status}`);
}

function describeEntries(entries: AuditEntry[]): string[] {
  if (entries.length === 0) return ['no audit entries'];
  return columns(
    entries.map((e) => [
      new Date(e.at).toISOString(),
      e.actor,
      e.operation,
      e.result === 'ok' ? `ok${e.revision === undefined ? '' : ` r${e.revision}`}` : `refused ${e.code ?? ''}`.trim(),
      e.paths.join(' -> '),
    ]),
  );
}
