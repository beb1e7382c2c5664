import type { PushChange, PushOutcome, StoreRow } from '../../persistence/stores/types.js';
import { sha256 } from '../content.js';
import type { FileSystem } from '../types.js';
import type { ConflictBook } from './conflict-book.js';
import { resolvedCopyPath } from './conflict-copy.js';
import type { PlannedPath } from './engine.js';
import { writeFreshCopy } from './fresh-copy.js';
import { readLocalContent } from './local-side.js';
import type { PathRecord, SyncStateDb } from './state-db.js';
import { describeRule } from './strategies.js';
import type { HeldPaths } from './strategies-held.js';
import { agreement, inputsFor, planSyncPath, type Agreement, type LocalChange, type PathFacts, type Resolution, type SyncPlan } from './sync-plan.js';
import type { ConflictRecord, SyncEvent } from './types.js';

export interface PushItem {
  path: string;
  record: PathRecord;
  change: PushChange;
}

export interface ActionOutcome {
  /** A change to push (pushes are batched by the engine). */
  push?: PushItem;
  /** The remote version was applied locally. */
  pulled?: boolean;
  /** State moved under us; decide this path again in the next pass. */
  retry?: boolean;
}

/** A local change to a version the store holds in a batch, waiting to be applied with the rest of its batch. */
export interface BatchedChange {
  /** The store batch (StoreRow.batch). */
  batch: string;
  path: string;
  local: LocalChange;
  /** After the change was applied (with its batch): records the agreement, emits, returns the outcome. */
  finish(): ActionOutcome;
  /** Applies the change alone, then finishes. */
  carryOut(): Promise<ActionOutcome>;
}

interface BeforeLocal {
  resolvedCopy: string | undefined;
  opened: ConflictRecord | undefined;
}

export interface PathActionsDeps {
  fs: FileSystem;
  /** This instance's id: rows it wrote carry it in `updatedBy`. */
  instanceId: string;
  state: SyncStateDb;
  conflicts: ConflictBook;
  /** Paths a fail-stop rule holds. */
  held: HeldPaths;
  storeGet: (owner: string, path: string) => Promise<StoreRow | null>;
  maxFileBytes: number;
  now: () => Date;
  emit: (event: SyncEvent) => void;
}

/**
 * Carries out one path's reconcile decision: reads what the plan needs,
 * asks the pure planSyncPath (sync-plan.ts) for the changes, and makes them.
 * It chooses nothing itself. Local writes go through the
 * FileSystemServer with origin `sync` and a compare-and-swap on the revision
 * the decision was based on, so a concurrent local edit is never overwritten
 * (the write fails with ESTALE and the path is decided again).
 */
export class PathActions {
  constructor(private readonly deps: PathActionsDeps) {}

  /**
   * Plans the path and carries the plan out, except when it changes the local
   * file to a version the store holds as part of a batch: then everything
   * before the local change is done, and the local change is handed back
   * (`batched`) for the engine to apply with the rest of its batch in one
   * applyBatch, after which `finish` does the rest.
   */
  async prepare(item: PlannedPath, row: StoreRow | undefined): Promise<ActionOutcome | { batched: BatchedChange }> {
    const facts = await this.gather(item, row);
    const plan = planSyncPath(facts);
    const batch = plan.local && !plan.held ? facts.remote?.batch : undefined;
    if (batch === undefined) return this.carryOut(item, plan);
    const before = await this.beforeLocal(item, plan);
    return {
      batched: {
        batch,
        path: item.path,
        local: plan.local!,
        finish: () => this.afterLocal(item, plan, before),
        carryOut: async () => {
          await this.changeLocal(item.path, plan.local!);
          return this.afterLocal(item, plan, before);
        },
      },
    };
  }

  /** Reads what the path's action needs to be planned: the local content, the store's current row, the base content. */
  private async gather(item: PlannedPath, row: StoreRow | undefined): Promise<PathFacts> {
    const { path, record, action } = item;
    const needs = inputsFor(action);
    const facts: PathFacts = {
      path,
      owner: record.owner,
      action,
      case: item.case,
      rule: item.rule,
      instanceId: this.deps.instanceId,
      record: { ...record },
      local: item.local,
      maxFileBytes: this.deps.maxFileBytes,
    };
    if (needs.remote) {
      // The row in hand when it is the one the record knows; else what the store holds now.
      facts.remote = row && row.revision === record.remoteRevision ? row : await this.deps.storeGet(record.owner, path);
    }
    if (needs.localContent && item.local) {
      facts.local = { ...item.local, content: item.local.content ?? (await readLocalContent(this.deps.fs, path)) };
    }
    if (needs.baseContent) facts.baseContent = record.baseHash === null ? null : this.deps.state.getBlob(record.baseHash);
    return facts;
  }

  /** Carries out a plan in the order SyncPlan documents. */
  private async carryOut(item: PlannedPath, plan: SyncPlan): Promise<ActionOutcome> {
    if (plan.held) {
      if (plan.observed) this.noteRemote(item.record, plan.observed.row);
      return this.hold(item.path, plan.held);
    }
    const before = await this.beforeLocal(item, plan);
    if (plan.local) await this.changeLocal(item.path, plan.local);
    return this.afterLocal(item, plan, before);
  }

  /** What comes before the local change: the remote side noted, the discarded side kept, the conflict recorded. */
  private async beforeLocal(item: PlannedPath, plan: SyncPlan): Promise<BeforeLocal> {
    if (plan.observed) this.noteRemote(item.record, plan.observed.row);
    // The discarded side is on disk before anything replaces it.
    const resolvedCopy = plan.resolution && (await this.keepDiscarded(item.path, plan.resolution));
    const opened = plan.conflict && (await this.deps.conflicts.record({ path: item.path, ...plan.conflict, at: this.deps.now() }));
    return { resolvedCopy, opened };
  }

  private async changeLocal(path: string, local: LocalChange): Promise<void> {
    const { fs } = this.deps;
    if (local.kind === 'write') await fs.writeFile(path, local.content, { origin: 'sync', ifRevision: local.ifRevision, source: local.source });
    else await fs.deleteFile(path, { origin: 'sync', ifRevision: local.ifRevision, source: local.source });
  }

  /** What comes after the local change: the agreement recorded, the events, the outcome. */
  private afterLocal(item: PlannedPath, plan: SyncPlan, { resolvedCopy, opened }: BeforeLocal): ActionOutcome {
    const { emit } = this.deps;
    if (plan.agree) this.applyAgreement(item.record, plan.agree);
    if (opened) emit({ type: 'conflict', conflict: opened });
    if (plan.resolution && resolvedCopy !== undefined) emit(strategyApplied(item.path, plan.resolution, resolvedCopy));
    if (!plan.retry) this.deps.held.settled(item.path);
    if (plan.refused) throw plan.refused;
    return {
      ...(plan.push ? { push: { path: item.path, record: item.record, change: plan.push } } : {}),
      ...(plan.pulled ? { pulled: true } : {}),
      ...(plan.retry ? { retry: true } : {}),
    };
  }

  /** A fail-stop rule holds the path: nothing is touched; the hold is reported once. */
  private hold(path: string, held: NonNullable<SyncPlan['held']>): ActionOutcome {
    const newlyHeld = this.deps.held.hold(path, held.rule, held.case, this.deps.now());
    if (newlyHeld) this.deps.emit({ type: 'path_held', held: newlyHeld });
    return {};
  }

  /** Writes the side a rule discarded beside the file, under a name no other copy has; returns that name. */
  private keepDiscarded(path: string, resolution: Resolution): Promise<string> {
    const { fs, now } = this.deps;
    const at = now();
    const nameFor = (attempt: number) => resolvedCopyPath(path, at, resolution.discardedInstance, attempt);
    return writeFreshCopy(fs, nameFor, resolution.discarded, { origin: 'sync', source: resolution.discardedInstance });
  }

  /**
   * Stages the intents of pushes about to be sent; the caller commits the
   * state before the store sees them, so their outcome stays recoverable.
   */
  notePushIntents(batch: readonly PushItem[]): void {
    const intents = batch.map(({ path, record, change }) => ({ path, owner: record.owner, hash: change.hash, baseRevision: change.baseRevision }));
    this.deps.state.putPushIntents(intents);
  }

  /**
   * Applies push outcomes to the records; returns which paths were accepted
   * and which lost the race. Idempotent: recording an outcome again, or one
   * already adopted through observeRow, leaves the same state.
   */
  recordPushOutcomes(batch: PushItem[], outcomes: PushOutcome[]): { accepted: string[]; lost: string[] } {
    const accepted: string[] = [];
    const lost: string[] = [];
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome?.status === 'ok') {
        this.setBase(item.record, item.change.hash, outcome.revision, item.change.content);
        this.deps.state.settlePushIntents(item.path, () => false);
        accepted.push(item.path);
      } else {
        this.noteRemote(item.record, outcome?.current ?? null);
        // This push was refused: it can never commit.
        this.deps.state.settlePushIntents(item.path, (intent) => intent.hash !== item.change.hash);
        lost.push(item.path);
      }
    });
    return { accepted, lost };
  }

  /**
   * Called for every row seen (feed, refused push, direct read) after the
   * record's remote side was updated from it. A row this instance wrote,
   * with the hash of a push it recorded the intent of, is its own content
   * whose outcome was lost (a kill or a dropped connection after the store
   * committed): it becomes the base, so the local file (unchanged or edited
   * since) is compared with what this instance itself pushed, never merged
   * against it as if another instance had written it. Intents the row has
   * moved past are settled: those pushes committed or never will.
   */
  observeRow(record: PathRecord, row: StoreRow | null): boolean {
    const { state, instanceId } = this.deps;
    const intents = state.pushIntents(record.path);
    if (row === null || intents.length === 0) return false;
    const rowHash = row.deleted ? null : row.hash;
    const own =
      row.updatedBy === instanceId &&
      row.owner === record.owner &&
      intents.some((i) => i.hash === rowHash && i.owner === row.owner && i.baseRevision < row.revision);
    if (own) this.setBase(record, rowHash, row.revision, rowHash === null ? null : contentMatching(row));
    state.settlePushIntents(record.path, (intent) => intent.baseRevision >= row.revision);
    return own;
  }

  /** Records a row seen as the path's remote side (it moved on since the decision, or a push lost the race). */
  private noteRemote(record: PathRecord, row: StoreRow | null): void {
    record.remoteHash = row && !row.deleted ? row.hash : null;
    record.remoteRevision = row?.revision ?? 0;
    this.deps.state.putPath(record);
    // The row may be this instance's own earlier push whose outcome was lost.
    this.observeRow(record, row);
  }

  /** Records agreement on (hash, revision); keeps text bases for future merges. */
  private setBase(record: PathRecord, hash: string | null, revision: number, content: Uint8Array | null): void {
    this.applyAgreement(record, agreement(record, hash, revision, content));
  }

  private applyAgreement(record: PathRecord, agree: Agreement): void {
    Object.assign(record, agree.sides);
    if (agree.blob) this.deps.state.putBlob(agree.blob.hash, agree.blob.content);
    this.deps.state.putPath(record);
  }
}

function strategyApplied(path: string, resolution: Resolution, resolvedCopy: string): SyncEvent {
  const { rule, kept } = resolution;
  return { type: 'strategy_applied', path, strategy: rule.strategy, rule: describeRule(rule), case: resolution.case, kept, resolvedCopy };
}

/** The row's content when it is there and matches its hash (kept as a merge base), else null. */
function contentMatching(row: StoreRow): Uint8Array | null {
  return row.content instanceof Uint8Array && sha256(row.content) === row.hash ? row.content : null;
}
