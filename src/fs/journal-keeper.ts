/**
 * The server's use of its write-ahead journal: which journal is open (one in
 * journal mode; in other modes only while a crashed run's records are being
 * persisted), what each record carries (every op stamped with the disk
 * version it was made against), and when the journal shrinks (truncated once
 * everything is persisted, rewritten when it grows past a threshold).
 */
import { isVersioned } from '../../persistence/drivers/types.js';
import { fsErrors } from '../errors.js';
import type { Durability } from '../types.js';
import type { ChangeAudit } from './change.js';
import type { ConfigTable } from './configs.js';
import type { DiskBases } from './disk-bases.js';
import { Journal } from './journal.js';
import type { JournalOp } from './journal-codec.js';
import type { Persister } from './persister.js';
import { SideFiles, readSideFile, sideDirOf } from './side-files.js';

/** Below this size the journal is never rewritten, only truncated when everything is persisted. */
const COMPACT_MIN_BYTES = 4 * 1024 * 1024;

export interface JournalKeeperOptions {
  path: string | undefined;
  durability: Durability;
  fsyncEachRecord: boolean;
  configs: ConfigTable;
  bases: DiskBases;
  persister: Persister;
  /** The journal file was removed or replaced under us and has been written again. */
  onRecreated: (oldPath: string) => void;
  /** The audit log, whose entries ride on the records: flushed before any record is dropped. */
  audit?: Pick<ChangeAudit, 'flush'>;
}

export class JournalKeeper {
  private journal: Journal | undefined;
  private compactAtBytes = COMPACT_MIN_BYTES;
  /** Where large puts' contents go instead of the records (side-files.ts); undefined without a journal path. */
  readonly sideFiles: SideFiles | undefined;

  constructor(private readonly options: JournalKeeperOptions) {
    this.sideFiles = options.path ? new SideFiles(sideDirOf(options.path), options.fsyncEachRecord) : undefined;
  }

  /** The records a previous run left (none without a journal path). */
  readRecords(): JournalOp[][] {
    const { path } = this.options;
    return path ? Journal.read(path, (ref, bytes) => readSideFile(sideDirOf(path), ref, bytes)).records : [];
  }

  /**
   * Opens a fresh journal holding what is not yet persisted. A journal left
   * by a journal-mode run is honoured in every mode until it is fully
   * persisted, so one opens in any mode when `recovered` records exist.
   */
  open(recovered: boolean): void {
    const { path, durability } = this.options;
    if (!path || (durability !== 'journal' && !recovered)) return;
    this.journal = Journal.create(path, this.pendingOps(), { fsyncEachRecord: this.options.fsyncEachRecord });
    this.sideFiles?.prune(); // the fresh journal holds what is pending inline
  }

  /**
   * Writes a journal record, carrying `auditLines` (the change's audit
   * entries, as their lines) on its first op; when this returns, the change
   * survives a killed process. False when no record was written (no journal
   * open, or nothing to journal): the entries are not carried. EIO when it
   * cannot.
   */
  append(ops: JournalOp[], path: string, auditLines?: readonly string[]): boolean {
    // In other modes a journal is open only while a crashed run's records are being persisted; changes
    // must be appended to it too, or replaying it after another crash could bring back older content.
    if (!this.journal || ops.length === 0) return false;
    try {
      if (!this.journal.intact()) this.recreate();
      if (auditLines) ops[0]!.auditLines = auditLines;
      this.journal.append(this.withDiskBases(this.withSideFiles(ops)));
      return true;
    } catch (err) {
      throw fsErrors.io(path, err);
    }
  }

  /** Called after persistence progress and after each change: truncates or compacts the journal. */
  settle(): void {
    const journal = this.journal;
    if (!journal) return;
    try {
      if (!this.options.persister.hasPending) {
        if (this.options.durability === 'journal') this.truncate(journal);
        else this.drop(); // a recovery journal in a non-journal mode is done once everything is persisted
        this.sideFiles?.prune();
      } else if (journal.bytes >= this.compactAtBytes) {
        this.rewrite(journal);
        // Rewrite again only once the journal has doubled: amortised O(1) per append.
        this.compactAtBytes = Math.max(COMPACT_MIN_BYTES, journal.bytes * 2);
        this.sideFiles?.prune(); // the rewrite holds pending contents inline
      }
    } catch {
      // Shrinking is an optimisation: a failed truncate or rewrite leaves a valid, longer journal
      // whose replay is idempotent. The next settle tries again.
    }
  }

  /** Leaves the journal holding only what could not be persisted, and closes it. */
  close(): void {
    const journal = this.journal;
    if (!journal) return;
    if (this.options.persister.hasPending) this.rewrite(journal);
    else if (this.options.durability !== 'journal') return this.drop();
    else this.truncate(journal);
    journal.close();
    this.journal = undefined;
    this.sideFiles?.prune();
  }

  /**
   * The journal file was removed or replaced under us (the root deleted, a
   * `.scopefs/` cleaned up): appending to the old file descriptor would
   * acknowledge writes into a file nobody can replay. A new journal is
   * written at its path with everything not yet persisted, before the
   * change that noticed it is acknowledged.
   */
  private recreate(): void {
    const old = this.journal!;
    this.options.audit?.flush();
    old.abandon();
    this.journal = Journal.create(old.path, this.pendingOps(), { fsyncEachRecord: this.options.fsyncEachRecord });
    this.sideFiles?.prune();
    this.options.onRecreated(old.path);
  }

  /** A put whose side file is gone (pruned after its write gave up waiting) carries its content inline. */
  private withSideFiles(ops: JournalOp[]): JournalOp[] {
    for (const op of ops) if (op.op === 'put' && op.ref !== undefined && !this.sideFiles?.has(op.ref)) delete op.ref;
    return ops;
  }

  /** What a fresh journal must hold, each change with the disk version it was made against. */
  private pendingOps(): JournalOp[] {
    return this.withDiskBases(this.options.persister.pendingOps());
  }

  /** Stamps ops made for this append (in place: a copy costs more than the append) with their disk version. */
  private withDiskBases(ops: JournalOp[]): JournalOp[] {
    const { configs, bases } = this.options;
    for (const op of ops) {
      const location = configs.locate(op.path);
      if (location && isVersioned(location.config.driver)) op.diskBase = bases.get(op.path).version;
    }
    return ops;
  }

  // Every way records go, each after the audit entries they carry are in the audit log.

  private truncate(journal: Journal): void {
    if (journal.empty) return;
    this.options.audit?.flush();
    journal.truncate();
  }

  private rewrite(journal: Journal): void {
    this.options.audit?.flush();
    journal.rewrite(this.pendingOps());
  }

  private drop(): void {
    this.options.audit?.flush();
    this.journal?.remove();
    this.journal = undefined;
    this.sideFiles?.prune();
  }
}
