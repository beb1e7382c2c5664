import PQueue from 'p-queue';
import type { StoreRow, SyncStore } from '../../persistence/stores/types.js';
import { errorMessage, isScopeFsError } from '../errors.js';
import type { BatchItem, FileSystem } from '../types.js';
import { ConflictBook } from './conflict-book.js';
import { FailureLog } from './failure-log.js';
import { readLocalFile, type LocalFile } from './local-side.js';
import { pushChunks } from './push-chunks.js';
import { PathActions, type ActionOutcome, type BatchedChange, type PushItem } from './path-actions.js';
import { reconcile, type ReconcileAction, type ReconcileCase } from './reconcile.js';
import { checkDeletionSafety } from './safety-gate.js';
import type { PathRecord, SyncStateDb } from './state-db.js';
import { SYNC_CONFIG_PATH, SyncTargets } from './sync-target.js';
import type { AppliedRule, HeldPath, StrategyRule } from './strategies.js';
import { HeldPaths } from './strategies-held.js';
import type { TombstoneKeeper } from './tombstone-keeper.js';
import type { SyncEvent } from './types.js';
import { StoreUnavailableError, SyncPausedError, callStore } from './sync-errors.js';

export interface SyncEngineOptions {
  fs: FileSystem;
  store: SyncStore;
  state: SyncStateDb;
  app: string;
  userId?: string;
  instanceId: string;
  /** Per-file size limit for sync (default 64 MiB). */
  maxFileBytes?: number;
  /** Safety gate: pause when a pass would delete more than this share of synced files (default 0.5). */
  maxDeleteRatio?: number;
  /** Conflict strategies by path, after sync-config.json's `conflictStrategies` (first match wins; default merge). */
  conflictStrategies?: StrategyRule[];
  /** Per-path failures; pass one to keep them across engine restarts. */
  failures?: FailureLog;
  emit: (event: SyncEvent) => void;
  now?: () => Date;
  /** Reports the applied cursor for tombstone purging; none: this instance takes no part. */
  tombstones?: TombstoneKeeper;
}

/** One path's decision within a pass. */
export interface PlannedPath {
  path: string;
  record: PathRecord;
  local: LocalFile | null;
  action: ReconcileAction;
  case: ReconcileCase;
  /** The conflict-strategy rule the action was decided under. */
  rule: AppliedRule;
}

const PAGE_SIZE = 500;
const PUSH_BATCH = 200;
/** How often a pass reports its progress (sync_progress events). */
const PROGRESS_EVERY_MS = 200;
const PLAN_CONCURRENCY = 16;
const GC_EVERY_PASSES = 200;

/**
 * The sync engine: runs passes that pull remote changes since the cursor,
 * reconcile every candidate path (a pure decision), and carry out the
 * decisions through the FileSystemServer and the store. It holds no queue
 * that could drop work: what is pending is derived from hashes versus bases.
 */
export class SyncEngine {
  readonly conflicts: ConflictBook;
  readonly failures: FailureLog;
  /** Paths a fail-stop rule holds. */
  readonly held = new HeldPaths();
  lastSyncedAt: string | null = null;
  private targets: SyncTargets;
  private readonly records = new Map<string, PathRecord>();
  private dirty = new Set<string>();
  private pending = new Set<string>();
  private gateConfirmed = false;
  /**
   * Whether the store may hold rows past the cursor: a hint came, a push lost
   * its compare-and-swap, or a pass failed. Without news, a pass of local
   * changes only pushes (each push is a compare-and-swap on the path's base,
   * so a remote change it did not know of makes it lose, and the next pass pulls).
   */
  private remoteNews = true;
  private passesSinceGc = 0;
  private readonly actions: PathActions;
  /** Paths a local batch changed that are not pushed yet (push-chunks.ts). */
  private readonly batchOf = new Map<string, string>();

  constructor(private readonly options: SyncEngineOptions) {
    this.failures = options.failures ?? new FailureLog();
    this.targets = SyncTargets.fromConfigBytes(null, options.userId, options.conflictStrategies);
    for (const record of options.state.allPaths()) this.records.set(record.path, record);
    this.conflicts = new ConflictBook(options.fs, options.state, options.instanceId);
    this.actions = new PathActions({
      fs: options.fs,
      instanceId: options.instanceId,
      state: options.state,
      conflicts: this.conflicts,
      held: this.held,
      storeGet: (owner, path) => callStore(() => options.store.get(options.app, owner, path)),
      maxFileBytes: options.maxFileBytes ?? 64 * 1024 * 1024,
      now: options.now ?? (() => new Date()),
      emit: options.emit,
    });
  }

  get cursor(): number {
    return this.options.state.cursor;
  }

  get configError(): string | undefined {
    return this.targets.error;
  }

  /** Reads sync-config.json; returns the error when it is malformed. */
  async loadConfig(): Promise<string | undefined> {
    let bytes: Uint8Array | null = null;
    try {
      bytes = await this.options.fs.readFile(SYNC_CONFIG_PATH, { encoding: 'bytes' });
    } catch (err) {
      if (!isScopeFsError(err, 'ENOENT')) throw err;
    }
    this.targets = SyncTargets.fromConfigBytes(bytes, this.options.userId, this.options.conflictStrategies);
    this.held.clear();
    return this.targets.error;
  }

  /** Whether a local path takes part in sync (for the event filter). */
  syncs(path: string): boolean {
    return this.targets.ownerOf(path) !== null;
  }

  /** The store has (or may have) rows past the cursor: the next pass pulls. */
  noteRemoteNews(): void {
    this.remoteNews = true;
  }

  /** Local changes to reconcile; `batch`: they were one batch, to be pushed all or none. */
  markDirty(paths: Iterable<string>, batch?: string): void {
    for (const path of paths) {
      this.dirty.add(path);
      if (batch !== undefined) this.batchOf.set(path, batch);
    }
  }

  get hasDirty(): boolean {
    return this.dirty.size > 0;
  }

  /** Paths whose local state differs from their base, as of the last pass, plus unprocessed local changes. */
  pendingPaths(): string[] {
    return [...new Set([...this.pending, ...this.dirty])].filter((p) => !this.conflicts.has(p) && !this.held.has(p)).sort();
  }

  /** Paths a fail-stop rule holds (reported in status). */
  heldPaths(): HeldPath[] {
    return this.held.list();
  }

  /** Lets the next pass through the safety gate once. */
  confirmDeletions(): void {
    this.gateConfirmed = true;
  }

  /**
   * One sync pass. `full` reconciles every local file and every known path;
   * otherwise only the paths marked dirty and those changed remotely.
   * Throws StoreUnavailableError (connection trouble) or SyncPausedError.
   */
  async pass(full: boolean): Promise<void> {
    if (this.targets.error) throw new SyncPausedError(this.targets.error);
    const claimed = this.dirty;
    this.dirty = new Set();
    const reportCursor = this.options.tombstones?.due(full) ?? false;
    const pull = full || this.remoteNews;
    this.remoteNews = false;
    const fetched = new Map<string, StoreRow>();
    try {
      if (pull) await this.pullChanges(fetched);
      const candidates = full ? await this.allKnownPaths() : new Set(claimed);
      for (const path of fetched.keys()) candidates.add(path);
      const plan = await this.plan(candidates);
      await this.checkSafety(plan);
      await this.execute(plan, fetched);
      // Everything up to the cursor is applied now (or kept in a conflict or a retry).
      if (reportCursor) await this.options.tombstones!.afterPass(this.cursor);
      // Unreferenced base blobs: a scan of all paths, so only now and then.
      if (full || ++this.passesSinceGc >= GC_EVERY_PASSES) {
        this.options.state.collectGarbage();
        this.passesSinceGc = 0;
      }
    } catch (err) {
      for (const path of claimed) this.dirty.add(path);
      // The cursor is committed past every row fetched, so the next pull will not bring them
      // again: their paths are planned next time, or a failed pass would skip them for good.
      for (const path of fetched.keys()) this.dirty.add(path);
      this.remoteNews = true;
      throw err;
    }
  }

  /** Catches the cursor up with the store, putting the rows (with content) it accepts into `fetched` by path. */
  private async pullChanges(fetched: Map<string, StoreRow>): Promise<void> {
    const { store, app, state } = this.options;
    let cursor = state.cursor;
    const sincePage = (from: number) => callStore(() => store.since(app, this.targets.owners(), from, PAGE_SIZE));
    // The first page is asked for alongside the head (one round trip, not two); it is used only once the head checks out.
    const [head, page0] = await Promise.all([callStore(() => store.head(app)), sincePage(cursor)]);
    let first: typeof page0 | undefined = page0;
    if (!Number.isSafeInteger(head) || head < 0) {
      throw new SyncPausedError(`the store's head revision ${String(head)} is not a valid revision; the store looks corrupt`);
    }
    if (head < cursor) {
      // The store is younger than our cursor (recreated or restored): start over safely.
      state.forgetRemote();
      this.records.clear();
      cursor = 0;
      first = undefined;
    }
    for (;;) {
      const page = first ?? (await sincePage(cursor));
      first = undefined;
      for (const row of page.rows) this.acceptRow(row, fetched);
      state.cursor = page.cursor;
      state.commit();
      cursor = page.cursor;
      if (!page.more) break;
    }
  }

  private acceptRow(row: StoreRow, fetched: Map<string, StoreRow>): void {
    const verdict = this.targets.judge(row);
    if (verdict !== 'accept') {
      // Rows of other owners or outside our patterns are not ours; anything
      // else (malformed, denylisted) is refused with a record people can see.
      if (verdict !== 'not_ours') this.failures.note(describeRowPath(row), `refused a store row: ${verdict}`);
      return;
    }
    const record = this.recordFor(row.path, row.owner);
    record.remoteHash = row.deleted ? null : row.hash;
    record.remoteRevision = row.revision;
    this.options.state.putPath(record);
    this.actions.observeRow(record, row);
    // New remote content is a new chance for a path that kept failing.
    this.failures.wake(row.path);
    fetched.set(row.path, row);
  }

  private recordFor(path: string, owner: string): PathRecord {
    const existing = this.records.get(path);
    if (existing && existing.owner === owner) return existing;
    // A path that changed owner (config change) is a new identity: start without a base.
    const record: PathRecord = { path, owner, baseHash: null, baseRevision: 0, remoteHash: null, remoteRevision: 0 };
    this.records.set(path, record);
    return record;
  }

  private async allKnownPaths(): Promise<Set<string>> {
    const local = await this.options.fs.listFiles('/');
    return new Set([...local, ...this.records.keys()]);
  }

  private async plan(candidates: Set<string>): Promise<PlannedPath[]> {
    const now = Date.now();
    // Reading local files may load them from disk: do several at once.
    const queue = new PQueue({ concurrency: PLAN_CONCURRENCY });
    const planned = await Promise.all([...candidates].sort().map((path) => queue.add(() => this.planPath(path, now))));
    return planned.filter((item): item is PlannedPath => item !== undefined);
  }

  private async planPath(path: string, now: number): Promise<PlannedPath | undefined> {
    const owner = this.targets.ownerOf(path);
    if (owner === null || this.conflicts.has(path) || this.failures.waiting(path, now)) return undefined;
    const record = this.recordFor(path, owner);
    const local = await readLocalFile(this.options.fs, path);
    const base = record.baseHash === null ? null : { hash: record.baseHash, revision: record.baseRevision };
    const remote = record.remoteHash === null ? null : { hash: record.remoteHash, revision: record.remoteRevision };
    const rule = this.held.ruleFor(path, this.targets.ruleFor(path));
    const decision = reconcile(local && { hash: local.hash }, base, remote, rule.strategy);
    return { path, record, local, action: decision.action, case: decision.case, rule };
  }

  /**
   * The safety gate guards what this instance would propagate: deletions it
   * is about to push (a wiped or unmounted root looks exactly like that).
   * Deletions arriving from the store were already let through by the
   * instance that made them.
   */
  private async checkSafety(plan: PlannedPath[]): Promise<void> {
    // A moved file is a deletion plus a creation with the same content: not a loss.
    const pushedHashes = new Set(plan.filter((p) => p.action === 'push' && p.local).map((p) => p.local!.hash));
    // A `local` rule keeping a local deletion over a remote edit pushes a deletion too.
    const deletions = plan.filter(
      (p) => (p.action === 'push' || p.action === 'keep_local') && p.local === null && !pushedHashes.has(p.record.baseHash ?? ''),
    ).length;
    if (deletions === 0) return;
    if (this.gateConfirmed) {
      this.gateConfirmed = false;
      return;
    }
    const syncedCount = [...this.records.values()].filter((r) => r.baseHash !== null).length;
    const localFileCount = (await this.options.fs.listFiles('/')).filter((p) => this.syncs(p)).length;
    const verdict = checkDeletionSafety({ syncedCount, deletions, localFileCount, maxDeleteRatio: this.options.maxDeleteRatio });
    if (!verdict.ok) throw new SyncPausedError(verdict.reason);
  }

  private async execute(plan: PlannedPath[], fetched: Map<string, StoreRow>): Promise<void> {
    const pushes: PushItem[] = [];
    const pulled: string[] = [];
    this.pending = new Set();
    const progress = this.passProgress(plan);
    const settle = (path: string, outcome: ActionOutcome): void => {
      if (outcome.push) pushes.push(outcome.push);
      if (outcome.pulled) pulled.push(path);
      if (outcome.retry) this.dirty.add(path);
      if (!outcome.push) this.failures.clear(path);
      if (!outcome.push && !outcome.retry) this.batchOf.delete(path);
    };
    const batches = new Map<string, BatchedChange[]>();
    for (const item of plan) {
      try {
        const prepared = await this.actions.prepare(item, fetched.get(item.path));
        if ('batched' in prepared) {
          const members = batches.get(prepared.batched.batch);
          if (members) members.push(prepared.batched);
          else batches.set(prepared.batched.batch, [prepared.batched]);
        } else {
          settle(item.path, prepared);
        }
      } catch (err) {
        this.handlePathError(item.path, err);
      }
      progress(item);
    }
    for (const members of batches.values()) await this.applyBatched(members, settle);
    this.options.state.commit();
    if (pulled.length > 0) this.emitSynced('pull', pulled);
    await this.pushAll(pushes);
  }

  /**
   * The local changes to the rows of one store batch, applied in one
   * applyBatch: no reader of this instance sees part of the batch. When the
   * batch fails (a local edit moved a file: ESTALE), none of it is applied
   * and each path is decided again.
   */
  private async applyBatched(members: BatchedChange[], settle: (path: string, outcome: ActionOutcome) => void): Promise<void> {
    const settleEach = async (member: BatchedChange, outcome: () => ActionOutcome | Promise<ActionOutcome>): Promise<void> => {
      try {
        settle(member.path, await outcome());
      } catch (err) {
        this.handlePathError(member.path, err);
      }
    };
    if (members.length === 1) return settleEach(members[0]!, members[0]!.carryOut);
    const items: BatchItem[] = members.map(({ path, local }) =>
      local.kind === 'write' ? { path, content: local.content, ifRevision: local.ifRevision } : { path, delete: true, ifRevision: local.ifRevision },
    );
    try {
      await this.options.fs.applyBatch(items, { origin: 'sync', source: members[0]!.local.source });
    } catch (err) {
      for (const member of members) this.handlePathError(member.path, err);
      return;
    }
    for (const member of members) await settleEach(member, member.finish);
  }

  /**
   * Reports how far a pass is through the paths that have work (a
   * `sync_progress` event, at most every PROGRESS_EVERY_MS and at the end),
   * so a progress bar shows real counts while a large pull runs.
   */
  private passProgress(plan: PlannedPath[]): (item: PlannedPath) => void {
    const working = new Set(plan.filter((p) => p.action !== 'nothing').map((p) => p.path));
    const total = working.size;
    if (total === 0) return () => undefined;
    let done = 0;
    let reportedAt = 0;
    this.options.emit({ type: 'sync_progress', done, total });
    return (item) => {
      if (!working.has(item.path)) return;
      done += 1;
      const now = Date.now();
      if (done < total && now - reportedAt < PROGRESS_EVERY_MS) return;
      reportedAt = now;
      this.options.emit({ type: 'sync_progress', done, total });
    };
  }

  private async pushAll(items: PushItem[]): Promise<void> {
    for (const batch of pushChunks(items, (path) => this.batchOf.get(path), PUSH_BATCH)) {
      for (const item of batch) this.pending.add(item.path);
      const { store, app, instanceId } = this.options;
      // Committed before the store sees the batch: a kill after the store's
      // commit leaves rows this instance recognises as its own (observeRow).
      this.actions.notePushIntents(batch);
      this.options.state.commit();
      const outcomes = await callStore(() => store.push(app, instanceId, batch.map((b) => b.change)));
      const pushed = this.actions.recordPushOutcomes(batch, outcomes);
      this.options.state.commit();
      for (const path of pushed.accepted) {
        this.pending.delete(path);
        this.failures.clear(path);
        this.batchOf.delete(path);
      }
      // A lost compare-and-swap race: the current row is recorded; reconcile again next pass.
      for (const path of pushed.lost) this.dirty.add(path);
      if (pushed.lost.length > 0) this.remoteNews = true;
      if (pushed.accepted.length > 0) this.emitSynced('push', pushed.accepted);
    }
  }

  private handlePathError(path: string, err: unknown): void {
    if (err instanceof StoreUnavailableError) throw err;
    if (isScopeFsError(err, 'ESTALE')) {
      // The local file changed while we worked on it: decide again with fresh state.
      this.dirty.add(path);
      return;
    }
    this.pending.add(path);
    this.failures.record(path, errorMessage(err));
  }

  private emitSynced(direction: 'push' | 'pull', paths: string[]): void {
    this.lastSyncedAt = new Date().toISOString();
    this.options.emit({ type: 'synced', direction, paths, cursor: this.cursor });
  }

  /** Paths held back by a failure whose retry time has come. */
  dueRetries(now = Date.now()): string[] {
    return this.failures.due(now);
  }
}

function describeRowPath(row: StoreRow): string {
  return typeof row.path === 'string' ? row.path.slice(0, 200) : `(row without a path, revision ${String(row.revision)})`;
}
