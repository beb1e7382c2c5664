/**
 * Moving a file, or every file under a prefix, as one change: one journal
 * record, all or nothing.
 *
 * Persistence of a move is "copy, then delete": the file is written under
 * its new path (at once, or when its pending debounce timer fires: timers
 * follow the file) and the old copy is deleted. The same steps work when
 * source and target belong to different persistence configs, so moves
 * across drivers are supported rather than refused. The write is queued
 * before the delete, so a crash in between leaves two copies, never none;
 * when a debounce timer defers the write, the journal (journal mode) or a
 * clean stop's flush (other modes) covers the gap.
 */
import { fsErrors } from '../errors.js';
import { normalizePath, normalizePrefix } from '../paths.js';
import type { ChangeOptions, MoveResult } from '../types.js';
import { markBatch, newChange, type Change, type FsCore, type FsView } from './change.js';
import { putOp, type Entry } from './entries.js';

type Pair = [from: string, to: string];

export async function moveFile(core: FsCore, from: string, to: string, options: ChangeOptions = {}): Promise<MoveResult> {
  const pairs = planPairs(core, from, to, options);
  if (pairs.length === 0) return { moved: [] };
  for (const [source, target] of pairs) assertMovable(core, source, target);
  const entries: Entry[] = [];
  for (const [source, target] of pairs) {
    const entry = await core.ensureLoaded(core.entry(source)!); // the journal record needs the content
    core.assertSize(target, entry.size);
    entries.push(entry);
  }
  await core.apply(planMove(core, pairs, entries, options));
  return { moved: pairs };
}

/** The [from, to] pairs: one for a file, one per file for a prefix. Empty when moving onto itself. */
function planPairs(view: FsView, from: string, to: string, options: ChangeOptions): Pair[] {
  const file = asFilePath(from);
  const entry = file === undefined ? undefined : view.entry(file);
  if (file !== undefined && entry) {
    const target = normalizePath(to);
    view.assertRevision(file, entry, options.ifRevision);
    return file === target ? [] : [[file, target]];
  }
  const fromPrefix = normalizePrefix(from);
  if (fromPrefix === '/') throw fsErrors.invalid('cannot move the root directory', '/');
  const sources = view.under(fromPrefix);
  if (sources.length === 0) throw fsErrors.notFound(from);
  if (options.ifRevision !== undefined) {
    throw fsErrors.invalid(`ifRevision applies to a single file, and ${JSON.stringify(from)} is a directory`, from);
  }
  const toPrefix = normalizePrefix(to);
  if (toPrefix === fromPrefix) return [];
  if (toPrefix.startsWith(fromPrefix)) {
    throw fsErrors.invalid(`cannot move ${JSON.stringify(from)} into itself (${JSON.stringify(to)})`, from);
  }
  return sources.map((e) => [e.path, toPrefix + e.path.slice(fromPrefix.length)]);
}

function assertMovable(view: FsView, source: string, target: string): void {
  view.writableLocation(source);
  view.writableLocation(target);
  if (view.entry(target)) throw fsErrors.exists(target);
  view.assertPlaceable(target);
  view.assertPersistable(view.locate(target));
}

/**
 * One journal record (put(to) then delete(from) per pair, skipping the
 * sides that are memory-only); per pair, the entry re-keyed, its copy
 * written (or its pending timer handed over) and the old copy deleted.
 */
function planMove(view: FsView, pairs: Pair[], entries: Entry[], options: ChangeOptions): Change {
  // Both ends: moving a file away from a locked path deletes it there, moving it into one writes there.
  for (const [source, target] of pairs) {
    view.assertUnlocked(source, options);
    view.assertUnlocked(target, options);
  }
  const change = newChange(pairs[0]![1], options, view.durability);
  change.failure = 'move';
  if (pairs.length > 1) markBatch(change);
  const immediate = view.durability === 'immediate';
  for (const [i, [source, target]] of pairs.entries()) {
    const entry = entries[i]!;
    const sourceLocation = view.locate(source);
    const targetLocation = view.locate(target);
    if (targetLocation) change.journal.push(putOp(entry, target));
    if (sourceLocation) change.journal.push({ op: 'delete', path: source });
    change.entries.push({ kind: 'move', entry, from: source, to: target, memoryOnly: !targetLocation, dirty: targetLocation !== undefined });
    if (targetLocation) {
      change.persist.push({ kind: 'cancel_delete', location: targetLocation });
      if (view.hasTimer(source) && !immediate) change.persist.push({ kind: 'move_timer', from: source, to: target });
      else change.persist.push({ kind: 'write', path: target });
    }
    change.persist.push({ kind: 'forget', path: source });
    if (sourceLocation) change.persist.push({ kind: 'delete', path: source, location: sourceLocation, after: targetLocation });
    change.events.push({ type: 'file_moved', from: source, to: target });
  }
  return change;
}

/** The input as a normalised file path, or undefined when it can only be a prefix. */
function asFilePath(input: string): string | undefined {
  try {
    return normalizePath(input);
  } catch {
    return undefined;
  }
}
