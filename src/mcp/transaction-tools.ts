/**
 * Transaction tools for an MCP session: `begin_changes`, `commit_changes`
 * and `discard_changes` (docs/transactions.md, docs/mcp.md). A session holds
 * at most one transaction; while it is open every file tool of the session
 * (read, write, edit, list, search, memory) works inside it: the files as
 * they were at the start plus the session's own changes, which nobody else
 * sees until commit_changes applies them as one step. An open transaction is
 * aborted when the session ends, and after the scope's idle time unused.
 *
 * Only a server that lives as long as its session offers them
 * (McpServerInfo.sessionTransactions), like the lock tools; over stateless
 * HTTP a client names a transaction with the X-Scopefs-Transaction header.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ScopeFsError } from '../errors.js';
import type { Transaction, Transactions } from '../transactions/transactions.js';
import type { TransactionConflict, TransactionResult } from '../transactions/types.js';
import type { FileSystem } from '../types.js';
import { runTool } from './result.js';

export interface SessionTransactions {
  /** `fs`, or while the session's transaction is open, that transaction's. */
  fs: FileSystem;
  begin(options: { name?: string; onConflict?: 'fail' | 'copy' }): Promise<Transaction>;
  commit(): Promise<TransactionResult>;
  /** Aborts the open transaction; what it was, or undefined when none was open. */
  discard(): { name: string; paths: number; ended?: string } | undefined;
  /** The session ended: its transaction is aborted. */
  close(): void;
}

interface Current {
  transaction: Transaction;
  /** Set when it ended without this session ending it (idle, the scope stopping, the owner aborting it). */
  ended?: string;
  unsubscribe(): void;
}

/** The transaction state of one MCP session over `fs` and the caller's `transactions`. */
export function sessionTransactions(fs: FileSystem, transactions: Transactions): SessionTransactions {
  let current: Current | undefined;

  const release = (): Current | undefined => {
    const was = current;
    was?.unsubscribe();
    current = undefined;
    return was;
  };
  const overMessage = (was: Current) =>
    `the transaction ${was.transaction.name} of this session ended (${was.ended}): nothing of it was applied. ` +
    'begin_changes starts a new one (then redo the changes), or discard_changes goes back to working on the live files';
  const target = (): FileSystem => {
    if (!current) return fs;
    if (current.ended !== undefined) throw new ScopeFsError('EINVAL', overMessage(current));
    return current.transaction.fs;
  };
  // Every method but subscribe (which reads the live scope either way) acts on the target of the moment.
  const sessionFs = new Proxy(fs, {
    get(live, property) {
      if (property === 'subscribe') return live.subscribe.bind(live);
      // Only the filesystem's methods are redirected (nothing else, not even `then`, appears where there was none).
      if (typeof Reflect.get(live, property, live) !== 'function') return Reflect.get(live, property, live) as unknown;
      return (...args: unknown[]) => {
        try {
          const inside = target();
          return (Reflect.get(inside, property, inside) as (...a: unknown[]) => unknown).apply(inside, args);
        } catch (err) {
          return Promise.reject(err);
        }
      };
    },
  });

  return {
    fs: sessionFs,
    async begin(options) {
      if (current && current.ended === undefined) {
        throw new ScopeFsError(
          'EINVAL',
          `this session already has an open transaction (${current.transaction.name}, ${current.transaction.info().paths} changed path(s)); ` +
            'commit_changes or discard_changes it first',
        );
      }
      release();
      const transaction = await transactions.begin({ ...options, idle: true });
      const opened: Current = { transaction, unsubscribe: () => undefined };
      opened.unsubscribe = transactions.subscribe((event) => {
        if (event.id === transaction.id && event.type === 'transaction_aborted' && current === opened) opened.ended = event.reason;
      });
      current = opened;
      return transaction;
    },
    async commit() {
      if (!current) throw new ScopeFsError('EINVAL', 'no transaction is open in this session: begin_changes starts one (without one, each change applies at once)');
      if (current.ended !== undefined) {
        const message = overMessage(current);
        release();
        throw new ScopeFsError('EINVAL', message);
      }
      const { transaction } = current;
      // Whatever the outcome the transaction is over: committed, refused by conflicts, or aborted by a failure.
      release();
      return transaction.commit();
    },
    discard() {
      const was = release();
      if (!was) return undefined;
      const paths = was.transaction.info().paths;
      was.transaction.abort('discarded by its MCP session');
      return { name: was.transaction.name, paths, ...(was.ended === undefined ? {} : { ended: was.ended }) };
    },
    close() {
      release()?.transaction.abort('its MCP session ended');
    },
  };
}

export function registerTransactionTools(server: McpServer, session: SessionTransactions): void {
  server.registerTool(
    'begin_changes',
    {
      title: 'Begin a set of changes',
      description:
        'Starts a transaction for this session: until commit_changes or discard_changes, every file tool works on a ' +
        'private copy (the files as they are now plus your own changes; nobody else sees your changes, and changes ' +
        'made by others meanwhile are not shown). commit_changes then applies all of it at once, merged with what ' +
        'others changed meanwhile; discard_changes drops it. Use it for edits that must land together or not at all. ' +
        'One at a time per session; left unused for a while it is discarded.',
      inputSchema: {
        name: z.string().min(1).max(200).optional().describe('Names the changes in the history (default tx-<id>)'),
        on_conflict: z
          .enum(['fail', 'copy'])
          .optional()
          .describe('When a file you changed was changed by someone else in a way that does not merge: "fail" (default) commits nothing; "copy" commits the rest and keeps your version beside theirs as a conflict copy'),
      },
      annotations: { destructiveHint: false, idempotentHint: false },
    },
    ({ name, on_conflict }) =>
      runTool(async () => {
        const transaction = await session.begin({ ...(name === undefined ? {} : { name }), ...(on_conflict === undefined ? {} : { onConflict: on_conflict }) });
        return (
          `Began transaction ${transaction.name} (id ${transaction.id}). Your file changes are private until commit_changes ` +
          '(applies them all at once) or discard_changes (drops them).'
        );
      }),
  );

  server.registerTool(
    'commit_changes',
    {
      title: 'Commit the changes',
      description:
        'Applies every change made since begin_changes as one step, merged with what others changed meanwhile. ' +
        'When a file you changed was also changed by someone else in a way that does not merge, nothing is committed ' +
        '(unless begin_changes had on_conflict "copy") and the answer shows the conflicting versions so you can redo the edit. ' +
        'Either way the transaction is over; afterwards changes apply at once again.',
      inputSchema: {},
      annotations: { destructiveHint: true, idempotentHint: false },
    },
    () =>
      runTool(async () => {
        const result = await session.commit();
        if (!result.committed) throw new ScopeFsError('ECONFLICT', refusal(result));
        return committed(result);
      }),
  );

  server.registerTool(
    'discard_changes',
    {
      title: 'Discard the changes',
      description: 'Drops every change made since begin_changes: none of it is applied. Afterwards changes apply at once again.',
      inputSchema: {},
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    () =>
      runTool(async () => {
        const discarded = session.discard();
        if (!discarded) return 'No transaction was open; nothing to discard.';
        if (discarded.ended !== undefined) return `Transaction ${discarded.name} had already ended (${discarded.ended}); nothing of it was applied.`;
        return `Discarded transaction ${discarded.name}: none of its ${discarded.paths} changed path(s) were applied.`;
      }),
  );
}

function committed(result: TransactionResult): string[] {
  if (result.changes.length === 0 && result.conflicts.length === 0) return [`Committed transaction ${result.name}: it changed nothing.`];
  const lines = [`Committed transaction ${result.name}: ${result.changes.length} change(s) applied as one step${result.checkpoint ? ` (checkpoint ${result.checkpoint})` : ''}.`];
  for (const change of result.changes) {
    lines.push(`${change.path}: ${change.change}${change.merged ? ', merged with changes made meanwhile' : ''}${change.revision === undefined ? '' : ` (revision ${change.revision})`}`);
  }
  if (result.conflicts.length > 0) {
    lines.push(`${result.conflicts.length} path(s) conflicted; the live file was kept and your version saved beside it:`);
    for (const conflict of result.conflicts) lines.push(`${conflict.path}: ${conflict.why}; yours is at ${conflict.copyPath ?? '(a deletion, nothing to keep)'}`);
  }
  return [lines.join('\n')];
}

function refusal(result: TransactionResult): string {
  return [
    `nothing was committed: ${result.conflicts.length} path(s) you changed were changed by someone else meanwhile in ways that do not merge. ` +
      'The transaction is over: read_file each path again, then begin_changes and redo your edits.',
    ...result.conflicts.map(describeConflict),
  ].join('\n');
}

function describeConflict(conflict: TransactionConflict): string {
  const show = (text: string | null) => (text === null ? '(absent)' : JSON.stringify(text));
  return `- ${conflict.path}: ${conflict.why}\n  at the start: ${show(conflict.base)}\n  yours: ${show(conflict.ours)}\n  theirs (kept): ${show(conflict.theirs)}`;
}
