/**
 * Three (or more) instances of one scope, each a separate OS process, on one
 * store. Processes are reused across seeds: each seed opens fresh roots under
 * a fresh app name, which costs milliseconds instead of a process start. A
 * SIGKILL replaces that one process, and the new one reopens the same root,
 * exactly like a restarted server.
 */
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SHARED_OWNER, type SyncStore } from '../../../persistence/stores/types.js';
import type { SyncStatus } from '../../../src/sync/types.js';
import type { OpenConfig } from '../fixtures/worker.js';
import type { Mutation, MutationResult } from '../fixtures/mutations.js';
import type { OperationLog } from './oracle.js';
import { name } from './model.js';
import { LONG } from './settings.js';
import { liveRows, quiescenceGaps, type InstanceState } from './quiescence.js';
import { Worker, WorkerExitedError } from './worker.js';

export interface SeedScope {
  /** Directory holding the instances' roots. */
  dir: string;
  store: string;
  /** The same store opened in the test process, to check quiescence against. */
  view: SyncStore;
  app: string;
  durability?: OpenConfig['durability'];
  /** Conflict strategies every instance gets (model.ts strategyMixFor). */
  conflictStrategies?: OpenConfig['conflictStrategies'];
  /**
   * Open the store through a FaultyStore (default), which partitions need. Off,
   * the instances open the URL themselves, and reconnecting is all theirs.
   */
  faulty?: boolean;
}

export interface FaultCounters {
  kills: number;
  partitions: number;
  syncCrashes: number;
  gateConfirmations: number;
}

const SPARE_WORKERS = 2;
/**
 * Below a seed's own deadline (see suite.ts), so a run that never quiesces
 * reports its gaps; soak mode's 30 s outages can leave a backoff of as much.
 */
const SETTLE_TIMEOUT_MS = LONG ? 90_000 : 40_000;
const SETTLE_POLL_MS = 25;
const SETTLE_IDLE_SLICE_MS = 5_000;
const DESCRIBE_TIMEOUT_MS = 5_000;
/** A scope that takes longer than this to close is stuck: described, killed and replaced (within the seed's report margin). */
const CLOSE_TIMEOUT_MS = 8_000;

export class Cluster {
  private scope: SeedScope | undefined;
  /** Processes booted ahead of time (a boot takes ~1 s), so a restart after SIGKILL costs an open. */
  private readonly spares: Array<Promise<Worker>> = [];
  private readonly partitioned = new Set<number>();
  readonly counters: FaultCounters = { kills: 0, partitions: 0, syncCrashes: 0, gateConfirmations: 0 };

  private constructor(private readonly workers: Worker[]) {}

  static async start(size: number): Promise<Cluster> {
    const cluster = new Cluster(await Promise.all(Array.from({ length: size }, () => Worker.spawn())));
    for (let i = 0; i < SPARE_WORKERS; i++) cluster.bootSpare();
    return cluster;
  }

  get size(): number {
    return this.workers.length;
  }

  isPartitioned(i: number): boolean {
    return this.partitioned.has(i);
  }

  rootOf(i: number): string {
    return join(this.scope!.dir, name(i));
  }

  /** Opens a fresh scope for a seed on every instance (replacing dead processes). */
  async begin(scope: SeedScope): Promise<void> {
    this.scope = scope;
    this.partitioned.clear();
    await Promise.all(this.workers.map((_, i) => this.openOn(i)));
  }

  /**
   * Closes the seed's scopes; a process that misbehaves is replaced. Returns
   * what went wrong that the seed must report: a close that never answered
   * (a stuck stop), with where each instance was.
   */
  async end(): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all(
      this.workers.map(async (worker, i) => {
        if (!worker.alive) return;
        try {
          await answerWithin(worker.call('close'), CLOSE_TIMEOUT_MS);
        } catch (err) {
          if (err instanceof NoAnswerError) problems.push(`STUCK: ${name(i)} did not close its scope within ${CLOSE_TIMEOUT_MS} ms:\n${await this.describeInstances()}`);
          await worker.kill();
          this.workers[i] = await this.freshWorker();
        }
      }),
    );
    this.scope = undefined;
    return problems;
  }

  async shutdown(): Promise<void> {
    const spares = await Promise.all(this.spares.splice(0).map((s) => s.catch(() => undefined)));
    const all = [...this.workers, ...spares.filter((w): w is Worker => w !== undefined)];
    await Promise.all(all.map((w) => w.exit()));
  }

  call<T>(i: number, op: string, args: Record<string, unknown> = {}): Promise<T> {
    return this.workers[i]!.call<T>(op, args);
  }

  /** Runs one mutation, logging its outcome in the oracle. Never throws for an operation's own failure. */
  async mutate(i: number, mutation: Mutation, log: OperationLog): Promise<void> {
    try {
      const result = await this.workers[i]!.call<MutationResult>('mutate', { mutation }, { onIntent: (intent) => log.intent((intent as { removed: string[] }).removed) });
      if (result.applied) log.acked(result.removed);
      else log.failed();
    } catch (err) {
      if (err instanceof WorkerExitedError) log.unknown();
      else log.failed();
    }
  }

  /** SIGKILL: no flush, no cleanup. */
  async kill(i: number): Promise<void> {
    await this.workers[i]!.kill();
    this.counters.kills++;
  }

  /** A new process reopens the root of a killed one (with the same fault state). */
  async restart(i: number): Promise<void> {
    this.workers[i] = await this.freshWorker();
    await this.openOn(i);
  }

  private async freshWorker(): Promise<Worker> {
    const spare = await this.spares.shift()?.catch(() => undefined);
    this.bootSpare();
    return spare?.alive ? spare : Worker.spawn();
  }

  private bootSpare(): void {
    const booting = Worker.spawn();
    booting.catch(() => undefined); // a failed boot shows when the spare is taken
    this.spares.push(booting);
  }

  async partition(i: number): Promise<void> {
    if (this.partitioned.has(i)) return;
    await this.call(i, 'fault', { fault: { mode: 'partition' } });
    this.partitioned.add(i);
    this.counters.partitions++;
  }

  async heal(i: number): Promise<void> {
    if (!this.partitioned.has(i)) return;
    await this.call(i, 'fault', { fault: { mode: 'ok' } });
    this.partitioned.delete(i);
  }

  async healAll(): Promise<void> {
    await Promise.all([...this.partitioned].map((i) => this.heal(i)));
  }

  async crashSync(i: number): Promise<void> {
    await this.call(i, 'crashSync');
    this.counters.syncCrashes++;
  }

  statuses(): Promise<SyncStatus[]> {
    return Promise.all(this.workers.map((_, i) => this.statusOf(i)));
  }

  /** Status of instance i; a sync actor restarting (after an injected crash) is waited for, not reported as a failure. */
  async statusOf(i: number): Promise<SyncStatus> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.call<SyncStatus>(i, 'status');
      } catch (err) {
        if ((err as { code?: string }).code !== 'ESTOPPED' || attempt >= 3) throw err;
        await this.idleWithin(i, SETTLE_IDLE_SLICE_MS); // idle() waits across the restart
      }
    }
  }

  /**
   * Waits for quiescence (see quiescence.ts): every instance idle and in
   * agreement with the store. Open conflicts do not block it; they are
   * resolved separately. A safety gate that paused an instance is confirmed,
   * as an operator would: the random load deletes most of a handful of files,
   * which is exactly what the gate is there to question. Polls with a
   * deadline: no single event says "all instances and the store agree".
   */
  async settle(): Promise<void> {
    const { view, app } = this.scope!;
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      await this.confirmSafetyGates();
      const allIdle = await Promise.all(this.workers.map((_, i) => this.idleWithin(i, SETTLE_IDLE_SLICE_MS)));
      const gaps = allIdle.every(Boolean) ? quiescenceGaps(await view.head(app), await liveRows(view, app), await this.states()) : ['not idle'];
      if (gaps.length === 0) return;
      if (Date.now() > deadline) {
        // The gaps close the message too: a CI log that keeps only its tail still shows what was missing.
        const why = gaps.join('; ');
        const focus = await this.describePaths(gapPaths(gaps));
        throw new Error(`no quiescence within ${SETTLE_TIMEOUT_MS} ms: ${why}\n${await this.describeInstances()}\n${focus}\nstill missing: ${why}`);
      }
      await delay(SETTLE_POLL_MS);
    }
  }

  /** Waits until instance i is idle, for at most `timeoutMs`; false when it was not. */
  async idleWithin(i: number, timeoutMs: number): Promise<boolean> {
    try {
      await this.call(i, 'idle', { timeoutMs });
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'ETIMEDOUT') return false;
      throw err;
    }
  }

  private async confirmSafetyGates(): Promise<void> {
    for (const [i, status] of (await this.statuses()).entries()) {
      if (status.state === 'paused' && status.pausedReason?.includes('safety gate')) {
        await this.call(i, 'confirm');
        this.counters.gateConfirmations++;
      }
    }
  }

  private states(): Promise<InstanceState[]> {
    return Promise.all(
      this.workers.map(async (_, i) => ({
        name: name(i),
        status: await this.statusOf(i),
        digests: await this.call<Record<string, string>>(i, 'digests'),
      })),
    );
  }

  /** Status, unanswered calls and recent events of every instance, for failure reports. */
  async describeInstances(): Promise<string> {
    const parts = await Promise.all(
      this.workers.map(async (worker, i) => {
        if (!worker.alive) return `${name(i)}: process not running`;
        const unanswered = worker.pendingOps().join(', ') || 'none';
        const status = await answerWithin(this.call(i, 'status'), DESCRIBE_TIMEOUT_MS).catch((err: Error) => err.message);
        const trace = await answerWithin(this.call<string[]>(i, 'trace'), DESCRIBE_TIMEOUT_MS).catch(() => []);
        return `${name(i)} status: ${JSON.stringify(status)}\n  unanswered calls: ${unanswered}\n  recent events:\n    ${trace.slice(-40).join('\n    ')}`;
      }),
    );
    return parts.join('\n');
  }

  /**
   * For paths that did not converge: the store's row and, per instance, the
   * file as it serves it and every traced event that names the path (the
   * recent-events tail rarely reaches back to where a path went wrong).
   */
  async describePaths(paths: string[]): Promise<string> {
    if (paths.length === 0 || !this.scope) return '';
    const { view, app } = this.scope;
    const lines: string[] = [];
    for (const path of paths.slice(0, 4)) {
      const row = await view.get(app, SHARED_OWNER, path).catch((err: Error) => err.message);
      const summary = row && typeof row === 'object' ? { revision: row.revision, deleted: row.deleted, hash: row.hash?.slice(0, 8), updatedBy: row.updatedBy } : row;
      lines.push(`path ${path}: store row ${JSON.stringify(summary)}`);
      for (const [i, worker] of this.workers.entries()) {
        if (!worker.alive) continue;
        const facts = await answerWithin(this.call(i, 'fileFacts', { path }), DESCRIBE_TIMEOUT_MS).catch((err: Error) => err.message);
        const trace = await answerWithin(this.call<string[]>(i, 'trace'), DESCRIBE_TIMEOUT_MS).catch(() => []);
        const mentions = trace.filter((line) => line.includes(path)).slice(-30);
        lines.push(`  ${name(i)} serves ${JSON.stringify(facts)}; events naming it:\n    ${mentions.join('\n    ')}`);
      }
    }
    return lines.join('\n');
  }

  /** SIGKILLs every process (a stuck run); the next `begin` replaces them. */
  async killAll(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.kill()));
  }

  private async openOn(i: number): Promise<void> {
    const scope = this.scope!;
    if (!this.workers[i]!.alive) this.workers[i] = await this.freshWorker();
    const config: OpenConfig = {
      root: this.rootOf(i),
      store: scope.store,
      app: scope.app,
      instanceId: name(i),
      faulty: scope.faulty ?? true,
      durability: scope.durability,
      conflictStrategies: scope.conflictStrategies,
      // Crashes are injected on purpose here: a generous limit keeps the scope up.
      intensity: { maxRestarts: 1000, withinMs: 1000 },
    };
    await this.call(i, 'open', { config });
    if (this.partitioned.has(i)) await this.call(i, 'fault', { fault: { mode: 'partition' } });
  }
}

/** The paths named by quiescence gaps ("c: /a.md differs from the store"). */
function gapPaths(gaps: string[]): string[] {
  const paths = gaps.map((gap) => /^\S+: (\/\S*) /.exec(gap)?.[1]).filter((p): p is string => p !== undefined);
  return [...new Set(paths)];
}

export class NoAnswerError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'NoAnswerError';
  }
}

/** `work`, or a NoAnswerError once `ms` have passed without an answer. */
export function answerWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerError(ms)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
