/**
 * A change to the file table, as data. A mutation (mutations.ts, moves.ts,
 * the disk replica) reads the current state through an FsView, validates,
 * and describes what must happen: the journal record, the entry updates,
 * the persistence to schedule and the events to emit. Nothing is touched
 * until `applyChange` carries it out, in one place and in one order:
 *
 *   revisions → journal record (carrying the audit entries) → entries →
 *   persistence → events → journal settling,
 *
 * and, with immediate durability, waits for the writes and deletes it
 * scheduled. Every check that can fail runs while planning, and the journal
 * append comes before anything is touched, so a rejected change leaves no
 * trace (but a gap in the revisions).
 *
 * A write builds one Change with an item or two in each list; applying it
 * reads them in place and copies nothing (an object spread per write costs
 * measurably on a path of about 20 µs).
 */
import { randomBytes } from 'node:crypto';
import type { AuditEntry } from '../audit/types.js';
import { fsErrors } from '../errors.js';
import type { ChangeAuthor, ChangeOptions, Durability, EntryMeta, FsEvent, Origin } from '../types.js';
import type { Location } from './configs.js';
import { newEntry, setContent, toMeta, type Entry, type EntryTable, type NewContent } from './entries.js';
import type { HistoryRecorder } from './history-recorder.js';
import { noteChange } from './history-notes.js';
import type { JournalKeeper } from './journal-keeper.js';
import type { JournalOp } from './journal-codec.js';
import type { LoadedEntry } from './loads.js';
import type { Outcome, Persister } from './persister.js';
import type { PersistScheduler } from './persist-scheduler.js';
import type { Subscribers } from './events.js';

export type EntryUpdate =
  /** New content at `path`: `existing` is updated in place; without one, a new entry is added. */
  | {
      kind: 'put';
      path: string;
      existing: Entry | undefined;
      content: NewContent;
      mimeType: string;
      createdAt: number;
      modifiedAt: number;
      /** For a new entry: no config covers the path. */
      memoryOnly: boolean;
      /** Memory will differ from the driver (false when memory takes what the disk holds). */
      dirty: boolean;
      /** Set by applyChange: the entry's new revision. */
      revision?: number;
    }
  | { kind: 'remove'; path: string }
  /** `entry` is re-keyed from `from` to `to`; `revision` is set by applyChange. */
  | { kind: 'move'; entry: Entry; from: string; to: string; memoryOnly: boolean; dirty: boolean; revision?: number }
  /** Only the dirty flag changes: memory was found equal to the disk, or must be written back. */
  | { kind: 'mark'; path: string; dirty: boolean };

export type PersistIntent =
  /** Write `path` now (with immediate durability, the change waits for it). */
  | { kind: 'write'; path: string }
  /** Write `path` once its debounce window has passed; every update restarts the window. */
  | { kind: 'debounce'; path: string; delayMs: number }
  /** Delete the stored copy of `path` at `location`, after anything queued for `after`. */
  | { kind: 'delete'; path: string; location: Location; after: Location | undefined }
  /** A new file at `location` supersedes a pending delete there. */
  | { kind: 'cancel_delete'; location: Location }
  /** The pending timer (and failure count) of `from` follows the file to `to`. */
  | { kind: 'move_timer'; from: string; to: string }
  /** The file is gone: drop its timer and failure count. */
  | { kind: 'forget'; path: string }
  /** The file is clean: drop its timer. */
  | { kind: 'cancel'; path: string };

/** An event to emit once the entries are updated; its metadata is read from them then. */
export type EventIntent =
  | { type: 'file_updated'; path: string; created: boolean }
  /** `revision` is set by applyChange: the revision the delete took. */
  | { type: 'file_deleted'; path: string; revision?: number }
  | { type: 'file_moved'; from: string; to: string };

export interface Change {
  origin: Origin;
  source: string | undefined;
  actor: string | undefined;
  /** Set for a batch of two or more items: its events carry it (ChangeAuthor.batch). */
  batch: string | undefined;
  /** The path an EIO names (a failed journal append, or a failed write the change waited for). */
  subject: string;
  /** Appended as one record before anything else; empty when only memory-only paths change. */
  journal: JournalOp[];
  entries: EntryUpdate[];
  persist: PersistIntent[];
  events: EventIntent[];
  /** Wait for the writes and deletes in `persist`: EIO when one fails (immediate durability). */
  waitForPersist: boolean;
  /** How a failure the change waited for is reported: its own error, or counted among a move's operations. */
  failure: 'first' | 'move';
  /** Filled in by applyChange: the metadata of the last file_updated event, which a write answers. */
  meta: EntryMeta | undefined;
}

/**
 * A change about `subject`, with its lists as given (a plan that knows its
 * items passes them as array literals, sized exactly; the first push onto
 * an empty array allocates room for 17), or empty, to be pushed onto.
 */
export function newChange(
  subject: string,
  options: ChangeOptions,
  durability: Durability,
  journal: JournalOp[] = [],
  entries: EntryUpdate[] = [],
  persist: PersistIntent[] = [],
  events: EventIntent[] = [],
): Change {
  return {
    origin: options.origin ?? 'local',
    source: options.source,
    actor: options.actor,
    batch: undefined,
    subject,
    journal,
    entries,
    persist,
    events,
    waitForPersist: durability === 'immediate',
    failure: 'first',
    meta: undefined,
  };
}

/** Marks a change of several paths as one batch: its events carry the id (ChangeAuthor.batch). */
export function markBatch(change: Change): void {
  change.batch = randomBytes(8).toString('hex');
}

/** What a plan reads: the current state, and the checks a change must pass. Planning changes nothing. */
export interface FsView {
  readonly durability: Durability;
  entry(path: string): Entry | undefined;
  /** Entries under a normalised prefix, sorted by path. */
  under(prefix: string): Entry[];
  /** The location `path` persists to; undefined when memory-only. */
  locate(path: string): Location | undefined;
  /** `locate`, but EROFS when the location is readonly. */
  writableLocation(path: string): Location | undefined;
  /** EINVAL when a new file at `location` could never be persisted. */
  assertPersistable(location: Location | undefined): void;
  /** EFBIG when `bytes` is over the limit for `path`. */
  assertSize(path: string, bytes: number): void;
  /** ESTALE unless the file is at `expected` (0: must not exist). */
  assertRevision(path: string, entry: Entry | undefined, expected: number | undefined): void;
  /** EEXIST/EINVAL unless a new file can be placed at `path`. */
  assertPlaceable(path: string): void;
  /** ELOCKED when a lock covers `path` and the change does not present its token; ESTALE for a dead token (local changes only). */
  assertUnlocked(path: string, options: ChangeOptions): void;
  /** Whether `path` has a persist timer pending. */
  hasTimer(path: string): boolean;
}

/** What a mutation handler works with: the view, lazy loads, and applying its change. */
export interface FsCore extends FsView {
  ensureLoaded(entry: Entry): Promise<LoadedEntry>;
  apply(change: Change): Promise<void> | undefined;
}

/** The services a change is applied to. */
export interface ChangeTarget {
  journal: JournalKeeper;
  entries: EntryTable;
  persister: Persister;
  scheduler: PersistScheduler;
  subscribers: Subscribers;
  nextRevision(): number;
  /** Where applied versions are recorded (history-notes.ts); absent without history. */
  history?: HistoryRecorder;
  /** Where who changed what is recorded (audit-recorder.ts); absent when auditing is off. */
  audit?: ChangeAudit;
}

/**
 * A change's audit entries, and each as its line of JSON (audit-line.ts):
 * made once, for the journal record that carries them and then for the log.
 */
export interface ChangeEntries {
  entries: AuditEntry[];
  lines: string[];
}

/** The audit log as the filesystem server sees it: applyChange, the journal keeper and the journal's recovery (implemented by AuditRecorder). */
export interface ChangeAudit {
  /** The change's entries, stamped; undefined when it reports nothing. Made before its journal record, which carries them. */
  entriesOf(change: Change): ChangeEntries | undefined;
  /** Entries the change's journal record carries: durable already, written to the log later (see `flush`). */
  carried(made: ChangeEntries): void;
  /** Entries no journal record carries (no journal, memory-only paths): written durably now. */
  record(made: ChangeEntries): void;
  /** Writes every carried entry to the log: called before the journal drops the records that carry them. */
  flush(): void;
  /** At start, the entries of the records a previous run left: written to the log unless it holds them. */
  recover(entries: AuditEntry[]): void;
}

/** Carries out `change`; returns a promise only when it waits for persistence. */
export function applyChange(target: ChangeTarget, change: Change): Promise<void> | undefined {
  assignRevisions(target, change);
  const audit = target.audit;
  const made = audit?.entriesOf(change);
  const carried = target.journal.append(change.journal, change.subject, made?.lines);
  if (made) (carried ? audit!.carried(made) : audit!.record(made));
  for (const update of change.entries) updateEntry(target, update);
  if (target.history) noteChange(target.history, target.entries, change);
  const outcomes: Outcome[] | undefined = change.waitForPersist ? [] : undefined;
  for (const intent of change.persist) schedule(target, intent, outcomes);
  for (const intent of change.events) target.subscribers.emit(eventOf(target, change, intent));
  target.journal.settle();
  return outcomes && outcomes.length > 0 ? throwOnFailure(outcomes, change) : undefined;
}

/**
 * The revisions the change takes, before anything is applied (its audit
 * entries name them, and the journal record that carries those comes first):
 * one per put and move, then one per delete, in order. A change the journal
 * refuses leaves a gap in the sequence, nothing else.
 */
function assignRevisions(target: ChangeTarget, change: Change): void {
  for (const update of change.entries) if (update.kind === 'put' || update.kind === 'move') update.revision = target.nextRevision();
  for (const intent of change.events) if (intent.type === 'file_deleted') intent.revision = target.nextRevision();
}

/** The revision `path` takes in `change`: its last put or move there (0 when none, which a planned event never lacks). */
export function revisionIn(change: Change, path: string): number {
  for (let i = change.entries.length - 1; i >= 0; i--) {
    const update = change.entries[i]!;
    if ((update.kind === 'put' && update.path === path) || (update.kind === 'move' && update.to === path)) return update.revision ?? 0;
  }
  return 0;
}

function updateEntry(target: ChangeTarget, update: EntryUpdate): void {
  const { entries } = target;
  switch (update.kind) {
    case 'put': {
      const entry = update.existing ?? newEntry(update.path, update.createdAt, update.memoryOnly);
      setContent(entry, update.content);
      entry.mimeType = update.mimeType;
      entry.modifiedAt = update.modifiedAt;
      entry.revision = update.revision!;
      if (!update.existing) entries.add(entry);
      entries.setDirty(entry, update.dirty);
      return;
    }
    case 'remove':
      entries.remove(update.path);
      return;
    case 'move': {
      const { entry } = update;
      entries.remove(update.from);
      entry.path = update.to;
      entry.revision = update.revision!;
      entry.memoryOnly = update.memoryOnly;
      entry.dirty = false;
      entries.add(entry);
      entries.setDirty(entry, update.dirty);
      return;
    }
    case 'mark': {
      const entry = entries.get(update.path);
      if (entry) entries.setDirty(entry, update.dirty);
      return;
    }
  }
}

function schedule(target: ChangeTarget, intent: PersistIntent, outcomes: Outcome[] | undefined): void {
  const { persister, scheduler } = target;
  switch (intent.kind) {
    case 'write': {
      const outcome = persister.persist(intent.path);
      outcomes?.push(outcome);
      return;
    }
    case 'debounce':
      if (target.entries.get(intent.path)?.dirty) scheduler.debounce(intent.path, intent.delayMs);
      return;
    case 'delete': {
      const outcome = persister.remove(intent.path, intent.location, intent.after);
      outcomes?.push(outcome);
      return;
    }
    case 'cancel_delete':
      persister.cancelRemove(intent.location);
      return;
    case 'move_timer':
      scheduler.move(intent.from, intent.to);
      return;
    case 'forget':
      scheduler.forget(intent.path);
      return;
    case 'cancel':
      scheduler.cancel(intent.path);
      return;
  }
}

function eventOf(target: ChangeTarget, change: Change, intent: EventIntent): FsEvent {
  const author = authorOf(change);
  switch (intent.type) {
    case 'file_updated': {
      const meta = toMeta(target.entries.get(intent.path)!);
      change.meta = meta;
      return { type: 'file_updated', path: intent.path, meta, created: intent.created, origin: change.origin, ...author };
    }
    case 'file_deleted':
      return { type: 'file_deleted', path: intent.path, revision: intent.revision!, origin: change.origin, ...author };
    case 'file_moved': {
      const meta = toMeta(target.entries.get(intent.to)!);
      return { type: 'file_moved', from: intent.from, to: intent.to, meta, origin: change.origin, ...author };
    }
  }
}

/** The change's source, actor and batch, only those that are set (events stay free of `undefined` keys). */
function authorOf(change: Change): ChangeAuthor {
  if (change.source === undefined && change.actor === undefined && change.batch === undefined) return {};
  const author: ChangeAuthor = {};
  if (change.source !== undefined) author.source = change.source;
  if (change.actor !== undefined) author.actor = change.actor;
  if (change.batch !== undefined) author.batch = change.batch;
  return author;
}

async function throwOnFailure(outcomes: Outcome[], change: Change): Promise<void> {
  const errors = (await Promise.all(outcomes)).filter((e): e is string => e !== undefined);
  if (errors.length === 0) return;
  if (change.failure === 'first') throw fsErrors.io(change.subject, errors[0]);
  // change.failure === 'move'
  throw fsErrors.io(change.subject, `${errors.length} operation(s) of the move failed: ${errors.join('; ')}`);
}
