import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ScopeHandle } from '../types.js';
import { registerFileTools } from './file-tools.js';
import { registerHistoryTools } from './history-tools.js';
import { registerLockTools, sessionLocks } from './lock-tools.js';
import { registerMemoryTool } from './memory-tool.js';
import { registerRecordTools } from './record-tools.js';
import { registerSearchTools } from './search-tools.js';
import { registerSyncTools } from './sync-tools.js';
import { registerTransactionTools, sessionTransactions } from './transaction-tools.js';
import { registerForGrant } from './tool-grants.js';
import type { Grant } from '../http/tokens-grant.js';

export interface McpServerInfo {
  name?: string;
  version: string;
  /** A limited caller's grant: tools it cannot use are not listed (pass a scope facade that enforces it too). */
  grant?: Grant;
  /**
   * Offer lock_file/unlock_file (lock-tools.ts): for a server that lives as long as its session (stdio), whose
   * locks are released when it closes. Not for stateless HTTP, whose server ends with each request.
   */
  sessionLocks?: boolean;
  /**
   * Offer begin_changes/commit_changes/discard_changes (transaction-tools.ts): the session holds at most one
   * transaction, its file tools act inside it, and it is aborted when the session closes. Like sessionLocks,
   * only for a server that lives as long as its session.
   */
  sessionTransactions?: boolean;
}

/** An MCP server exposing a scope's files to an agent; the same tools over stdio and Streamable HTTP. */
export function createMcpServer(
  scope: Pick<ScopeHandle, 'fs' | 'sync' | 'locks' | 'records' | 'tail' | 'transactions'>,
  info: McpServerInfo,
): McpServer {
  const server = new McpServer(
    { name: info.name ?? 'scopefs', version: info.version },
    {
      instructions:
        'Files of a workspace that is saved to disk and synced with other instances. Paths are absolute ' +
        '(/notes/todo.md). Use read_file before editing; edit_file replaces an exact string. ' +
        'The memory tool keeps notes under /memories across conversations.',
    },
  );
  // A session's locks (lock-tools.ts): its own changes present them; they are released when it ends.
  const locks = scope.locks && info.sessionLocks ? sessionLocks(scope.fs, scope.locks) : undefined;
  // Its transaction (transaction-tools.ts): while one is open, every file tool below acts inside it.
  const transactions = scope.transactions && info.sessionTransactions ? sessionTransactions(locks?.fs ?? scope.fs, scope.transactions) : undefined;
  const fs = transactions?.fs ?? locks?.fs ?? scope.fs;
  if (locks || transactions) {
    const closed = server.server.onclose;
    server.server.onclose = () => {
      transactions?.close();
      if (locks) void locks.release();
      closed?.();
    };
  }
  registerForGrant(server, info.grant, () => {
    registerFileTools(server, fs);
    if (locks) registerLockTools(server, locks);
    if (transactions) registerTransactionTools(server, transactions);
    registerSearchTools(server, fs);
    registerHistoryTools(server, fs);
    registerSyncTools(server, scope.sync);
    registerMemoryTool(server, fs);
    registerRecordTools(server, scope.records, scope.tail);
  });
  return server;
}
