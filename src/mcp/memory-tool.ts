import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { fsErrors } from '../errors.js';
import { isUnder, normalizePath, normalizePrefix } from '../paths.js';
import type { FileSystem } from '../types.js';
import { runTool } from './result.js';
import { insertLines, numbered, readText, rewriteText, splitLines } from './text.js';

export const MEMORY_ROOT = '/memories';

const COMMANDS = ['view', 'create', 'str_replace', 'insert', 'delete', 'rename'] as const;

const memoryInput = {
  command: z.enum(COMMANDS).describe('What to do'),
  path: z.string().optional().describe('A path under /memories (all commands but rename)'),
  view_range: z.tuple([z.number().int(), z.number().int()]).optional().describe('view: [first, last] line, 1-based; last -1 = to the end'),
  file_text: z.string().optional().describe('create: the file content'),
  old_str: z.string().optional().describe('str_replace: the exact text to replace (must occur once)'),
  new_str: z.string().optional().describe('str_replace: the replacement'),
  insert_line: z.number().int().min(0).optional().describe('insert: insert after this line (0 = top)'),
  insert_text: z.string().optional().describe('insert: the text to insert'),
  old_path: z.string().optional().describe('rename: the current path'),
  new_path: z.string().optional().describe('rename: the new path'),
};

type MemoryArgs = { [K in keyof typeof memoryInput]: z.infer<(typeof memoryInput)[K]> };

/** The memory tool: view, create, str_replace, insert, delete and rename, confined to /memories. */
export function registerMemoryTool(server: McpServer, fs: FileSystem): void {
  server.registerTool(
    'memory',
    {
      title: 'Memory',
      description:
        'A persistent memory directory at /memories that outlives this conversation. Commands: ' +
        'view (a directory listing or a file with line numbers), create, str_replace, insert, delete, rename. ' +
        'Check it at the start of a task; record progress and learnings as you go.',
      inputSchema: memoryInput,
    },
    (args) => runTool(() => runCommand(fs, args as MemoryArgs)),
  );
}

async function runCommand(fs: FileSystem, args: MemoryArgs): Promise<string> {
  switch (args.command) {
    case 'view':
      return view(fs, memoryTarget(args.path, 'path'), args.view_range);
    case 'create': {
      const path = memoryFile(args.path, 'path');
      const meta = await fs.writeFile(path, required(args.file_text, 'file_text'));
      return `File created successfully at ${meta.path}`;
    }
    case 'str_replace': {
      const path = memoryFile(args.path, 'path');
      await fs.editFile(path, required(args.old_str, 'old_str'), required(args.new_str, 'new_str'));
      return `The memory file ${path} has been edited`;
    }
    case 'insert': {
      const path = memoryFile(args.path, 'path');
      const line = required(args.insert_line, 'insert_line');
      const text = required(args.insert_text, 'insert_text');
      await rewriteText(fs, path, (current) => insertLines(current, line, text));
      return `Text inserted after line ${line} of ${path}`;
    }
    case 'delete':
      return remove(fs, memoryTarget(args.path, 'path'));
    case 'rename': {
      const from = memoryTarget(args.old_path, 'old_path');
      const to = memoryTarget(args.new_path, 'new_path');
      if (from === MEMORY_ROOT || to === MEMORY_ROOT) throw fsErrors.invalid(`${MEMORY_ROOT} itself cannot be renamed`);
      await fs.moveFile(from, to);
      return `Renamed ${from} to ${to}`;
    }
  }
}

async function view(fs: FileSystem, path: string, range: [number, number] | undefined): Promise<string> {
  if (path !== MEMORY_ROOT && (await fs.fileExists(path))) {
    const lines = splitLines(await readText(fs, path));
    const [first, last] = range ?? [1, -1];
    if (first < 1 || (last !== -1 && last < first)) throw fsErrors.invalid(`invalid view_range [${first}, ${last}]`, path);
    const shown = lines.slice(first - 1, last === -1 ? undefined : last);
    return shown.length === 0 ? `${path} has no lines in that range` : numbered(shown, first);
  }
  const prefix = normalizePrefix(path);
  const entries = await fs.listEntries(prefix);
  if (entries.length === 0 && path !== MEMORY_ROOT) throw fsErrors.notFound(path);
  const lines = entries.map((entry) => `${entry.size}\t${entry.path}`);
  return [`Files in ${path}:`, ...(lines.length > 0 ? lines : ['(empty)'])].join('\n');
}

async function remove(fs: FileSystem, path: string): Promise<string> {
  if (path === MEMORY_ROOT) throw fsErrors.invalid(`${MEMORY_ROOT} itself cannot be deleted`);
  if (await fs.fileExists(path)) {
    await fs.deleteFile(path);
    return `Deleted ${path}`;
  }
  const files = await fs.listFiles(normalizePrefix(path));
  if (files.length === 0) throw fsErrors.notFound(path);
  for (const file of files) await fs.deleteFile(file);
  return `Deleted ${path} (${files.length} files)`;
}

/** A validated path that is /memories or lies under it. */
function memoryTarget(input: string | undefined, field: string): string {
  const given = required(input, field);
  // Directories are often written with a trailing slash: `/memories/`.
  const path = normalizePath(given.length > 1 && given.endsWith('/') ? given.slice(0, -1) : given);
  if (path !== MEMORY_ROOT && !isUnder(path, `${MEMORY_ROOT}/`)) {
    throw fsErrors.invalidPath(input, `memory paths must be under ${MEMORY_ROOT}`);
  }
  return path;
}

function memoryFile(input: string | undefined, field: string): string {
  const path = memoryTarget(input, field);
  if (path === MEMORY_ROOT) throw fsErrors.invalidPath(input, `${MEMORY_ROOT} is a directory, not a file`);
  return path;
}

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw fsErrors.invalid(`this memory command needs ${field}`);
  return value;
}
