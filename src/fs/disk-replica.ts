/**
 * The disk as a replica of the scope. When a disk event arrives, or a
 * conditional write or delete finds another version on disk, the path is
 * checked: the disk is read in turn with that location's writes (see
 * Persister.check), then, back in the mailbox, `planDisk` decides and this
 * module carries the plan out. Nothing here chooses; it only applies.
 *
 * Reads made before one of our own writes landed are recognised by the
 * base's generation and simply read again, so a burst of writes never makes
 * the server's own older file look like an outside edit.
 */
import { sha256 } from '../content.js';
import { normalizePath } from '../paths.js';
import { conflictCopyPath } from '../sync/conflict-copy.js';
import type { DiskAlert, DiskAlertRecord, FsEvent } from '../types.js';
import { isVersioned } from '../../persistence/drivers/types.js';
import { newChange, type FsCore } from './change.js';
import type { ConfigTable } from './configs.js';
import type { DiskBases } from './disk-bases.js';
import { checksumOf } from './entries.js';
import { planDisk, type DiskPlan, type DiskSide, type MemorySide } from './disk-plan.js';
import type { CastPort } from './messages.js';
import { mimeTypeFor } from './mime.js';
import { planContent } from './mutations.js';
import type { JournalOp } from './journal-codec.js';
import type { DiskCheck, Persister } from './persister.js';

export interface ReplicaDeps {
  /** Reads state and applies the changes a plan calls for. */
  core: FsCore;
  bases: DiskBases;
  /** Reads the disk in turn with the location's writes. */
  persister: Pick<Persister, 'check'>;
  emit: (event: FsEvent) => void;
  /** The server's mailbox: a finished disk read comes back as a `disk_read` cast. */
  cast: CastPort;
}

/** The instance label of conflict copies made for outside edits. */
const DISK_CONFLICT_LABEL = 'disk';

/** One check of a path: its disk read (outside the mailbox), settled once, by its `disk_read` cast or by `drain`. */
interface Ticket {
  id: number;
  read: Promise<{ found: DiskCheck } | { error: unknown }>;
  settled: boolean;
}

/** How many alerts `stats()` keeps. */
const RECENT_ALERTS = 20;

/** How many rounds `drain` settles before it gives up on a disk that keeps changing under it. */
const MAX_DRAIN_ROUNDS = 100;

export class DiskReplica {
  /** Paths with a check queued or running. */
  private readonly inflight = new Map<string, Ticket>();
  /** Paths that got another event while being checked: checked once more afterwards. */
  private readonly recheck = new Set<string>();
  /** Callers waiting for a path's check to be carried out. */
  private readonly waiters = new Map<string, Array<() => void>>();
  private readonly recent: DiskAlertRecord[] = [];
  private lastTicket = 0;

  constructor(private readonly deps: ReplicaDeps) {}

  /**
   * `check` for a name as it is on disk. A name that is not a canonical
   * virtual path is never taken in: an NFD `café.md` would otherwise become
   * the same file as an NFC one beside it, and deleting one would delete both.
   */
  checkName(name: string): Promise<void> {
    let path: string;
    try {
      path = normalizePath(name);
    } catch (err) {
      this.skipped(name, err instanceof Error ? err.message : String(err), false);
      return Promise.resolve();
    }
    if (path === name) return this.check(path);
    this.skipped(name, `its name is not in Unicode NFC form (${JSON.stringify(path)} is)`, this.deps.core.entry(path) !== undefined);
    return Promise.resolve();
  }

  /** A file on disk not taken in because of its name; `collides` when its canonical twin is there too. */
  skipped(name: string, reason: string, collides: boolean): void {
    if (collides) {
      const message = `${JSON.stringify(name)} on disk differs from a file beside it only in Unicode normalisation; only the NFC name is served, and neither file is changed: rename or remove one of them`;
      return this.alert(name, 'collision', message);
    }
    this.alert(name, 'refused', `the file ${JSON.stringify(name)} on disk is not taken in: ${reason}; rename it`);
  }

  /**
   * Reconciles `path` with what the disk holds now. Runs in the mailbox and
   * returns at once; the promise resolves once the outcome is applied.
   */
  check(path: string): Promise<void> {
    const location = this.deps.core.locate(path);
    if (!location || location.config.readonly || !isVersioned(location.config.driver)) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.waiters.set(path, [...(this.waiters.get(path) ?? []), resolve]));
    if (this.inflight.has(path)) {
      this.recheck.add(path);
      return done;
    }
    const ticket: Ticket = {
      id: ++this.lastTicket,
      read: this.deps.persister.check(path, location).then(
        (found) => ({ found }),
        (error: unknown) => ({ error }),
      ),
      settled: false,
    };
    this.inflight.set(path, ticket);
    void ticket.read.then(() => this.deps.cast({ type: 'disk_read', path, ticket: ticket.id }));
    return done;
  }

  /** The `disk_read` cast: applies what check `id` found, unless `drain` already has. */
  readDone(path: string, id: number): Promise<void> | undefined {
    const ticket = this.inflight.get(path);
    return ticket?.id === id ? this.settle(path, ticket) : undefined;
  }

  /** Whether any check is under way. */
  get busy(): boolean {
    return this.inflight.size > 0;
  }

  /**
   * Settles every check under way, and those they start, from inside a
   * handler (flush, stop): their casts would only be handled after it.
   */
  async drain(): Promise<void> {
    for (let round = 0; round < MAX_DRAIN_ROUNDS && this.inflight.size > 0; round++) {
      for (const [path, ticket] of [...this.inflight]) {
        await ticket.read;
        await this.settle(path, ticket);
      }
    }
  }

  /** Tells subscribers (and `stats()`) about a problem with the disk that nobody asked about. */
  alert(path: string, alert: DiskAlert, message: string): void {
    this.recent.push({ alert, path, message, at: new Date().toISOString() });
    if (this.recent.length > RECENT_ALERTS) this.recent.shift();
    this.deps.emit({ type: 'disk_alert', alert, path, message, origin: 'disk' });
  }

  /** The most recent alerts, oldest first: what status shows, including those raised before anyone subscribed. */
  get alerts(): DiskAlertRecord[] {
    return this.recent.map((record) => ({ ...record }));
  }

  private async settle(path: string, ticket: Ticket): Promise<void> {
    if (ticket.settled) return;
    ticket.settled = true;
    if (this.inflight.get(path) === ticket) this.inflight.delete(path);
    const outcome = await ticket.read;
    if ('error' in outcome) return this.failed(path, outcome.error);
    const { found } = outcome;
    if (found.found === 'refused') this.alert(path, 'refused', found.reason);
    if (found.found === 'file') {
      if (found.generation !== this.deps.bases.generation(path)) this.recheck.add(path); // overtaken by our own write
      else await this.apply(path, found.file && { version: found.file.version, content: found.file.content, hash: sha256(found.file.content) });
    }
    if (this.recheck.delete(path)) this.restart(path);
    else this.release(path);
  }

  private failed(path: string, err: unknown): void {
    this.recheck.delete(path);
    this.alert(path, 'unreadable', `could not read ${JSON.stringify(path)} from disk: ${err instanceof Error ? err.message : String(err)}`);
    this.release(path);
  }

  /** Checks again for the callers already waiting. */
  private restart(path: string): void {
    const waiting = this.waiters.get(path) ?? [];
    this.waiters.delete(path);
    void this.check(path).then(() => waiting.forEach((resolve) => resolve()));
  }

  private release(path: string): void {
    const waiting = this.waiters.get(path) ?? [];
    this.waiters.delete(path);
    for (const resolve of waiting) resolve();
  }

  private async apply(path: string, disk: DiskSide | null): Promise<void> {
    const { core, bases } = this.deps;
    const entry = core.entry(path);
    const memory: MemorySide | null = entry ? { hash: entry.content ? checksumOf(entry as typeof entry & { content: Uint8Array }) : undefined, content: entry.content } : null;
    const previous = bases.get(path);
    const plan = planDisk(path, memory, previous, disk);
    bases.set(path, plan.base);
    const applied = await this.applyMemory(path, plan, disk);
    // The outside version is journaled as a copy before anything may replace it on disk.
    const beside = plan.conflict ?? (applied.ok ? undefined : { content: disk!.content, reason: applied.reason });
    if (beside && !(await this.keepBeside(path, beside.content, beside.reason))) {
      bases.set(path, previous); // not kept: the next write finds it again instead of replacing it
      return;
    }
    this.applyDisk(path, plan);
  }

  /** Carries out the memory side; a merged version memory refuses (too big, say) leaves the disk's to be kept beside. */
  private async applyMemory(path: string, plan: DiskPlan, disk: DiskSide | null): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (plan.memory.kind !== 'merged') {
      this.changeMemory(path, plan, disk);
      return { ok: true };
    }
    try {
      const { core } = this.deps;
      await core.apply(planContent(core, path, { bytes: plan.memory.content }, { origin: 'disk' }));
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: `the merged version was refused: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private changeMemory(path: string, plan: DiskPlan, disk: DiskSide | null): void {
    const { core } = this.deps;
    const location = core.locate(path);
    const change = newChange(path, { origin: 'disk' }, core.durability);
    change.waitForPersist = false;
    switch (plan.memory.kind) {
      case 'keep':
        if (plan.disk !== 'keep' || core.entry(path) || !location) return;
        change.persist.push({ kind: 'cancel_delete', location }); // both deleted
        break;
      case 'settled':
        change.entries.push({ kind: 'mark', path, dirty: false });
        change.persist.push({ kind: 'cancel', path });
        break;
      case 'take_disk': {
        // Memory takes the disk's version, clean. It is journaled all the same: a
        // replay after a crash must not bring back an older journaled version.
        const existing = core.entry(path);
        const now = Date.now();
        const mimeType = existing?.mimeType ?? mimeTypeFor(path);
        const createdAt = existing?.createdAt ?? now;
        const content = disk!.content;
        change.journal.push({ op: 'put', path, content, mimeType, createdAt, modifiedAt: now });
        change.entries.push({ kind: 'put', path, existing, content: { bytes: content }, mimeType, createdAt, modifiedAt: now, memoryOnly: false, dirty: false });
        if (!existing && location) change.persist.push({ kind: 'cancel_delete', location });
        change.persist.push({ kind: 'cancel', path });
        change.events.push({ type: 'file_updated', path, created: !existing });
        break;
      }
      case 'delete':
        // Memory follows a delete made on disk; the disk has nothing left to delete.
        change.journal.push({ op: 'delete', path });
        change.entries.push({ kind: 'remove', path });
        change.persist.push({ kind: 'forget', path });
        change.events.push({ type: 'file_deleted', path });
        break;
      case 'merged':
        return; // see applyMemory
    }
    void core.apply(change);
  }

  /** After memory is settled: write it out, or delete the disk file, conditional on the new base. */
  private applyDisk(path: string, plan: DiskPlan): void {
    const { core } = this.deps;
    const location = core.locate(path);
    if (!location || plan.disk === 'keep') return;
    const change = newChange(path, { origin: 'disk' }, core.durability);
    change.waitForPersist = false;
    if (plan.disk === 'delete') change.persist.push({ kind: 'delete', path, location, after: undefined });
    if (plan.disk === 'write') {
      if (!core.entry(path)) return;
      change.entries.push({ kind: 'mark', path, dirty: true });
      change.persist.push({ kind: 'write', path });
    }
    void core.apply(change);
  }

  /** The outside version that could not be merged becomes a file of its own beside the original, and is reported. */
  private async keepBeside(path: string, content: Uint8Array, reason: string): Promise<boolean> {
    const { core } = this.deps;
    const copyPath = this.freeCopyPath(path);
    try {
      await core.apply(planContent(core, copyPath, { bytes: content }, { origin: 'disk' }));
    } catch (err) {
      // Unlikely (the copy is no bigger than a file the disk already holds); never silent, and the disk file stays.
      this.alert(path, 'refused', `an outside edit could not be kept as ${copyPath}, so it is left on disk: ${err instanceof Error ? err.message : String(err)}`);
      return false;
    }
    this.deps.emit({ type: 'disk_conflict', path, copyPath, reason, origin: 'disk' });
    return true;
  }

  /** A copy name no file has yet: two conflicts within one second get `..._2-disk`, `..._3-disk`, ... */
  private freeCopyPath(path: string): string {
    const at = new Date();
    for (let attempt = 1; ; attempt++) {
      const copyPath = conflictCopyPath(path, at, DISK_CONFLICT_LABEL, attempt);
      if (!this.deps.core.entry(copyPath)) return copyPath;
    }
  }
}

/**
 * After a journal replay, for every path whose disk file is no longer the
 * version its last journaled change was made against: was that this
 * server's own persist before the crash (the disk holds one of the journaled
 * contents), or an outside edit made while it was down? Ours becomes the
 * base; an outside edit keeps the old base, so the first persist finds it
 * and reconciles instead of replacing it.
 */
export async function rebaseReplayed(configs: ConfigTable, bases: DiskBases, records: readonly JournalOp[][]): Promise<void> {
  const last = new Map<string, JournalOp>();
  const journaled = new Map<string, Set<string>>();
  for (const op of records.flat()) {
    last.set(op.path, op);
    if (op.op === 'put') journaled.set(op.path, (journaled.get(op.path) ?? new Set()).add(sha256(op.content)));
  }
  for (const [path, op] of last) {
    if (op.diskBase === undefined) continue; // journaled by an older version, or not on a versioned driver
    const indexed = bases.get(path).version;
    if (indexed === op.diskBase || indexed === null) continue; // unchanged, or gone: the plan handles a gone file
    const location = configs.locate(path);
    const driver = location?.config.driver;
    if (!location || !driver || !isVersioned(driver)) continue;
    const file = await driver.read(location.driverPath).catch(() => null);
    const hash = file && sha256(file.content);
    if (file && hash && journaled.get(path)?.has(hash)) bases.learn(path, file.version, hash, file.content);
    else bases.set(path, { version: op.diskBase });
  }
}
