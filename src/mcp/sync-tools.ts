import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ScopeFsError } from '../errors.js';
import type { ConflictResolution, SyncHandle } from '../sync/types.js';
import { runTool } from './result.js';

/** sync_status and resolve_conflict. */
export function registerSyncTools(server: McpServer, sync: SyncHandle | undefined): void {
  server.registerTool(
    'sync_status',
    {
      title: 'Sync status',
      description:
        'Shows whether the workspace is syncing, pending and failed paths, every unresolved conflict ' +
        'with the first 500 characters of both sides, and the paths a fail-stop rule holds ("held"), so you can help ' +
        'resolve them. Each conflict and held path names its conflict strategy and the rule that chose it.',
      inputSchema: {},
      annotations: { readOnlyHint: true },
    },
    () =>
      runTool(async () => {
        if (!sync) return 'Sync is not enabled for this workspace.';
        const [status, conflicts] = await Promise.all([sync.status(), sync.conflicts()]);
        return JSON.stringify({ ...status, conflicts }, null, 2);
      }),
  );

  server.registerTool(
    'resolve_conflict',
    {
      title: 'Resolve a sync conflict',
      description:
        'Resolves the conflict on a path, or a path held by a fail-stop rule. Choose exactly one: keep "local" ' +
        '(this copy), keep "remote" (the other instance\'s copy: for a conflict, the sync-conflict copy beside the ' +
        'file), or content (the merged text to keep). For a held path the side not kept is saved beside the file as ' +
        'a sync-resolved copy.',
      inputSchema: {
        path: z.string().describe('The conflicting file (not its sync-conflict copy)'),
        keep: z.enum(['local', 'remote']).optional().describe('Which side to keep'),
        content: z.string().optional().describe('The merged content to keep instead'),
      },
      annotations: { destructiveHint: true },
    },
    ({ path, keep, content }) =>
      runTool(async () => {
        if (!sync) throw new ScopeFsError('EINVAL', 'sync is not enabled for this workspace');
        await sync.resolveConflict(path, resolution(keep, content));
        return `Resolved the conflict on ${path}`;
      }),
  );
}

function resolution(keep: 'local' | 'remote' | undefined, content: string | undefined): ConflictResolution {
  if ((keep === undefined) === (content === undefined)) {
    throw new ScopeFsError('EINVAL', 'give exactly one of keep ("local" or "remote") and content');
  }
  return keep ?? { content: content! };
}
