/**
 * glob and grep over a FileSystem: which files match a path pattern, and
 * which lines of their content match a regular expression. Decisions (what
 * matches, which lines and context to keep) are pure functions here; the
 * only I/O is listEntries and readFile on the FileSystem, so the same search
 * runs over memory, disk or a synced scope. Used by the MCP glob/grep tools.
 */
import picomatch from 'picomatch';
import { isUtf8 } from '../content.js';
import { fsErrors, isScopeFsError } from '../errors.js';
import { normalizePrefix } from '../paths.js';
import type { EntryMeta, FileSystem } from '../types.js';

export const DEFAULT_SEARCH_LIMIT = 100;
/** Files read at once by grep: enough to keep the filesystem's mailbox busy. */
const READ_AHEAD = 64;

export interface GlobOptions {
  /** `**\/*.md`, `/notes/*.txt`, `src/{a,b}/**`. Relative patterns match below `under`. */
  pattern: string;
  /** Directory to search, default `/`. */
  under?: string;
  /** Most files returned, newest first. Default 100. */
  limit?: number;
}

export interface GlobResult {
  /** Newest modification first. */
  files: EntryMeta[];
  /** How many files matched before the limit. */
  total: number;
}

export type GrepOutput = 'files' | 'lines' | 'counts';

export interface GrepOptions {
  /** A JavaScript regular expression, matched against each line. */
  pattern: string;
  /** Only files whose path matches this glob (as in GlobOptions.pattern). */
  glob?: string;
  under?: string;
  /** `files` (default): matching files, newest first; `lines`: matching lines with numbers; `counts`: matches per file. */
  output?: GrepOutput;
  /** Lines of context before and after each match (output `lines`). Default 0. */
  context?: number;
  ignoreCase?: boolean;
  /** Most results (files, lines or counts) returned. Default 100. */
  limit?: number;
}

export interface GrepLine {
  line: number;
  text: string;
  /** False for a context line. */
  match: boolean;
}

export interface GrepFile {
  path: string;
  modifiedAt: number;
  /** Matching lines in the file. */
  count: number;
  /** With output `lines`: the matches and their context, in order. */
  lines: GrepLine[];
}

export interface GrepResult {
  output: GrepOutput;
  /** Context lines asked for (output `lines`). */
  context: number;
  files: GrepFile[];
  /** More results existed than `limit` allowed. */
  truncated: boolean;
  /** Text files searched, and binary files skipped. */
  searched: number;
  skippedBinary: number;
}

/** A path test for a glob: absolute patterns match whole paths, relative ones match below `under`. */
export function globMatcher(pattern: string, under: string): (path: string) => boolean {
  if (typeof pattern !== 'string' || pattern.trim() === '') {
    throw fsErrors.invalid('a glob pattern is needed, e.g. **/*.md or /notes/*.txt');
  }
  const test = picomatch(pattern.startsWith('/') ? pattern.slice(1) : pattern, { dot: true });
  const base = pattern.startsWith('/') ? '/' : under;
  return (path) => path.startsWith(base) && test(path.slice(base.length));
}

/** The pattern as a RegExp; EINVAL with how to fix it when it does not compile. */
export function compilePattern(pattern: string, ignoreCase = false): RegExp {
  if (typeof pattern !== 'string' || pattern === '') throw fsErrors.invalid('grep needs a non-empty regular expression');
  try {
    return new RegExp(pattern, ignoreCase ? 'iu' : 'u');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw fsErrors.invalid(`${JSON.stringify(pattern)} is not a valid regular expression (${why}); escape ( [ { . * + ? with a backslash to match them literally`);
  }
}

/** Matching lines of `text` and, with `context`, the lines around them (each once, in order). */
export function matchLines(text: string, regex: RegExp, context: number): { count: number; lines: GrepLine[] } {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  const hits: number[] = [];
  for (let i = 0; i < all.length; i++) if (regex.test(all[i]!)) hits.push(i);
  const keep = new Set<number>();
  for (const hit of hits) {
    for (let i = Math.max(0, hit - context); i <= Math.min(all.length - 1, hit + context); i++) keep.add(i);
  }
  const hitSet = new Set(hits);
  const lines = [...keep].sort((a, b) => a - b).map((i) => ({ line: i + 1, text: all[i]!.replace(/\r$/, ''), match: hitSet.has(i) }));
  return { count: hits.length, lines };
}

function positiveLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_SEARCH_LIMIT;
  if (!Number.isSafeInteger(value) || value < 1) throw fsErrors.invalid(`limit must be a whole number >= 1, not ${String(limit)}`);
  return value;
}

const newestFirst = (a: { modifiedAt: number; path: string }, b: { modifiedAt: number; path: string }) =>
  b.modifiedAt - a.modifiedAt || (a.path < b.path ? -1 : 1);

export async function globFiles(fs: FileSystem, options: GlobOptions): Promise<GlobResult> {
  const under = normalizePrefix(options.under);
  const limit = positiveLimit(options.limit);
  const matches = globMatcher(options.pattern, under);
  const found = (await fs.listEntries(under)).filter((entry) => matches(entry.path)).sort(newestFirst);
  return { files: found.slice(0, limit), total: found.length };
}

export async function grepFiles(fs: FileSystem, options: GrepOptions): Promise<GrepResult> {
  const under = normalizePrefix(options.under);
  const limit = positiveLimit(options.limit);
  const output = options.output ?? 'files';
  const context = options.context ?? 0;
  if (!Number.isSafeInteger(context) || context < 0) throw fsErrors.invalid(`context must be a whole number >= 0, not ${String(context)}`);
  const regex = compilePattern(options.pattern, options.ignoreCase);
  // `m`: ^ and $ match at line ends, as they do when each line is tested alone.
  const search: Search = { regex, wholeText: new RegExp(regex.source, `${regex.flags}m`), context };
  const inGlob = options.glob === undefined ? () => true : globMatcher(options.glob, under);
  const candidates = (await fs.listEntries(under)).filter((entry) => inGlob(entry.path));
  if (output !== 'lines') candidates.sort(newestFirst);
  const result: GrepResult = { output, context, files: [], truncated: false, searched: 0, skippedBinary: 0 };
  let budget = limit;
  for (let start = 0; start < candidates.length && !result.truncated; start += READ_AHEAD) {
    const batch = candidates.slice(start, start + READ_AHEAD);
    const contents = await Promise.all(batch.map((entry) => readIfPresent(fs, entry.path)));
    for (let i = 0; i < batch.length && !result.truncated; i++) {
      const bytes = contents[i];
      if (bytes === undefined) continue;
      if (!isUtf8(bytes)) {
        result.skippedBinary++;
        continue;
      }
      result.searched++;
      budget = addFile(result, batch[i]!, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), search, budget);
    }
  }
  return result;
}

interface Search {
  regex: RegExp;
  wholeText: RegExp;
  context: number;
}

/** Adds one file's matches within the remaining budget; returns what is left of it. */
function addFile(result: GrepResult, entry: EntryMeta, text: string, search: Search, budget: number): number {
  const { regex, wholeText, context } = search;
  // Most files do not match: one test over the whole text rejects them without splitting lines.
  if (!wholeText.test(text)) return budget;
  const { count, lines } = matchLines(text, regex, result.output === 'lines' ? context : 0);
  if (count === 0) return budget;
  if (budget === 0) {
    result.truncated = true;
    return 0;
  }
  if (result.output !== 'lines') {
    result.files.push({ path: entry.path, modifiedAt: entry.modifiedAt, count, lines: [] });
    return budget - 1;
  }
  const kept = takeMatches(lines, budget, context);
  result.files.push({ path: entry.path, modifiedAt: entry.modifiedAt, count, lines: kept.lines });
  if (kept.used < count) result.truncated = true;
  return budget - kept.used;
}

/** The first `budget` matches with their context lines (not the context of the first match left out). */
function takeMatches(lines: GrepLine[], budget: number, context: number): { lines: GrepLine[]; used: number } {
  let used = 0;
  let lastKept = 0;
  let end = lines.length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.match) continue;
    if (used === budget) {
      end = i;
      break;
    }
    used++;
    lastKept = line.line;
  }
  const kept = lines.slice(0, end);
  while (end < lines.length && kept.length > 0 && kept.at(-1)!.line > lastKept + context) kept.pop();
  return { lines: kept, used };
}

async function readIfPresent(fs: FileSystem, path: string): Promise<Uint8Array | undefined> {
  try {
    return await fs.readFile(path, { encoding: 'bytes' });
  } catch (err) {
    if (isScopeFsError(err, 'ENOENT')) return undefined; // deleted since the listing
    throw err;
  }
}
