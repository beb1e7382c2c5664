/**
 * The content-changing handlers: write, append, edit, delete. Each plans a
 * Change from the current state (every check that can fail runs here, so a
 * rejected call leaves no trace), then hands it to the core to apply (see
 * change.ts for the order).
 */
import { isUtf8 } from '../content.js';
import { fsErrors } from '../errors.js';
import { normalizePath } from '../paths.js';
import type { ChangeOptions, Content, EntryMeta, WriteOptions } from '../types.js';
import { newChange, type Change, type EntryUpdate, type EventIntent, type FsCore, type FsView, type PersistIntent } from './change.js';
import { textOf, toMeta, type Entry, type NewContent } from './entries.js';
import type { JournalOp } from './journal-codec.js';
import { OwnedContent } from './large-content.js';
import { mimeTypeFor } from './mime.js';

export function writeFile(core: FsCore, path: string, content: Content | OwnedContent, options: WriteOptions = {}): Promise<EntryMeta> | EntryMeta {
  const target = normalizePath(path);
  return putContent(core, planContent(core, target, contentOf(target, content), options));
}

/** Appends to a file, creating it when missing. */
export async function appendFile(core: FsCore, path: string, content: Content, options: ChangeOptions = {}): Promise<EntryMeta> {
  const target = normalizePath(path);
  const addition = contentOf(target, content);
  const existing = core.entry(target);
  if (!existing) return putContent(core, planContent(core, target, addition, options));
  core.writableLocation(target); // EROFS before paying for a load
  const loaded = await core.ensureLoaded(existing);
  const bytes = Buffer.concat([loaded.content, addition.bytes]);
  const text = loaded.text !== undefined && addition.text !== undefined ? loaded.text + addition.text : undefined;
  return putContent(core, planContent(core, target, { bytes, text }, options));
}

/** Replaces the single occurrence of `oldStr`; EINVAL (with the match count) unless there is exactly one. */
export async function editFile(core: FsCore, path: string, oldStr: string, newStr: string, options: ChangeOptions = {}): Promise<EntryMeta> {
  const target = normalizePath(path);
  if (typeof oldStr !== 'string' || oldStr === '') throw fsErrors.invalid(`editFile ${JSON.stringify(target)}: the old string must be a non-empty string`, target);
  if (typeof newStr !== 'string') throw fsErrors.invalid(`editFile ${JSON.stringify(target)}: the new string must be a string`, target);
  const entry = core.entry(target);
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
  return putContent(core, planContent(core, target, { bytes: Buffer.from(edited, 'utf8'), text: edited }, options));
}

export function deleteFile(core: FsCore, path: string, options: ChangeOptions = {}): Promise<void> | undefined {
  return core.apply(planDelete(core, normalizePath(path), options));
}

/** Applies a content change and answers the file's metadata (after persistence, with immediate durability). */
export function putContent(core: FsCore, change: Change): Promise<EntryMeta> | EntryMeta {
  const waiting = core.apply(change);
  if (!waiting) return change.meta!;
  return waiting.then(() => toMeta(core.entry(change.subject)!));
}

/** The change that gives `path` new content: a new file persists at once, an update after its debounce. */
export function planContent(view: FsView, path: string, incoming: NewContent, options: WriteOptions): Change {
  const existing = view.entry(path);
  view.assertUnlocked(path, options);
  view.assertRevision(path, existing, options.ifRevision);
  const location = view.writableLocation(path);
  view.assertSize(path, incoming.bytes.byteLength);
  if (!existing) {
    view.assertPlaceable(path);
    view.assertPersistable(location);
  }
  const mimeType = mimeTypeOf(path, options.mimeType, existing);
  const modifiedAt = Date.now();
  const createdAt = existing?.createdAt ?? modifiedAt;
  const memoryOnly = location === undefined;
  const update: EntryUpdate = { kind: 'put', path, existing, content: incoming, mimeType, createdAt, modifiedAt, memoryOnly, dirty: !memoryOnly };
  const event: EventIntent = { type: 'file_updated', path, created: !existing };
  if (!location) return newChange(path, options, view.durability, [], [update], [], [event]);
  const op: JournalOp = { op: 'put', path, content: incoming.bytes, mimeType, createdAt, modifiedAt };
  if (incoming.ref !== undefined) op.ref = incoming.ref; // the journal record references the side file
  // A new file persists at once, an update once its debounce window has passed; immediate durability waits
  // for either. A change that arrived by sync is written at once too: the debounce exists to coalesce a
  // local burst, and the journal already holds the change, so waiting only delays the other instances' disks.
  const persistNow = view.durability === 'immediate' || options.origin === 'sync';
  const persist: PersistIntent[] = existing
    ? [persistNow ? { kind: 'write', path } : { kind: 'debounce', path, delayMs: location.config.debounceMs }]
    : [{ kind: 'cancel_delete', location }, { kind: 'write', path }];
  return newChange(path, options, view.durability, [op], [update], persist, [event]);
}

/** The change that deletes `path`: from memory at once, from its driver right after. */
export function planDelete(view: FsView, path: string, options: ChangeOptions): Change {
  const entry = view.entry(path);
  if (!entry) throw fsErrors.notFound(path);
  view.assertUnlocked(path, options);
  view.assertRevision(path, entry, options.ifRevision);
  const location = view.writableLocation(path);
  const update: EntryUpdate = { kind: 'remove', path };
  const event: EventIntent = { type: 'file_deleted', path };
  if (!location) return newChange(path, options, view.durability, [], [update], [{ kind: 'forget', path }], [event]);
  const persist: PersistIntent[] = [{ kind: 'forget', path }, { kind: 'delete', path, location, after: undefined }];
  return newChange(path, options, view.durability, [{ op: 'delete', path }], [update], persist, [event]);
}

/** The bytes to store: strings are UTF-8 encoded; byte arrays are copied, so the caller may reuse theirs. */
export function contentOf(path: string, content: Content | OwnedContent): NewContent {
  if (content instanceof OwnedContent) return content.content; // copied and hashed already, in chunks
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
