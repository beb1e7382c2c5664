import { fsErrors } from './errors.js';

/** Limits on virtual paths. Bytes are UTF-8 bytes. */
export const MAX_PATH_BYTES = 4096;
export const MAX_SEGMENT_BYTES = 255;

/** Holds the journal, sync state and temp files on disk; never a virtual path. */
export const RESERVED_SEGMENT = '.scopefs';

// C0 controls, DEL and C1 controls. Tabs and newlines in names only cause trouble.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Validates and canonicalises a virtual file path: absolute, NFC-normalised,
 * no empty, `.` or `..` segments, no control characters or backslashes, no
 * whitespace-padded segments, no `.scopefs` segment (reserved for engine
 * state), bounded length. Throws EINVAL naming the path.
 */
export function normalizePath(input: unknown): string {
  if (typeof input !== 'string') throw fsErrors.invalidPath(input, 'a path must be a string');
  const known = normalized.get(input);
  if (known !== undefined) return known;
  if (input === '/') throw fsErrors.invalidPath(input, 'the root is a directory, not a file');
  if (input.endsWith('/')) throw fsErrors.invalidPath(input, 'a file path must not end with "/"');
  const path = normalizeAbsolute(input);
  if (input.length <= MAX_REMEMBERED_LENGTH) {
    if (normalized.size >= MAX_REMEMBERED) normalized.delete(normalized.keys().next().value!);
    normalized.set(input, path);
  }
  return path;
}

/**
 * Valid paths normalised lately, by their input: checking a path costs about
 * a microsecond (NFC, segments), as much as a whole read from memory, and
 * callers name the same few paths again and again. Only valid inputs of at
 * most MAX_REMEMBERED_LENGTH characters are kept (a few MiB at most), the
 * oldest dropped first.
 */
const normalized = new Map<string, string>();
const MAX_REMEMBERED = 8192;
const MAX_REMEMBERED_LENGTH = 256;

/**
 * Validates a directory prefix (for listing and prefix moves) and returns it
 * with exactly one trailing slash: `/a/b` and `/a/b/` both become `/a/b/`;
 * `/` stays `/`.
 */
export function normalizePrefix(input: unknown): string {
  if (input === undefined || input === '' || input === '/') return '/';
  if (typeof input !== 'string') throw fsErrors.invalidPath(input, 'a prefix must be a string');
  const trimmed = input.endsWith('/') ? input.slice(0, -1) : input;
  return `${normalizeAbsolute(trimmed)}/`;
}

function normalizeAbsolute(input: string): string {
  if (!input.startsWith('/')) throw fsErrors.invalidPath(input, 'a path must be absolute (start with "/")');
  if (CONTROL_CHARS.test(input)) throw fsErrors.invalidPath(input, 'control characters (including NUL) are not allowed');
  if (input.includes('\\')) throw fsErrors.invalidPath(input, 'backslashes are not allowed');
  if (!input.isWellFormed()) throw fsErrors.invalidPath(input, 'the path is not well-formed Unicode');
  const path = input.normalize('NFC');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) {
    throw fsErrors.invalidPath(input, `longer than ${MAX_PATH_BYTES} bytes`);
  }
  const segments = path.slice(1).split('/');
  for (const segment of segments) checkSegment(input, segment);
  return path;
}

function checkSegment(input: string, segment: string): void {
  if (segment === '') throw fsErrors.invalidPath(input, 'empty segments ("//") are not allowed');
  if (segment === '.' || segment === '..') {
    throw fsErrors.invalidPath(input, '"." and ".." segments are not allowed');
  }
  if (segment.toLowerCase() === RESERVED_SEGMENT) {
    throw fsErrors.invalidPath(input, `"${RESERVED_SEGMENT}" is reserved for scopefs' own state`);
  }
  if (segment.trim() !== segment) {
    throw fsErrors.invalidPath(input, `segment ${JSON.stringify(segment)} has leading or trailing whitespace`);
  }
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) {
    throw fsErrors.invalidPath(input, `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
}

/** True when `path` lies under the normalised `prefix` (as returned by normalizePrefix). */
export function isUnder(path: string, prefix: string): boolean {
  return prefix === '/' || path.startsWith(prefix);
}

/** The parent directory of a normalised path, `/` for top-level files. */
export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
