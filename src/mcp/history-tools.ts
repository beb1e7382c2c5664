/**
 * History tools for agents: see what a file looked like before, undo an
 * edit or a deletion, and save or return to a named checkpoint of the
 * workspace. Every restore is an ordinary change, so it is synced and can
 * itself be undone from the history.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { FileSystem, HistoryVersion } from '../types.js';
import { runTool } from './result.js';

export function registerHistoryTools(server: McpServer, fs: FileSystem): void {
  server.registerTool(
    'file_history',
    {
      title: 'File history',
      description:
        'Lists the earlier versions of a file, newest first: revision, size, time, who made it and whether it was a ' +
        'deletion. Use it when a file was overwritten or deleted by mistake, or to see what changed; pass a revision ' +
        'to read that version\'s content. Undo with restore_file. With deleted: true, lists recently deleted files under the path instead.',
      inputSchema: {
        path: z.string().describe('The file (or, with deleted: true, a directory prefix)'),
        revision: z.number().int().positive().optional().describe('Read the content of this revision'),
        limit: z.number().int().positive().max(1000).optional().describe('At most this many versions (default 20)'),
        deleted: z.boolean().optional().describe('List deleted files under path instead'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ path, revision, limit, deleted }) =>
      runTool(async () => {
        if (deleted) return describeDeleted(await fs.listDeleted(path));
        if (revision !== undefined) return (await fs.readFile(path, { revision })) as string;
        return describeVersions(path, await fs.history(path, { limit: limit ?? 20 }));
      }),
  );

  server.registerTool(
    'restore_file',
    {
      title: 'Restore a file version',
      description:
        'Brings back an earlier version of a file (see file_history for revisions), also undeleting a deleted file. ' +
        'It writes that content as a new version, so the current content stays in the history and this can be undone.',
      inputSchema: {
        path: z.string().describe('The file to restore'),
        revision: z.number().int().positive().describe('The revision from file_history to bring back'),
      },
      annotations: { destructiveHint: false },
    },
    ({ path, revision }) =>
      runTool(async () => {
        const meta = await fs.restore(path, revision);
        return `Restored ${meta.path} to the content of revision ${revision} (${meta.size} bytes).`;
      }),
  );

  server.registerTool(
    'checkpoint',
    {
      title: 'Save a checkpoint',
      description:
        'Saves a named checkpoint of every file (or those under prefix) before risky work, such as a large refactor or ' +
        'a batch of deletions, so the workspace can be rolled back with restore_checkpoint. Cheap: unchanged files cost nothing.',
      inputSchema: {
        name: z.string().optional().describe('A unique name (default: checkpoint-<time>)'),
        message: z.string().optional().describe('What state this is, for whoever restores it'),
        prefix: z.string().optional().describe('Only files under this directory'),
      },
      annotations: { destructiveHint: false },
    },
    ({ name, message, prefix }) =>
      runTool(async () => {
        const info = await fs.checkpoint(name, { ...(message === undefined ? {} : { message }), ...(prefix === undefined ? {} : { prefix }) });
        return `Saved checkpoint "${info.name}" of ${info.fileCount} file(s) under ${info.prefix}.`;
      }),
  );

  server.registerTool(
    'list_checkpoints',
    {
      title: 'List checkpoints',
      description: 'Lists the saved checkpoints, newest first, with their message, prefix and size; use before restore_checkpoint.',
      inputSchema: {},
      annotations: { readOnlyHint: true },
    },
    () => runTool(async () => JSON.stringify(await fs.listCheckpoints(), null, 2)),
  );

  server.registerTool(
    'restore_checkpoint',
    {
      title: 'Roll back to a checkpoint',
      description:
        'Brings the files (or those under prefix) back to a saved checkpoint: changed files are written back, deleted ' +
        'ones recreated, files created since are deleted. Run it with dryRun: true first and check the list with the ' +
        'user; everything it replaces stays in the history.',
      inputSchema: {
        name: z.string().describe('The checkpoint (see list_checkpoints)'),
        prefix: z.string().optional().describe('Only files under this directory'),
        dryRun: z.boolean().optional().describe('Only report what would change'),
      },
      annotations: { destructiveHint: true },
    },
    ({ name, prefix, dryRun }) =>
      runTool(async () => JSON.stringify(await fs.restoreCheckpoint(name, { ...(prefix === undefined ? {} : { prefix }), dryRun: dryRun === true }), null, 2)),
  );

  server.registerTool(
    'delete_checkpoint',
    {
      title: 'Delete a checkpoint',
      description:
        'Deletes a saved checkpoint so retention can prune the old versions only it kept. Only when the user asks to ' +
        'drop it: afterwards restore_checkpoint can no longer return to it. The current files are not changed.',
      inputSchema: { name: z.string().describe('The checkpoint (see list_checkpoints)') },
      annotations: { destructiveHint: true, idempotentHint: false },
    },
    ({ name }) =>
      runTool(async () => {
        await fs.deleteCheckpoint(name);
        return `Deleted checkpoint ${name}.`;
      }),
  );
}

function describeVersions(path: string, versions: HistoryVersion[]): string {
  if (versions.length === 0) return `No history for ${path}.`;
  const lines = versions.map((v) => `revision ${v.revision}  ${new Date(v.at).toISOString()}  ${v.deleted ? 'deleted' : `${v.size} bytes`}  ${v.origin}${v.actor ? ` by ${v.actor}` : ''}${v.instance ? ` on ${v.instance}` : ''}`);
  return [`Versions of ${path}, newest first:`, ...lines].join('\n');
}

function describeDeleted(versions: HistoryVersion[]): string {
  if (versions.length === 0) return 'No deleted files.';
  const lines = versions.map((v) => `${v.path}  deleted ${new Date(v.at).toISOString()}${v.actor ? ` by ${v.actor}` : ''} (revision ${v.revision})`);
  return ['Deleted files, newest first (restore with file_history on the path, then restore_file):', ...lines].join('\n');
}
