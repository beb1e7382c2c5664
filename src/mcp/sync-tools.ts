import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { ScopeFsError } from '../errors.js';
import type { ConflictResolution, SyncHandle, SyncStatus } from '../sync/types.js';
import { runControl, type SyncControl } from '../http/routes/sync.js';
import { runTool } from './result.js';

/** sync_status, resolve_conflict and the controls (sync_pause, sync_resume, sync_confirm, sync_resync). */
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
  registerSyncControls(server, sync);
}

const CONTROLS: Array<{ control: SyncControl; title: string; description: string; destructive: boolean }> = [
  {
    control: 'pause',
    title: 'Pause sync',
    description: 'Stops syncing (local edits keep working and are pushed once resumed). sync_resume starts it again.',
    destructive: false,
  },
  {
    control: 'resume',
    title: 'Resume sync',
    description: 'Starts a paused sync again. A pass the safety gate held stays held: that needs sync_confirm.',
    destructive: false,
  },
  {
    control: 'confirm',
    title: 'Confirm what the safety gate held',
    description:
      'When sync_status shows sync paused by the safety gate (a pass that would delete many synced files), ' +
      'lets that pass go ahead: the deletions reach every instance. Check with the user that they are intended first.',
    destructive: true,
  },
  {
    control: 'resync',
    title: 'Full resync',
    description: 'Reconciles every file with the store now (a full pass), e.g. after files were changed behind scopefs\'s back.',
    destructive: false,
  },
];

/** sync_pause, sync_resume, sync_confirm and sync_resync: the operator controls, as in POST /v1/sync/<control>. */
function registerSyncControls(server: McpServer, sync: SyncHandle | undefined): void {
  for (const { control, title, description, destructive } of CONTROLS) {
    server.registerTool(
      `sync_${control}`,
      { title, description, inputSchema: {}, annotations: { destructiveHint: destructive, idempotentHint: control !== 'confirm' } },
      () =>
        runTool(async () => {
          if (!sync) throw new ScopeFsError('EINVAL', 'sync is not enabled for this workspace; there is nothing to control');
          const { ran, status } = await runControl(sync, control);
          return describeControl(control, ran, status);
        }),
    );
  }
}

function describeControl(control: SyncControl, ran: boolean | undefined, status: SyncStatus): string {
  const done = control === 'resync' && ran === false ? 'The store is not connected: the full pass runs once it is.' : `Done (${control}).`;
  const paused = status.pausedReason ? ` Paused: ${status.pausedReason}.` : '';
  return `${done} Sync is ${status.state}; ${status.pending.length} pending, ${status.conflicts.length} conflicts.${paused}`;
}

function resolution(keep: 'local' | 'remote' | undefined, content: string | undefined): ConflictResolution {
  if ((keep === undefined) === (content === undefined)) {
    throw new ScopeFsError('EINVAL', 'give exactly one of keep ("local" or "remote") and content');
  }
  return keep ?? { content: content! };
}
