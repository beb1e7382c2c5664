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
        'Shows whether the workspace is syncing, pending and failed paths, and every unresolved conflict ' +
        'with the first 500 characters of both sides, so you can help resolve it.',
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
        'Resolves the conflict on a path: keep "local" (this copy), keep "remote" (the other instance\'s copy, ' +
        'saved beside the file as a sync-conflict copy), or give the merged content. Exactly one of keep and content.',
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
