import { join } from 'node:path';
import type { SyncStore } from '../../persistence/stores/types.js';
import { Actor, type ActorCallbacks } from '../../supervisors/runtime/actor.js';
import { ScopeFsError, errorMessage } from '../errors.js';
import type { FileSystem, FsEvent } from '../types.js';
import { ConflictActions } from './conflict-actions.js';
import { SyncEngine } from './engine.js';
import type { FailureLog, RetryPolicy } from './failure-log.js';
import type { StrategyRule } from './strategies.js';
import { lifecycleState, startLifecycle, type LifecycleActor } from './lifecycle.js';
import { SyncStateDb } from './state-db.js';
import { heardBySync, reactionTo, type FsReaction } from './fs-reaction.js';
import { StatusReport } from './status-report.js';
import { StoreConnection } from './store-connection.js';
import { TombstoneKeeper } from './tombstone-keeper.js';
import { fsEvent, type SyncActor, type SyncCall, type SyncCast, type SyncReplies } from './sync-client.js';
import { StoreUnavailableError, SyncPausedError } from './sync-errors.js';
import type { ResyncResult, SyncEvent, SyncState, SyncStatus } from './types.js';

export interface SyncOptions {
  /** `sqlite:PATH`, `memory:NAME`, `postgres://…`, `supabase:`, or a store object. */
  store: string | SyncStore;
  /** Application name: instances of the same app sync together. Default `default`. */
  app?: string;
  /** Owner id for private files (`privateSyncFilePatterns`). */
  userId?: string;
  /** Defaults to an id generated once and kept in the sync state. */
  instanceId?: string;
  /**
   * How long a local change waits before its push. Default 0: pushed at once
   * when sync is idle; changes made while a pass runs go out together in the
   * next pass, so batching happens only under load. A window (e.g. 50 ms)
   * coalesces bursts at the cost of that much latency.
   */
  debounceMs?: number;
  maxFileBytes?: number;
  maxDeleteRatio?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** Per-path retries of a failing path (default: 8 attempts from 1 s, doubling, then given up until the file changes). */
  retry?: Partial<RetryPolicy>;
  /**
   * Conflict strategies by path pattern, tried after sync-config.json's
   * `conflictStrategies`; the first match wins, default `merge` (docs/sync.md,
   * "Conflict strategies"). An invalid rule pauses sync with the error in status.
   */
  conflictStrategies?: StrategyRule[];
  /** Where the sync state lives. Default `<root>/.scopefs/sync-state.db`, in memory without a root. */
  stateFile?: string;
}

export interface SyncActorDeps {
  fs: FileSystem;
  root: string | undefined;
  options: SyncOptions;
  /** Scope-level event fan-out; it outlives sync actor restarts. */
  emit: (event: SyncEvent) => void;
  /**
   * State kept by the scope across sync actor restarts when it cannot live
   * in a file (memory-only scopes). The worker does not close it.
   */
  sharedState?: SyncStateDb;
  /** Scope-level failure log (the disk watcher notes refusals in it too). */
  failures?: FailureLog;
}

const MANUAL_PAUSE = 'paused by request';

/**
 * The sync actor: owns the engine, the store connection and the lifecycle
 * machine. Its messages (sync-client.ts: filesystem events, store hints,
 * passes, resolutions, status reads) are handled one at a time; a crash
 * restarts it from the persisted sync state.
 */
export class SyncWorker implements ActorCallbacks<SyncCall, SyncCast> {
  actor!: SyncActor;
  private state!: SyncStateDb;
  private engine!: SyncEngine;
  private lifecycle!: LifecycleActor;
  private connection!: StoreConnection;
  private conflictActions!: ConflictActions;
  private unsubscribeFs: (() => void) | undefined;
  /** The next pass, scheduled: a timer for a debounce window, an immediate for "as soon as the queue is through". */
  private passTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private passIsImmediate = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private fullPassDone = false;
  /** A pass is in flight (entering `live` checks idle while the pass that caught up is still finishing). */
  private passing = false;
  private idleWaiters: Array<() => void> = [];
  private report!: StatusReport;
  private readonly app: string;
  private instanceId = '';

  constructor(private readonly deps: SyncActorDeps) {
    this.app = deps.options.app ?? 'default';
  }

  static async start(deps: SyncActorDeps): Promise<SyncWorker> {
    const worker = new SyncWorker(deps);
    worker.actor = new Actor<SyncCall, SyncCast>(worker, { name: 'sync', callTimeoutMs: 60_000 });
    await worker.actor.start();
    return worker;
  }

  async init(): Promise<void> {
    const { options, root, fs } = this.deps;
    this.state = this.deps.sharedState ?? SyncStateDb.open(options.stateFile ?? join(root!, '.scopefs', 'sync-state.db'));
    this.instanceId = this.state.instanceId(options.instanceId);
    this.connection = new StoreConnection(options.store);
    // Bases only mean something for the store, app and owner they were agreed with.
    this.state.bindTo(`${this.connection.url}#${this.app}#${options.userId ?? ''}`);
    this.report = new StatusReport(root);
    this.engine = new SyncEngine({
      fs,
      store: this.connection.store,
      state: this.state,
      app: this.app,
      userId: options.userId,
      instanceId: this.instanceId,
      maxFileBytes: options.maxFileBytes,
      maxDeleteRatio: options.maxDeleteRatio,
      conflictStrategies: options.conflictStrategies,
      failures: this.deps.failures,
      emit: (event) => this.deps.emit(event),
      tombstones: new TombstoneKeeper({ purger: () => this.connection.tombstones(), app: this.app, instanceId: this.instanceId, now: Date.now }),
    });
    this.engine.failures.configure(options.retry ?? {});
    this.conflictActions = new ConflictActions({ fs, engine: this.engine, emit: (event) => this.deps.emit(event) });
    this.unsubscribeFs = fs.subscribe((event) => {
      if (heardBySync(event)) fsEvent(this.actor, event);
    });
    this.lifecycle = startLifecycle({ initialMs: options.backoff?.initialMs ?? 500, maxMs: options.backoff?.maxMs ?? 30_000 });
    let previous: SyncState = lifecycleState(this.lifecycle);
    this.lifecycle.subscribe(() => {
      const state = lifecycleState(this.lifecycle);
      if (state === previous) return;
      const reason = this.lifecycle.getSnapshot().context.pausedReason ?? this.lifecycle.getSnapshot().context.error;
      this.deps.emit({ type: 'sync_state', state, previous, reason });
      previous = state;
      this.onStateEntered(state);
    });
    const configError = await this.engine.loadConfig();
    await this.repairConflicts(); // adopting a copy asks whether its path syncs: after the config
    if (configError) this.lifecycle.send({ type: 'PAUSE', reason: configError });
    else this.lifecycle.send({ type: 'START' });
  }

  async handleCast(message: SyncCast): Promise<void> {
    switch (message.type) {
      case 'connect':
        return this.connect();
      case 'pass':
        return this.runPass();
      case 'retry_due':
        this.engine.markDirty(this.engine.dueRetries());
        return this.schedulePass(0);
      case 'hint':
        // A broken hint channel means silence proves nothing: the store counts as unavailable.
        if (message.error !== undefined) return this.storeFailed(`store hints failed: ${message.error}`);
        this.engine.noteRemoteNews();
        return this.schedulePass(0);
      case 'store_failed':
        return this.storeFailed(message.reason);
      case 'fs_event':
        return this.onFsEvent(message.event);
    }
  }

  async handleCall(message: SyncCall): Promise<SyncReplies[SyncCall['type']]> {
    switch (message.type) {
      case 'status':
        return this.status();
      case 'conflicts':
        return this.engine.conflicts.list();
      case 'resolve':
        this.syncSoon(await this.conflictActions.resolve(message.path, message.resolution));
        return this.writeStatus();
      case 'pause':
        this.lifecycle.send({ type: 'PAUSE', reason: MANUAL_PAUSE });
        return this.writeStatus();
      case 'resume':
        if (this.engine.configError) throw new ScopeFsError('EINVAL', this.engine.configError);
        this.lifecycle.send({ type: 'RESUME' });
        return;
      case 'confirm':
        this.assertHeldByGate();
        this.engine.confirmDeletions();
        this.lifecycle.send({ type: 'RESUME' });
        return;
      case 'resync':
        return this.resync();
      case 'await_idle':
        return { idle: this.whenIdle() };
    }
  }

  async terminate(): Promise<void> {
    // Idle waiters re-check against the next sync actor (see scopes.ts).
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    this.cancelPass();
    clearTimeout(this.retryTimer);
    this.unsubscribeFs?.();
    this.lifecycle?.send({ type: 'STOP' });
    await this.report?.close(); // the last status (stopped) lands on disk
    await this.connection?.disconnect();
    if (!this.deps.sharedState) this.state?.close();
  }

  private status(): SyncStatus {
    const state = lifecycleState(this.lifecycle);
    const context = this.lifecycle.getSnapshot().context;
    const gaveUp = this.engine.failures.gaveUp();
    const held = this.engine.heldPaths();
    return {
      enabled: true,
      connected: state === 'live' || state === 'catching_up',
      state,
      conflicts: this.engine.conflicts.paths(),
      lastSyncedAt: this.engine.lastSyncedAt,
      pending: this.engine.pendingPaths(),
      failedPaths: this.engine.failures.failedPaths(),
      ...(gaveUp.length > 0 ? { gaveUp } : {}),
      ...(held.length > 0 ? { held } : {}),
      cursor: this.engine.cursor,
      instanceId: this.instanceId,
      store: this.connection.url,
      ...(state === 'paused' && context.pausedReason ? { pausedReason: context.pausedReason } : {}),
      ...(context.error ? { error: context.error } : {}),
    };
  }

  /** EINVAL unless the safety gate is what paused sync: confirming anything else would let it go by mistake. */
  private assertHeldByGate(): void {
    const state = lifecycleState(this.lifecycle);
    const reason = this.lifecycle.getSnapshot().context.pausedReason;
    if (state === 'paused' && reason?.includes('safety gate')) return;
    const now = state === 'paused' ? `sync is paused (${reason ?? 'no reason'}), not by the safety gate: resume it instead` : `sync is ${state}`;
    throw new ScopeFsError('EINVAL', `the safety gate holds nothing to confirm; ${now}`);
  }

  /** A full pass now; while not connected, the next pass is made full instead. EPAUSED while paused. */
  private async resync(): Promise<ResyncResult> {
    const state = lifecycleState(this.lifecycle);
    if (state === 'paused') {
      const reason = this.lifecycle.getSnapshot().context.pausedReason ?? 'paused';
      const next = reason.includes('safety gate') ? 'check the deletions and confirm' : 'resume';
      throw new ScopeFsError('EPAUSED', `sync is paused (${reason}); ${next} first, then resync`);
    }
    this.fullPassDone = false;
    if (state !== 'live' && state !== 'catching_up') return { ran: false, state };
    this.cancelPass();
    await this.runPass();
    return { ran: true, state: lifecycleState(this.lifecycle) };
  }

  /** Settles once nothing is pending and the cursor has reached the store's head (or this actor stops). */
  private whenIdle(): Promise<void> {
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    void this.checkIdle();
    return idle;
  }

  private onStateEntered(state: SyncState): void {
    void this.writeStatus();
    if (state === 'connecting') this.actor.cast({ type: 'connect' });
    if (state === 'catching_up') this.actor.cast({ type: 'pass' });
    if (state === 'live') void this.checkIdle();
  }

  private async connect(): Promise<void> {
    if (lifecycleState(this.lifecycle) !== 'connecting') return;
    try {
      await this.connection.connect(this.app, (hint) => this.actor.cast({ type: 'hint', error: hint.error }));
      // Hints sent while we were not listening are lost: the catch-up pass pulls.
      this.engine.noteRemoteNews();
      this.lifecycle.send({ type: 'CONNECTED' });
    } catch (err) {
      this.lifecycle.send({ type: 'FAILED', error: errorMessage(err) });
    }
  }

  private async runPass(): Promise<void> {
    this.passTimer = undefined;
    const state = lifecycleState(this.lifecycle);
    if (state !== 'catching_up' && state !== 'live') return;
    this.passing = true;
    try {
      // The first catch-up of this actor's life reconciles everything: that
      // is what recovers work a crash or a restart left behind.
      await this.engine.pass(!this.fullPassDone);
      this.fullPassDone = true;
      if (state === 'catching_up') this.lifecycle.send({ type: 'CAUGHT_UP' });
      if (this.engine.hasDirty) this.schedulePass(0);
    } catch (err) {
      if (err instanceof SyncPausedError) this.lifecycle.send({ type: 'PAUSE', reason: err.reason });
      else if (err instanceof StoreUnavailableError) this.lifecycle.send({ type: 'FAILED', error: err.message });
      else throw err;
    } finally {
      this.passing = false;
      this.scheduleRetries();
      await this.writeStatus();
    }
    await this.checkIdle();
  }

  /** A store call failed outside a pass: back off (and reconnect) unless already doing so. */
  private storeFailed(reason: string): void {
    const state = lifecycleState(this.lifecycle);
    if (state === 'live' || state === 'catching_up' || state === 'connecting') this.lifecycle.send({ type: 'FAILED', error: reason });
  }

  private schedulePass(delayMs = this.deps.options.debounceMs ?? 0): void {
    if (this.passTimer) {
      if (delayMs > 0 || this.passIsImmediate) return;
      this.cancelPass();
    }
    const cast = () => this.actor.cast({ type: 'pass' });
    // No window: setImmediate runs after the I/O already queued (events that
    // arrived together still share the pass) without setTimeout's ≥1 ms floor.
    this.passIsImmediate = delayMs <= 0;
    this.passTimer = this.passIsImmediate ? setImmediate(cast) : setTimeout(cast, delayMs);
  }

  private cancelPass(): void {
    if (this.passIsImmediate) clearImmediate(this.passTimer as NodeJS.Immediate);
    else clearTimeout(this.passTimer as NodeJS.Timeout);
    this.passTimer = undefined;
  }

  private scheduleRetries(): void {
    clearTimeout(this.retryTimer);
    const next = this.engine.failures.nextDueAt();
    if (next === undefined) return;
    this.retryTimer = setTimeout(() => this.actor.cast({ type: 'retry_due' }), Math.max(0, next - Date.now()));
  }

  private async onFsEvent(event: FsEvent): Promise<void> {
    const { engine } = this;
    const view = { syncs: (p: string) => engine.syncs(p), isConflictCopy: (p: string) => engine.conflicts.byCopyPath(p) !== undefined };
    const reaction = reactionTo(event, view);
    if (reaction !== null) await this.react(reaction);
    // Events queue behind a pass: the idle check it made may have waited on this one, which left nothing to do.
    void this.checkIdle();
  }

  /** Carries out what a filesystem event means for sync, in the order fs-reaction.ts lists it. */
  private async react(reaction: FsReaction): Promise<void> {
    const { engine } = this;
    if (reaction.moved) await engine.conflicts.followMove(reaction.moved.from, reaction.moved.to);
    if (reaction.copyDeleted) this.syncSoon(await this.conflictActions.copyDeleted(reaction.copyDeleted));
    // Before the path's own change below, so the path is held before a pass could push it.
    if (reaction.diskConflict) await this.conflictActions.diskConflict(reaction.diskConflict.path, reaction.diskConflict.copyPath);
    if (reaction.configChanged) await this.reloadConfig();
    for (const path of reaction.wake) engine.failures.wake(path);
    if (reaction.changed.length > 0) {
      engine.markDirty(reaction.changed, reaction.batch);
      this.schedulePass();
    }
    if (reaction.statusChanged) await this.writeStatus();
  }

  /** A conflict's outcome was written: push it without waiting for the debounce. */
  private syncSoon(path: string | undefined): void {
    if (path === undefined) return;
    this.engine.markDirty([path]);
    this.schedulePass(0);
  }

  private async reloadConfig(): Promise<void> {
    const error = await this.engine.loadConfig();
    const state = lifecycleState(this.lifecycle);
    if (error) {
      this.lifecycle.send({ type: 'PAUSE', reason: error });
      return;
    }
    this.fullPassDone = false;
    if (state === 'paused') this.lifecycle.send({ type: 'RESUME' });
    else if (state === 'offline') this.lifecycle.send({ type: 'START' });
    else this.schedulePass(0);
  }

  /** Catches the conflict records up with copies deleted, moved or left behind while this actor was not watching. */
  private async repairConflicts(): Promise<void> {
    const { resolved, opened } = await this.conflictActions.repair();
    for (const path of resolved) this.syncSoon(path);
    if (opened) await this.writeStatus();
  }

  private async checkIdle(): Promise<void> {
    if (this.idleWaiters.length === 0 || !this.isQuiet()) return;
    let head: number;
    try {
      head = await this.connection.store.head(this.app);
    } catch (err) {
      // Even outside a pass, a store that fails is not live; the lifecycle reconnects and checks again.
      this.actor.cast({ type: 'store_failed', reason: new StoreUnavailableError(err).message });
      return;
    }
    if (!this.isQuiet()) return;
    if (head > this.engine.cursor) {
      this.engine.noteRemoteNews();
      this.schedulePass(0);
      return;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private isQuiet(): boolean {
    const failed = new Set(this.engine.failures.failedPaths());
    const pending = this.engine.pendingPaths().filter((p) => !failed.has(p));
    return (
      lifecycleState(this.lifecycle) === 'live' &&
      this.connection.connected &&
      !this.passing &&
      this.passTimer === undefined &&
      !this.engine.hasDirty &&
      pending.length === 0 &&
      this.actor.queueLength === 0
    );
  }

  /** Hands the status to the status files, which coalesce. */
  private async writeStatus(): Promise<void> {
    try {
      this.report.update(this.status(), this.engine.failures.recent());
    } catch {
      // Status files are informative; failing to write one must not stop sync.
    }
  }
}
