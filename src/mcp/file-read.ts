/**
 * read_file and delete_file's view of a path: a text file (numbered lines, or
 * raw), a binary file (its type and size, and where to get the bytes), or a
 * directory (EISDIR, since agents often pass one).
 */
import { isUtf8 } from '../content.js';
import { fsErrors, isScopeFsError } from '../errors.js';
import { normalizePath, normalizePrefix } from '../paths.js';
import type { FileSystem } from '../types.js';
import { isDirectoryError } from './hints.js';
import { numbered, pageOf, splitLines } from './text.js';

export interface ReadRequest {
  offset: number;
  limit: number;
  /** The text exactly as stored, without line numbers. */
  raw: boolean;
}

/** The files under `path` when it names a directory (a prefix of files); none for a file or nothing. */
export async function filesUnder(fs: FileSystem, path: string): Promise<string[]> {
  return fs.listFiles(normalizePrefix(path));
}

/** `/notes/` or `/` names a directory outright; anything else may be a file. */
function namesDirectory(input: string): boolean {
  return input === '/' || input.endsWith('/');
}

/** EISDIR for a directory with files, ENOENT for an empty or missing one. */
async function directoryAnswer(fs: FileSystem, input: string, next: string): Promise<never> {
  const prefix = normalizePrefix(input);
  const files = await fs.listFiles(prefix);
  if (files.length > 0) throw isDirectoryError(prefix, files.length, next);
  throw fsErrors.notFound(prefix);
}

/** Reads a file for an agent: numbered lines by default, paging notes, never bytes as mojibake. */
export async function readForAgent(fs: FileSystem, input: string, request: ReadRequest): Promise<string[]> {
  if (namesDirectory(input)) return directoryAnswer(fs, input, 'list_files shows what is in it');
  const path = normalizePath(input);
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path, { encoding: 'bytes' });
  } catch (err) {
    if (!isScopeFsError(err, 'ENOENT')) throw err;
    const files = await filesUnder(fs, path);
    if (files.length > 0) throw isDirectoryError(path, files.length, 'list_files shows what is in it');
    throw err;
  }
  if (!isUtf8(bytes)) return [await binaryNotice(fs, path, bytes.byteLength)];
  return pageText(path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), request);
}

function pageText(path: string, text: string, { offset, limit, raw }: ReadRequest): string[] {
  const page = pageOf(text, offset, limit);
  if (page.total === 0) return ['', `[${path} is empty]`];
  const body = raw ? page.text : numbered(splitLines(page.text), page.first);
  if (page.last < page.total) {
    return [body, `[lines ${page.first}-${page.last} of ${page.total}; continue with offset=${page.last + 1}]`];
  }
  return page.first > 1 ? [body, `[lines ${page.first}-${page.last} of ${page.total}]`] : [body];
}

async function binaryNotice(fs: FileSystem, path: string, size: number): Promise<string> {
  const { mimeType } = await fs.stat(path);
  return (
    `[${path} is a binary file (${mimeType}, ${size} bytes); read_file shows text only. ` +
    `Get the bytes with GET /v1/files${path} over HTTP or \`scopefs cat --json ${path}\` (base64).]`
  );
}

const RECURSIVE_HINT = 'pass recursive: true to delete every file in it; list_files shows what is in it';

/** Deletes a file, or with `recursive` every file under a directory. */
export async function deleteForAgent(fs: FileSystem, input: string, recursive: boolean): Promise<string> {
  if (input === '/') throw fsErrors.invalid('delete_file will not delete the whole workspace; name a directory under /');
  if (namesDirectory(input) && !recursive) return directoryAnswer(fs, input, RECURSIVE_HINT);
  const path = normalizePath(namesDirectory(input) ? input.slice(0, -1) : input);
  if (await fs.fileExists(path)) {
    await fs.deleteFile(path);
    return `Deleted ${path}`;
  }
  const files = await filesUnder(fs, path);
  if (files.length === 0) return fs.deleteFile(path).then(() => `Deleted ${path}`); // raises ENOENT
  if (!recursive) {
    throw isDirectoryError(path, files.length, RECURSIVE_HINT);
  }
  for (const file of files) await fs.deleteFile(file);
  return `Deleted ${path} (${files.length} ${files.length === 1 ? 'file' : 'files'})`;
}
