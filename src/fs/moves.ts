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
import { putOp, toMeta, type Entry } from './entries.js';
import type { JournalOp } from './journal-codec.js';
import { sourceOf } from './mutations.js';
import type { Outcome } from './persister.js';
import type { ServerCore } from './server-core.js';

type Pair = [from: string, to: string];

export async function moveFile(core: ServerCore, from: string, to: string, options: ChangeOptions = {}): Promise<MoveResult> {
  const pairs = planMove(core, from, to, options);
  if (pairs.length === 0) return { moved: [] };
  for (const [source, target] of pairs) assertMovable(core, source, target);
  const entries: Entry[] = [];
  for (const [source, target] of pairs) {
    const entry = await core.ensureLoaded(core.entries.get(source)!); // the journal record needs the content
    core.assertSize(target, entry.size);
    entries.push(entry);
  }
  core.journalAppend(journalOps(core, pairs, entries), pairs[0]![0]);
  const outcomes = pairs.map(([source, target], i) => relocate(core, entries[i]!, source, target));
  for (const [i, [source]] of pairs.entries()) {
    core.emit({ type: 'file_moved', from: source, to: entries[i]!.path, meta: toMeta(entries[i]!), origin: options.origin ?? 'local', ...sourceOf(options) });
  }
  core.settleJournal();
  if (core.durability === 'immediate') await throwOnFailure(outcomes.flat(), pairs);
  return { moved: pairs };
}

/** The [from, to] pairs: one for a file, one per file for a prefix. Empty when moving onto itself. */
function planMove(core: ServerCore, from: string, to: string, options: ChangeOptions): Pair[] {
  const file = asFilePath(from);
  if (file !== undefined && core.entries.has(file)) {
    const target = normalizePath(to);
    core.assertRevision(file, core.entries.get(file), options.ifRevision);
    return file === target ? [] : [[file, target]];
  }
  const fromPrefix = normalizePrefix(from);
  if (fromPrefix === '/') throw fsErrors.invalid('cannot move the root directory', '/');
  const sources = core.entries.under(fromPrefix);
  if (sources.length === 0) throw fsErrors.notFound(from);
  if (options.ifRevision !== undefined) {
    throw fsErrors.invalid(`ifRevision applies to a single file, and ${JSON.stringify(from)} is a directory`, from);
  }
  const toPrefix = normalizePrefix(to);
  if (toPrefix === fromPrefix) return [];
  if (toPrefix.startsWith(fromPrefix)) {
    throw fsErrors.invalid(`cannot move ${JSON.stringify(from)} into itself (${JSON.stringify(to)})`, from);
  }
  return sources.map((entry) => [entry.path, toPrefix + entry.path.slice(fromPrefix.length)]);
}

function assertMovable(core: ServerCore, source: string, target: string): void {
  core.writableLocation(source);
  core.writableLocation(target);
  if (core.entries.has(target)) throw fsErrors.exists(target);
  core.entries.assertPlaceable(target);
  core.assertPersistable(core.configs.locate(target));
}

/** put(to) then delete(from) per pair, skipping the sides that are memory-only. */
function journalOps(core: ServerCore, pairs: Pair[], entries: Entry[]): JournalOp[] {
  return pairs.flatMap(([source, target], i): JournalOp[] => {
    const ops: JournalOp[] = [];
    if (core.configs.locate(target)) ops.push({ ...putOp(entries[i]!), path: target });
    if (core.configs.locate(source)) ops.push({ op: 'delete', path: source });
    return ops;
  });
}

/** Re-keys the entry and schedules the copy (or hands it the pending timer) and the delete. */
function relocate(core: ServerCore, entry: Entry, source: string, target: string): Outcome[] {
  const sourceLocation = core.configs.locate(source);
  const targetLocation = core.configs.locate(target);
  core.entries.remove(source);
  entry.path = target;
  entry.revision = core.nextRevision();
  entry.memoryOnly = targetLocation === undefined;
  entry.dirty = false;
  core.entries.add(entry);
  core.entries.setDirty(entry, targetLocation !== undefined);

  const outcomes: Outcome[] = [];
  if (targetLocation) {
    core.persister.cancelRemove(targetLocation);
    if (core.scheduler.has(source) && core.durability !== 'immediate') core.scheduler.move(source, target);
    else outcomes.push(core.persister.persist(target));
  }
  core.scheduler.forget(source);
  if (sourceLocation) outcomes.push(core.persister.remove(source, sourceLocation, targetLocation));
  return outcomes;
}

async function throwOnFailure(outcomes: Outcome[], pairs: Pair[]): Promise<void> {
  const errors = (await Promise.all(outcomes)).filter((e): e is string => e !== undefined);
  if (errors.length > 0) {
    throw fsErrors.io(pairs[0]![1], `${errors.length} operation(s) of the move failed: ${errors.join('; ')}`);
  }
}

/** The input as a normalised file path, or undefined when it can only be a prefix. */
function asFilePath(input: string): string | undefined {
  try {
    return normalizePath(input);
  } catch {
    return undefined;
  }
}
