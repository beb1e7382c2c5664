import { isUtf8 } from '../content.js';
import { ScopeFsError, fsErrors, isScopeFsError } from '../errors.js';
import type { EntryMeta, FileSystem } from '../types.js';

/** Lines without their `\n` terminators; a final newline does not start another line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export interface Page {
  text: string;
  /** 1-based numbers of the first and last line returned (0 and 0 for an empty page). */
  first: number;
  last: number;
  total: number;
}

/** Lines `offset` (1-based) to `offset + limit - 1`, joined exactly as they were in the text. */
export function pageOf(text: string, offset: number, limit: number): Page {
  const lines = splitLines(text);
  const total = lines.length;
  if (total > 0 && offset > total) {
    throw fsErrors.invalid(`offset ${offset} is past the end of the file (${total} lines)`);
  }
  const slice = lines.slice(offset - 1, offset - 1 + limit);
  if (slice.length === 0) return { text: '', first: 0, last: 0, total };
  const last = offset - 1 + slice.length;
  const terminated = last < total || text.endsWith('\n');
  return { text: slice.join('\n') + (terminated ? '\n' : ''), first: offset, last, total };
}

/** `text` with `insert` placed after line `line` (0: before the first line). */
export function insertLines(text: string, line: number, insert: string): string {
  const total = splitLines(text).length;
  if (!Number.isInteger(line) || line < 0 || line > total) {
    throw fsErrors.invalid(`line must be between 0 and ${total} (the number of lines), not ${line}`);
  }
  const chunk = insert.endsWith('\n') ? insert : `${insert}\n`;
  let offset = 0;
  for (let n = 0; n < line; n++) offset = text.indexOf('\n', offset) + 1 || text.length;
  const head = text.slice(0, offset);
  const joint = head !== '' && !head.endsWith('\n') ? '\n' : '';
  return head + joint + chunk + text.slice(offset);
}

/** Lines prefixed with their 1-based number, as `cat -n` prints them. */
export function numbered(lines: readonly string[], firstNumber: number): string {
  return lines.map((line, i) => `${String(firstNumber + i).padStart(6)}\t${line}`).join('\n');
}

/** The file's content as text; EINVAL for content that is not UTF-8. */
export async function readText(fs: FileSystem, path: string): Promise<string> {
  const bytes = await fs.readFile(path, { encoding: 'bytes' });
  if (!isUtf8(bytes)) {
    throw new ScopeFsError('EINVAL', `${JSON.stringify(path)} is binary (${bytes.byteLength} bytes), not UTF-8 text`, { path });
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * Read-modify-write of a text file as a compare-and-swap on its revision, so
 * a concurrent change (another agent, sync) is never overwritten; a lost
 * race is retried a few times, then reported as ESTALE.
 */
export async function rewriteText(fs: FileSystem, path: string, transform: (text: string) => string): Promise<EntryMeta> {
  for (let attempt = 1; ; attempt++) {
    const { revision } = await fs.stat(path);
    const text = await readText(fs, path);
    try {
      return await fs.writeFile(path, transform(text), { ifRevision: revision });
    } catch (err) {
      if (!isScopeFsError(err, 'ESTALE') || attempt >= 3) throw err;
    }
  }
}
