/**
 * Names of conflict copies: the remote version of a file that could not be
 * merged, written beside the local one as
 * `name.sync-conflict-YYYYMMDD-HHMMSS-<instance>.ext` (the Syncthing
 * convention, so the denylist and people recognise it), where `<instance>`
 * is whose content the copy holds: the remote instance for a sync conflict,
 * `disk` for an outside edit kept beside the file.
 */
import { fsErrors } from '../errors.js';
import { MAX_SEGMENT_BYTES, basename } from '../paths.js';

const MARKER = '.sync-conflict-';
const MAX_INSTANCE_CHARS = 32;
const COPY_NAME = /^(.+)\.sync-conflict-\d{8}-\d{6}(?:_\d+)?-[A-Za-z0-9_-]{1,32}((?:\.[^.]+)?)$/;

/**
 * `/dir/name.ext` -> `/dir/name.sync-conflict-20240131-235959-laptop.ext`
 * (UTC), `instanceId` naming whose content the copy holds. A file without an extension, or a dotfile like `.bashrc`, gets the
 * suffix at the end. The instance id is reduced to `[A-Za-z0-9_-]`, at most 32
 * characters. `attempt` > 1 adds `_<attempt>` to the time: callers look for
 * a name no file has, since two conflicts of one path in one second (its
 * first one moved away with the file) would otherwise share a copy. A stem too long for a path segment is shortened to fit, so
 * `conflictOriginal` of such a copy gives the shortened name: the engine's
 * conflict record is the authority on which file a copy belongs to.
 */
export function conflictCopyPath(path: string, at: Date, instanceId: string, attempt = 1): string {
  const { dir, stem, ext } = splitName(path);
  const suffix = `${MARKER}${timestamp(at)}${attemptTag(attempt)}-${sanitizeInstance(instanceId)}${ext}`;
  return `${dir}${fitStem(stem, MAX_SEGMENT_BYTES - Buffer.byteLength(suffix))}${suffix}`;
}

const RESOLVED_MARKER = '.sync-resolved-';
const RESOLVED_NAME = /^(.+)\.sync-resolved-\d{8}-\d{6}(?:_\d+)?-([A-Za-z0-9_-]{1,32})((?:\.[^.]+)?)$/;

/**
 * `/dir/name.ext` -> `/dir/name.sync-resolved-20240131-235959-laptop.ext`:
 * the side a conflict strategy discarded, kept beside the file under the
 * name of the instance whose content it is. Never synced (the denylist
 * names the marker). `attempt` > 1 adds `_<attempt>` to the time, so two
 * resolutions in one second never share a copy.
 */
export function resolvedCopyPath(path: string, at: Date, instanceId: string, attempt = 1): string {
  const { dir, stem, ext } = splitName(path);
  const suffix = `${RESOLVED_MARKER}${timestamp(at)}${attemptTag(attempt)}-${sanitizeInstance(instanceId)}${ext}`;
  return `${dir}${fitStem(stem, MAX_SEGMENT_BYTES - Buffer.byteLength(suffix))}${suffix}`;
}

/** For a resolved copy: the path it was made for and the (sanitized) instance whose content it holds; else null. */
export function resolvedCopyOf(copyPath: string): { original: string; instance: string } | null {
  const match = RESOLVED_NAME.exec(basename(copyPath));
  if (match === null) return null;
  const [, stem = '', instance = '', ext = ''] = match;
  return { original: `${copyPath.slice(0, copyPath.lastIndexOf('/') + 1)}${stem}${ext}`, instance };
}

/** True for a path whose file name has the shape `conflictCopyPath` produces. */
export function isConflictCopy(path: string): boolean {
  return COPY_NAME.test(basename(path));
}

/** The path a conflict copy was made for, or null when `copyPath` is not a conflict copy. */
export function conflictOriginal(copyPath: string): string | null {
  const match = COPY_NAME.exec(basename(copyPath));
  if (match === null) return null;
  const [, stem = '', ext = ''] = match;
  return `${copyPath.slice(0, copyPath.lastIndexOf('/') + 1)}${stem}${ext}`;
}

/** `dir` keeps its trailing `/`; `ext` keeps its dot and is empty for `Makefile`, `.bashrc` and `name.`. */
function splitName(path: string): { dir: string; stem: string; ext: string } {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  if (name === '') throw fsErrors.invalidPath(path, 'a conflict copy needs a file name');
  const dot = name.lastIndexOf('.');
  const hasExt = dot > 0 && dot < name.length - 1;
  return hasExt ? { dir, stem: name.slice(0, dot), ext: name.slice(dot) } : { dir, stem: name, ext: '' };
}

function attemptTag(attempt: number): string {
  return attempt > 1 ? `_${attempt}` : '';
}

function timestamp(at: Date): string {
  const iso = Number.isNaN(at.getTime()) ? '' : at.toISOString(); // 2024-01-31T23:59:59.000Z
  if (!/^\d{4}-/.test(iso)) throw fsErrors.invalid(`conflict copy time must be a valid Date in years 0-9999, got ${String(at)}`);
  return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`;
}

function sanitizeInstance(instanceId: string): string {
  const clean = instanceId.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return clean.slice(0, MAX_INSTANCE_CHARS) || 'unknown';
}

/** The stem cut (at a character boundary) to at most `maxBytes` UTF-8 bytes. */
function fitStem(stem: string, maxBytes: number): string {
  if (Buffer.byteLength(stem) <= maxBytes) return stem;
  let fitted = '';
  for (const char of stem) {
    if (Buffer.byteLength(fitted + char) > maxBytes) break;
    fitted += char;
  }
  return fitted.trimEnd() || '_';
}
