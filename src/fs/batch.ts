/**
 * Several writes and deletes as one change: planned together against the
 * current state (every check of every item runs before anything is
 * touched), journaled as one record, applied in one mailbox step. A crash
 * replays all of it or none of it, and no reader ever sees part of it. A
 * checkpoint restore and a transaction commit are batches.
 *
 * Its events carry one batch id (ChangeAuthor.batch), by which sync pushes
 * the batch as one all-or-none store batch.
 *
 * A path may appear once per batch. New files are checked for placement
 * against the state the whole batch leaves behind, so a batch may delete
 * the file `/a` and create `/a/b`, but not create both.
 */
import { ScopeFsError, fsErrors } from '../errors.js';
import { dirname, normalizePath } from '../paths.js';
import type { BatchItem, BatchResult, ChangeOptions } from '../types.js';
import { markBatch, newChange, type Change, type FsCore, type FsView } from './change.js';
import { toMeta } from './entries.js';
import { contentOf, planContent, planDelete } from './mutations.js';

/** Most items one batch may hold: one journal record carries them all. */
export const MAX_BATCH_ITEMS = 10_000;

interface Planned {
  puts: Array<{ path: string; item: Extract<BatchItem, { content: unknown }> }>;
  deletes: Array<{ path: string; item: Extract<BatchItem, { delete: true }> }>;
}

export function applyBatch(core: FsCore, items: readonly BatchItem[], options: ChangeOptions = {}): Promise<BatchResult> | BatchResult {
  const planned = sortItems(items);
  const change = planBatch(core, planned, options);
  const result = (): BatchResult => ({
    written: planned.puts.map(({ path }) => toMeta(core.entry(path)!)),
    deleted: planned.deletes.map(({ path }) => path),
  });
  const waiting = change.journal.length + change.entries.length === 0 ? undefined : core.apply(change);
  return waiting ? waiting.then(result) : result();
}

/** Validated, normalised items: deletes and puts apart, each path once. */
function sortItems(items: readonly BatchItem[]): Planned {
  if (!Array.isArray(items)) throw fsErrors.invalid('a batch is an array of { path, content } and { path, delete: true } items');
  if (items.length > MAX_BATCH_ITEMS) {
    throw fsErrors.invalid(`a batch holds at most ${MAX_BATCH_ITEMS} items, got ${items.length}; split it into several batches`);
  }
  const seen = new Set<string>();
  const planned: Planned = { puts: [], deletes: [] };
  for (const item of items) {
    if (typeof item !== 'object' || item === null || typeof item.path !== 'string') {
      throw fsErrors.invalid('every batch item needs a path: { path, content } to write, { path, delete: true } to delete');
    }
    const path = normalizePath(item.path);
    if (seen.has(path)) throw fsErrors.invalid(`${JSON.stringify(path)} appears twice in one batch; give each path once`, path);
    seen.add(path);
    if ('delete' in item && item.delete === true) planned.deletes.push({ path, item });
    else if ('content' in item) planned.puts.push({ path, item });
    else throw fsErrors.invalid(`batch item ${JSON.stringify(path)} needs content to write, or delete: true`, path);
  }
  return planned;
}

/** One Change holding every item's: deletes first, so a file deleted here may become a directory. */
function planBatch(core: FsCore, planned: Planned, options: ChangeOptions): Change {
  if (options.ifRevision !== undefined) throw fsErrors.invalid('a batch takes ifRevision on each item ({ path, content, ifRevision }), not for the whole batch');
  const deleted = new Set(planned.deletes.map(({ path }) => path));
  const created = new Set(planned.puts.filter(({ path }) => !core.entry(path)).map(({ path }) => path));
  assertPlacement(core, created, deleted);
  // Placement was checked above against the batch's end state; each item's own checks run as for a single call.
  const view: FsView = Object.assign(Object.create(core) as FsView, { assertPlaceable: () => undefined });
  const parts = [
    ...planned.deletes.map(({ path, item }) => planDelete(view, path, { ...options, ifRevision: item.ifRevision })),
    ...planned.puts.map(({ path, item }) =>
      planContent(view, path, contentOf(path, item.content), { ...options, ifRevision: item.ifRevision, mimeType: item.mimeType }),
    ),
  ];
  const subject = parts[0]?.subject ?? '/';
  const change = newChange(subject, options, core.durability);
  if (parts.length > 1) markBatch(change);
  for (const part of parts) {
    change.journal.push(...part.journal);
    change.entries.push(...part.entries);
    change.persist.push(...part.persist);
    change.events.push(...part.events);
  }
  return change;
}

/**
 * EEXIST/EINVAL unless every new file fits the tree the batch leaves: no
 * file above it, no file below it. The current tree is checked first (a
 * lookup per ancestor); only a path it refuses is looked at again with the
 * batch's deletes in mind, which scans the entries under it.
 */
function assertPlacement(view: FsView, created: ReadonlySet<string>, deleted: ReadonlySet<string>): void {
  const createdDirs = new Set<string>();
  for (const path of created) for (let dir = dirname(path); dir !== '/' && !createdDirs.has(dir); dir = dirname(dir)) createdDirs.add(dir);
  for (const path of created) {
    if (createdDirs.has(path)) {
      throw fsErrors.invalid(`one batch cannot create both the file ${JSON.stringify(path)} and files under it; drop one of them`, path);
    }
    try {
      view.assertPlaceable(path);
    } catch (err) {
      if (deleted.size === 0) throw err;
      // At this point the current tree refuses the path: it may not once the batch's deletes are done.
      for (let dir = dirname(path); dir !== '/'; dir = dirname(dir)) if (view.entry(dir) && !deleted.has(dir)) throw underFile(path, dir);
      if (view.under(`${path}/`).some((entry) => !deleted.has(entry.path))) throw directory(path);
    }
  }
}

const directory = (path: string) => new ScopeFsError('EEXIST', `${JSON.stringify(path)} is a directory`, { path });
const underFile = (path: string, dir: string) => fsErrors.invalid(`cannot create ${JSON.stringify(path)}: ${JSON.stringify(dir)} is a file`, path);
