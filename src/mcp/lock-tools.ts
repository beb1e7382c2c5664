/**
 * Lock tools for an MCP session: `lock_file` and `unlock_file`. A session's
 * own writes, edits, moves and deletes of a path it locked present the lock
 * by themselves (the file tools get a filesystem that adds the token), so an
 * agent only locks and unlocks; everyone else gets ELOCKED meanwhile. Every
 * lock still held is released when the session ends (its server closes).
 *
 * Only a server that lives as long as its session offers them (stdio;
 * McpServerInfo.sessionLocks): a stateless server, made afresh for every
 * HTTP request, would release a lock as soon as it was taken.
 */
import { randomBytes } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { covers, lockTarget } from '../coordination/lock-rules.js';
import type { FileLocks, LockGrant } from '../coordination/locks.js';
import { ownedLocks, type OwnedLocks } from '../coordination/owned-locks.js';
import type { ChangeOptions, FileSystem } from '../types.js';
import { runWithHints } from './hints.js';

const DEFAULT_TTL_SECONDS = 120;

export interface SessionLocks {
  /** `fs`, with this session's lock tokens added to its changes of the paths it locked. */
  fs: FileSystem;
  locks: OwnedLocks;
  /** Releases every lock the session still holds. */
  release(): Promise<number>;
}

/** The locks of one MCP session, held as `mcp:<random id>`. */
export function sessionLocks(fs: FileSystem, locks: FileLocks): SessionLocks {
  const owned = ownedLocks(locks, `mcp:${randomBytes(4).toString('hex')}`);
  const held = new Map<string, LockGrant>();
  const session: OwnedLocks = {
    ...owned,
    lock: async (path, options) => {
      const grant = await owned.lock(path, options);
      held.set(grant.token, grant);
      return grant;
    },
    renew: async (token, options) => {
      const grant = await owned.renew(token, options);
      held.set(token, grant);
      return grant;
    },
    unlock: (token) => (held.delete(token), owned.unlock(token)),
    releaseAll: () => (held.clear(), owned.releaseAll()),
  };
  const tokenFor = (...paths: string[]): string | undefined => {
    const now = Date.now();
    for (const grant of held.values()) {
      if (grant.expiresAt > now && paths.some((path) => covers(grant.path, safeTarget(path)))) return grant.token;
    }
    return undefined;
  };
  const withToken = <O extends ChangeOptions | undefined>(options: O, ...paths: string[]): O =>
    (options?.lockToken !== undefined || held.size === 0 ? options : { ...options, lockToken: tokenFor(...paths) }) as O;
  const lockingFs = new Proxy(fs, {
    get(target, property, receiver) {
      switch (property) {
        case 'writeFile':
        case 'appendFile':
          return (path: string, content: never, options?: ChangeOptions) => target[property](path, content, withToken(options, path));
        case 'editFile':
          return (path: string, oldStr: string, newStr: string, options?: ChangeOptions) =>
            target.editFile(path, oldStr, newStr, withToken(options, path));
        case 'deleteFile':
          return (path: string, options?: ChangeOptions) => target.deleteFile(path, withToken(options, path));
        case 'moveFile':
          return (from: string, to: string, options?: ChangeOptions) => target.moveFile(from, to, withToken(options, from, to));
        default: {
          const value = Reflect.get(target, property, receiver) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        }
      }
    },
  });
  return { fs: lockingFs, locks: session, release: () => session.releaseAll() };
}

export function registerLockTools(server: McpServer, session: SessionLocks): void {
  server.registerTool(
    'lock_file',
    {
      title: 'Lock a file or directory',
      description:
        'Takes an exclusive lock on a file or a directory (everything under it) before a change that must not be ' +
        'interleaved with other agents, such as a read-modify-write. While you hold it, your own writes, edits, moves ' +
        'and deletes there just work; anyone else gets ELOCKED. It expires after ttl_seconds unless you lock again, and ' +
        'is released when this session ends. Release it with unlock_file as soon as you are done.',
      inputSchema: {
        path: z.string().describe('The file, or a directory to lock everything under it'),
        ttl_seconds: z.number().int().positive().max(86_400).optional().describe(`How long it lasts (default ${DEFAULT_TTL_SECONDS})`),
        wait_seconds: z.number().min(0).max(60).optional().describe('Wait up to this long for another holder to release it (default 0)'),
      },
      annotations: { destructiveHint: false, idempotentHint: false },
    },
    ({ path, ttl_seconds, wait_seconds }) =>
      runWithHints(async () => {
        const grant = await session.locks.lock(path, {
          ttlMs: (ttl_seconds ?? DEFAULT_TTL_SECONDS) * 1000,
          wait: (wait_seconds ?? 0) * 1000,
        });
        return [
          `Locked ${grant.path} until ${new Date(grant.expiresAt).toISOString()} (fence ${grant.fence}).`,
          `token: ${grant.token}`,
          'Pass this token to unlock_file when done.',
        ].join('\n');
      }),
  );

  server.registerTool(
    'unlock_file',
    {
      title: 'Release a lock',
      description: 'Releases a lock taken with lock_file, so others can change the path again.',
      inputSchema: { token: z.string().describe('The token lock_file answered') },
      annotations: { destructiveHint: false, idempotentHint: true },
    },
    ({ token }) =>
      runWithHints(async () =>
        (await session.locks.unlock(token))
          ? 'Released.'
          : 'That lock was no longer held (it expired or was released already); nothing to do.',
      ),
  );
}

/** A path as a lock target for matching; an invalid one matches nothing (the filesystem then refuses it). */
function safeTarget(path: string): string {
  try {
    return lockTarget(path);
  } catch {
    return '\u0000';
  }
}
