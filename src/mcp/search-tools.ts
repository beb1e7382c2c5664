import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { DEFAULT_SEARCH_LIMIT, globFiles, grepFiles, type GrepResult } from '../search/search.js';
import type { FileSystem } from '../types.js';
import { runWithHints } from './hints.js';

const under = z.string().optional().describe('Directory to search, e.g. /notes (default: the whole workspace)');
const limit = z.number().int().min(1).max(10_000).optional().describe(`Most results to return (default ${DEFAULT_SEARCH_LIMIT})`);

/** glob and grep: how an agent finds files before it reads them. The search itself is src/search. */
export function registerSearchTools(server: McpServer, fs: FileSystem): void {
  server.registerTool(
    'glob',
    {
      title: 'Find files by name',
      description:
        'Lists the files whose path matches a glob pattern (** for any depth, * within a segment, {a,b}, ?), ' +
        'newest modification first. Relative patterns match below `path`; absolute ones (/notes/*.md) the whole path.',
      inputSchema: { pattern: z.string().describe('e.g. **/*.md, /notes/**/todo*.txt'), path: under, limit },
      annotations: { readOnlyHint: true },
    },
    ({ pattern, path, limit }) =>
      runWithHints(async () => {
        const { files, total } = await globFiles(fs, { pattern, under: path, limit });
        if (total === 0) return `No files match ${pattern} under ${path ?? '/'}; try a broader pattern such as **/*`;
        const shown = files.map((file) => file.path);
        if (total > files.length) shown.push(`[${total - files.length} more; narrow the pattern or raise limit]`);
        return shown.join('\n');
      }),
  );

  server.registerTool(
    'grep',
    {
      title: 'Search file contents',
      description:
        'Searches text files for a regular expression (JavaScript syntax), line by line. output: "files" (default) ' +
        'lists matching files newest first; "lines" shows matching lines as path:line:text (context lines as ' +
        'path-line-text); "counts" shows path:matches. Binary files are skipped.',
      inputSchema: {
        pattern: z.string().describe('Regular expression, e.g. TODO|FIXME or ^#+ Plan'),
        glob: z.string().optional().describe('Only files matching this glob, e.g. **/*.md'),
        path: under,
        output: z.enum(['files', 'lines', 'counts']).optional().describe('What to show (default files)'),
        context: z.number().int().min(0).max(50).optional().describe('Lines of context around each match (output lines)'),
        ignore_case: z.boolean().optional().describe('Case-insensitive (default false)'),
        limit,
      },
      annotations: { readOnlyHint: true },
    },
    (args) =>
      runWithHints(async () =>
        formatGrep(
          await grepFiles(fs, {
            pattern: args.pattern,
            glob: args.glob,
            under: args.path,
            output: args.output,
            context: args.context,
            ignoreCase: args.ignore_case,
            limit: args.limit,
          }),
          args.pattern,
        ),
      ),
  );
}

/** ripgrep's shapes: `path`, `path:count`, or `path:line:text` with `path-line-text` context and `--` between groups. */
export function formatGrep(result: GrepResult, pattern: string): string {
  if (result.files.length === 0) {
    const binary = result.skippedBinary > 0 ? ` (${result.skippedBinary} binary files skipped)` : '';
    return `No matches for ${pattern} in ${result.searched} files${binary}; try ignore_case, a simpler pattern, or glob to see which files exist`;
  }
  const out: string[] = [];
  for (const file of result.files) {
    if (result.output === 'files') out.push(file.path);
    else if (result.output === 'counts') out.push(`${file.path}:${file.count}`);
    else out.push(...groupLines(file.path, file.lines, result.context > 0));
  }
  if (result.truncated) out.push('[more matches; narrow the pattern or glob, or raise limit]');
  return out.join('\n');
}

function groupLines(path: string, lines: GrepResult['files'][number]['lines'], separate: boolean): string[] {
  const out: string[] = [];
  let previous = 0;
  for (const { line, text, match } of lines) {
    if (separate && previous !== 0 && line > previous + 1) out.push('--');
    out.push(`${path}${match ? ':' : '-'}${line}${match ? ':' : '-'}${text}`);
    previous = line;
  }
  return out;
}
