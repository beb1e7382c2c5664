/**
 * The content-changing handlers: write, append, edit, delete. Each follows
 * the pipeline in server-core.ts: validate, journal, apply, persist, emit.
 * Every check that can fail runs before the journal record is written, so a
 * rejected call leaves no trace.
 */
import { isUtf8 } from '../content.js';
import { fsErrors } from '../errors.js';
import { normalizePath } from '../paths.js';
import type { ChangeOptions, Content, EntryMeta, WriteOptions } from '../types.js';
import { setContent, textOf, toMeta, type Entry, type NewContent } from './entries.js';
import { mimeTypeFor } from './mime.js';
import type { ServerCore } from './server-core.js';

export function writeFile(core: ServerCore, path: string, content: Content, options: WriteOptions = {}): Promise<EntryMeta> {
  const target = normalizePath(path);
  return applyContent(core, target, contentOf(target, content), options);
}

/** Appends to a file, creating it when missing. */
export async function appendFile(core: ServerCore, path: string, content: Content, options: ChangeOptions = {}): Promise<EntryMeta> {
  const target = normalizePath(path);
  const addition = contentOf(target, content);
  const existing = core.entries.get(target);
  if (!existing) return applyContent(core, target, addition, options);
  core.writableLocation(target); // EROFS before paying for a load
  const loaded = await core.ensureLoaded(existing);
  const bytes = Buffer.concat([loaded.content, addition.bytes]);
  const text = loaded.text !== undefined && addition.text !== undefined ? loaded.text + addition.text : undefined;
  return applyContent(core, target, { bytes, text }, options);
}

/** Replaces the single occurrence of `oldStr`; EINVAL (with the match count) unless there is exactly one. */
export async function editFile(
  core: ServerCore,
  path: string,
  oldStr: string,
  newStr: string,
  options: ChangeOptions = {},
): Promise<EntryMeta> {
  const target = normalizePath(path);
  if (typeof oldStr !== 'string' || oldStr === '') throw fsErrors.invalid(`editFile ${JSON.stringify(target)}: the old string must be a non-empty string`, target);
  if (typeof newStr !== 'string') throw fsErrors.invalid(`editFile ${JSON.stringify(target)}: the new string must be a string`, target);
  const entry = core.entries.get(target);
  if (!entry) throw fsErrors.notFound(target);
  core.writableLocation(target);
  const loaded = await core.ensureLoaded(entry);
  if (!isUtf8(loaded.content)) throw fsErrors.invalid(`editFile ${JSON.stringify(target)}: the file is not UTF-8 text`, target);
  const text = textOf(loaded);
  const matches = text.split(oldStr).length - 1;
  if (matches !== 1) {
    throw fsErrors.invalid(`editFile ${JSON.stringify(target)}: expected exactly 1 match of the old string, found ${matches}`, target);
  }
  const at = text.indexOf(oldStr);
  const edited = text.slice(0, at) + newStr + text.slice(at + oldStr.length);
  return applyContent(core, target, { bytes: Buffer.from(edited, 'utf8'), text: edited }, options);
}

export async function deleteFile(core: ServerCore, path: string, options: ChangeOptions = {}): Promise<void> {
  const target = normalizePath(path);
  const entry = core.entries.get(target);
  if (!entry) throw fsErrors.notFound(target);
  core.assertRevision(target, entry, options.ifRevision);
  const location = core.writableLocation(target);
  if (location) core.journalAppend([{ op: 'delete', path: target }], target);
  core.entries.remove(target);
  core.scheduler.forget(target);
  const removal = location ? core.persister.remove(target, location) : undefined;
  core.emit({ type: 'file_deleted', path: target, revision: core.nextRevision(), origin: options.origin ?? 'local', ...sourceOf(options) });
  core.settleJournal();
  if (core.durability === 'immediate' && removal) {
    const error = await removal;
    if (error !== undefined) throw fsErrors.io(target, error);
  }
}

/** Validates, journals, applies, persists and announces new content for `path`. */
export async function applyContent(core: ServerCore, path: string, incoming: NewContent, options: WriteOptions): Promise<EntryMeta> {
  const existing = core.entries.get(path);
  core.assertRevision(path, existing, options.ifRevision);
  const location = core.writableLocation(path);
  core.assertSize(path, incoming.bytes.byteLength);
  if (!existing) {
    core.entries.assertPlaceable(path);
    core.assertPersistable(location);
  }
  const mimeType = mimeTypeOf(path, options.mimeType, existing);
  const now = Date.now();
  const createdAt = existing?.createdAt ?? now;
  if (location) core.journalAppend([{ op: 'put', path, content: incoming.bytes, mimeType, createdAt, modifiedAt: now }], path);

  const entry = existing ?? newEntry(path, createdAt, location === undefined);
  setContent(entry, incoming);
  entry.mimeType = mimeType;
  entry.modifiedAt = now;
  entry.revision = core.nextRevision();
  if (!existing) {
    core.entries.add(entry);
    core.persister.cancelRemove(location);
  }
  core.entries.setDirty(entry, location !== undefined);
  const meta = toMeta(entry);
  core.emit({ type: 'file_updated', path, meta, created: !existing, origin: options.origin ?? 'local', ...sourceOf(options) });
  core.settleJournal();
  await core.schedulePersist(entry, location, !existing);
  return core.durability === 'immediate' ? toMeta(entry) : meta;
}

/** The bytes to store: strings are UTF-8 encoded; byte arrays are copied, so the caller may reuse theirs. */
function contentOf(path: string, content: Content): NewContent {
  if (typeof content === 'string') {
    // A string with lone surrogates does not survive UTF-8; only cache it when it does.
    return { bytes: Buffer.from(content, 'utf8'), text: content.isWellFormed() ? content : undefined };
  }
  if (content instanceof Uint8Array) return { bytes: new Uint8Array(content) };
  throw fsErrors.invalid(`content for ${JSON.stringify(path)} must be a string or a Uint8Array`, path);
}

function mimeTypeOf(path: string, requested: string | undefined, existing: Entry | undefined): string {
  if (requested === undefined) return existing?.mimeType ?? mimeTypeFor(path);
  if (typeof requested !== 'string' || requested.trim() === '' || requested.length > 255) {
    throw fsErrors.invalid(`invalid mimeType for ${JSON.stringify(path)}`, path);
  }
  return requested;
}

export function newEntry(path: string, createdAt: number, memoryOnly: boolean): Entry {
  return {
    path,
    content: undefined,
    text: undefined,
    size: 0,
    createdAt,
    modifiedAt: createdAt,
    mimeType: '',
    checksum: undefined,
    revision: 0,
    dirty: false,
    memoryOnly,
  };
}

/** `{ source }` when a source was given, so events do not carry `source: undefined`. */
export function sourceOf(options: { source?: string }): { source?: string } {
  return options.source === undefined ? {} : { source: options.source };
}
