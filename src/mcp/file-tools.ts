import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { fsErrors } from '../errors.js';
import { normalizePrefix } from '../paths.js';
import type { EntryMeta, FileSystem } from '../types.js';
import { deleteForAgent, readForAgent } from './file-read.js';
import { runWithHints } from './hints.js';
import { insertLines, rewriteText } from './text.js';

const DEFAULT_LINE_LIMIT = 2_000;
const MAX_LISTED = 1_000;

const path = z.string().describe('Absolute path of a file in the workspace, e.g. /notes/todo.md');

/** read_file, write_file, edit_file, insert_lines, list_files, move_file, delete_file. */
export function registerFileTools(server: McpServer, fs: FileSystem): void {
  server.registerTool(
    'read_file',
    {
      title: 'Read a file',
      description:
        'Reads a UTF-8 text file, a page of lines at a time (default: the first 2000 lines), each line prefixed ' +
        'with its number and a tab as `cat -n` prints them (the numbers insert_lines takes); raw: true returns ' +
        'the text exactly as stored. When more lines follow, a note says which offset to pass next. ' +
        'A binary file answers with its type and size.',
      inputSchema: {
        path,
        offset: z.number().int().min(1).optional().describe('First line to return, 1-based (default 1)'),
        limit: z.number().int().min(1).max(100_000).optional().describe(`How many lines to return (default ${DEFAULT_LINE_LIMIT})`),
        raw: z.boolean().optional().describe('Return the text without line numbers (default false)'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ path, offset, limit, raw }) =>
      runWithHints(() => readForAgent(fs, path, { offset: offset ?? 1, limit: limit ?? DEFAULT_LINE_LIMIT, raw: raw ?? false })),
  );

  server.registerTool(
    'write_file',
    {
      title: 'Write a file',
      description: 'Creates a file or replaces its whole content. Parent directories need not exist.',
      inputSchema: { path, content: z.string().describe('The complete new content') },
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    ({ path, content }) =>
      runWithHints(async () => {
        const meta = await fs.writeFile(path, content);
        return `Wrote ${meta.size} bytes to ${meta.path} (revision ${meta.revision})`;
      }),
  );

  server.registerTool(
    'edit_file',
    {
      title: 'Edit a file',
      description:
        'Replaces an exact string in a text file. old_string must match exactly once ' +
        '(include surrounding lines to make it unique), unless replace_all is true.',
      inputSchema: {
        path,
        old_string: z.string().min(1).describe('The exact text to replace'),
        new_string: z.string().describe('The replacement text'),
        replace_all: z.boolean().optional().describe('Replace every occurrence (default false)'),
      },
      annotations: { destructiveHint: true },
    },
    (args) => runWithHints(() => edit(fs, args.path, args.old_string, args.new_string, args.replace_all ?? false)),
  );

  server.registerTool(
    'insert_lines',
    {
      title: 'Insert lines',
      description: 'Inserts text after the given line of a text file (line 0 inserts at the top).',
      inputSchema: {
        path,
        line: z.number().int().min(0).describe('Insert after this line, 1-based; 0 for the top of the file'),
        text: z.string().describe('The lines to insert; a final newline is added when missing'),
      },
      annotations: { destructiveHint: false },
    },
    ({ path, line, text }) =>
      runWithHints(async () => {
        const meta = await rewriteText(fs, path, (current) => insertLines(current, line, text));
        return `Inserted after line ${line} of ${meta.path} (revision ${meta.revision})`;
      }),
  );

  server.registerTool(
    'list_files',
    {
      title: 'List files',
      description: 'Lists the files under a directory (recursively), with their sizes.',
      inputSchema: { prefix: z.string().optional().describe('Directory to list, e.g. /notes (default: everything)') },
      annotations: { readOnlyHint: true },
    },
    ({ prefix }) => runWithHints(async () => listing(await fs.listEntries(normalizePrefix(prefix)), normalizePrefix(prefix))),
  );

  server.registerTool(
    'move_file',
    {
      title: 'Move or rename',
      description: 'Moves a file, or every file under a directory, to a new path. Fails if the target exists.',
      inputSchema: { from: z.string().describe('Current path of the file or directory'), to: z.string().describe('New path') },
      annotations: { destructiveHint: false },
    },
    ({ from, to }) =>
      runWithHints(async () => {
        const { moved } = await fs.moveFile(from, to);
        return moved.map(([a, b]) => `Moved ${a} -> ${b}`).join('\n') || 'Nothing was moved';
      }),
  );

  server.registerTool(
    'delete_file',
    {
      title: 'Delete a file',
      description: 'Deletes one file; with recursive: true, every file under a directory.',
      inputSchema: {
        path: z.string().describe('Absolute path of a file, or of a directory with recursive: true'),
        recursive: z.boolean().optional().describe('Delete every file under the directory (default false)'),
      },
      annotations: { destructiveHint: true, idempotentHint: false },
    },
    ({ path, recursive }) => runWithHints(() => deleteForAgent(fs, path, recursive ?? false)),
  );
}

async function edit(fs: FileSystem, path: string, oldString: string, newString: string, all: boolean): Promise<string> {
  if (!all) {
    const meta = await fs.editFile(path, oldString, newString);
    return `Edited ${meta.path}: replaced 1 occurrence (revision ${meta.revision})`;
  }
  let count = 0;
  const meta = await rewriteText(fs, path, (text) => {
    count = text.split(oldString).length - 1;
    if (count === 0) throw fsErrors.invalid(`edit ${JSON.stringify(path)}: old_string was not found`, path);
    return text.replaceAll(oldString, () => newString);
  });
  return `Edited ${meta.path}: replaced ${count} occurrences (revision ${meta.revision})`;
}

function listing(entries: EntryMeta[], prefix: string): string {
  if (entries.length === 0) return `No files under ${prefix}`;
  const shown = entries.slice(0, MAX_LISTED).map((entry) => `${entry.path} (${entry.size} bytes)`);
  if (entries.length > MAX_LISTED) shown.push(`[${entries.length - MAX_LISTED} more; list a narrower prefix]`);
  return shown.join('\n');
}
