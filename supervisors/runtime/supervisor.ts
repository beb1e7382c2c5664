import { RuntimeError } from './errors.js';
import { Actor, toError, type ExitReason, type Process, type ProcessStatus } from './actor.js';
import {
  type ChildInfo,
  ChildRecord,
  assertProcess,
  exitReasonOf,
  isLive,
  killProcess,
  normalizeSpec,
  shouldRestart,
  shutdownProcess,
  type ChildSpec,
  type NormalizedSpec,
} from './child.js';
import { RestartIntensity, RestartIntensityError, type IntensityLimit } from './restart-intensity.js';

export type { ChildSpec, RestartType } from './child.js';

export type Strategy = 'one_for_one' | 'one_for_all' | 'rest_for_one';

export interface SupervisorOptions {
  name?: string;
  strategy: Strategy;
  /** Started in this order, stopped in reverse. */
  children: ChildSpec[];
  /** More than maxRestarts within withinMs and the supervisor gives up. Default 3 in 5000 ms. */
  intensity?: IntensityLimit;
  /**
   * Forget a child that exits and is not restarted. Default false: as in OTP
   * it stays listed as stopped (temporary children are always forgotten).
   * DynamicSupervisor sets it so finished children do not pile up.
   */
  forgetExitedChildren?: boolean;
}

/**
 * `exited`: the child went down (crash, stop, or a restart whose start()
 * failed). Emitted synchronously, in the order the supervisor acts.
 */
export interface ChildEvent {
  type: 'started' | 'restarted' | 'exited';
  id: string;
  reason?: ExitReason;
}

type Request =
  | { kind: 'start_child'; spec: NormalizedSpec; ifExists: 'fail' | 'reuse' }
  | { kind: 'terminate_child'; id: string };

/** A child's exit, posted to the supervisor's own mailbox. */
interface ChildExit {
  record: ChildRecord;
  process: Process;
  reason: ExitReason;
}

const STRATEGIES: readonly Strategy[] = ['one_for_one', 'one_for_all', 'rest_for_one'];
let anonymousCounter = 0;

/**
 * An OTP supervisor. It is itself an Actor: child exits and admin requests
 * (startChild, terminateChild) go through one mailbox, so every restart runs
 * to completion before the next event is looked at and the order of events
 * is deterministic.
 */
export class Supervisor implements Process {
  readonly name: string;
  private readonly strategy: Strategy;
  private readonly intensity: RestartIntensity;
  private readonly forgetExited: boolean;
  private readonly initialSpecs: NormalizedSpec[];
  private readonly records: ChildRecord[] = [];
  private readonly listeners = new Set<(event: ChildEvent) => void>();
  private readonly actor: Actor<Request, ChildExit>;
  /** Set once the supervisor is going down: from then on nothing is restarted. */
  private closing = false;
  private stopping: Promise<void> | undefined;

  private constructor(options: SupervisorOptions) {
    this.name = options.name ?? `supervisor-${++anonymousCounter}`;
    if (!STRATEGIES.includes(options.strategy)) {
      throw new RuntimeError('EINVAL', `supervisor ${this.name}: unknown strategy ${JSON.stringify(options.strategy)}`);
    }
    this.strategy = options.strategy;
    this.intensity = new RestartIntensity(options.intensity);
    this.forgetExited = options.forgetExitedChildren ?? false;
    this.initialSpecs = (options.children ?? []).map(normalizeSpec);
    this.assertUniqueIds(this.initialSpecs);
    this.actor = new Actor<Request, ChildExit>(
      {
        init: () => this.startInitialChildren(),
        handleCall: (request) => this.handleRequest(request),
        handleCast: (exit) => this.handleChildExit(exit),
        terminate: () => this.shutdownChildren(),
      },
      // A failed startChild/terminateChild is the caller's error, never a
      // reason to take the subtree down (OTP answers {error, Reason}).
      { name: this.name, callTimeoutMs: Infinity, isExpectedError: () => true },
    );
  }

  /** Starts the children in order; if one fails, stops the started ones in reverse and rejects with its error. */
  static async start(options: SupervisorOptions): Promise<Supervisor> {
    const supervisor = new Supervisor(options);
    await supervisor.actor.start();
    return supervisor;
  }

  get status(): ProcessStatus {
    const status = this.actor.status;
    return this.closing && (status === 'running' || status === 'starting') ? 'stopping' : status;
  }

  /** The children in start order; nested supervisors list theirs recursively. */
  children(): ChildInfo[] {
    return this.records.map((record) => record.info());
  }

  /** The running process of a child, if it is up. */
  child(id: string): Process | undefined {
    const process = this.find(id)?.process;
    return process && isLive(process) ? process : undefined;
  }

  /** Starts a new child after the existing ones; EEXIST if the id is taken. */
  async startChild(spec: ChildSpec): Promise<Process> {
    return this.actor.call<Process>({ kind: 'start_child', spec: normalizeSpec(spec), ifExists: 'fail' });
  }

  /**
   * Returns the running child with `spec.id`, or starts it (replacing a
   * stopped child with that id). Two concurrent calls start it once.
   */
  async startOrGetChild(spec: ChildSpec): Promise<Process> {
    return this.actor.call<Process>({ kind: 'start_child', spec: normalizeSpec(spec), ifExists: 'reuse' });
  }

  /** Stops a child (graceful, then killed after its shutdownMs) and removes it; ENOENT if unknown. */
  async terminateChild(id: string): Promise<void> {
    await this.actor.call({ kind: 'terminate_child', id });
  }

  onChildEvent(listener: (event: ChildEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Stops the children in reverse order, each within its own shutdownMs,
   * then exits with `reason`. Children still up after `timeoutMs` are killed.
   */
  stop(reason: ExitReason = 'shutdown', timeoutMs = Infinity): Promise<void> {
    this.closing = true;
    this.stopping ??= this.actor.stop(reason, timeoutMs).then(() => this.killChildren());
    return this.stopping;
  }

  /** Kills every child now (reverse order) and exits with `reason`. */
  exit(reason: ExitReason): void {
    this.closing = true;
    this.killChildren();
    this.actor.exit(reason);
  }

  onExit(listener: (reason: ExitReason) => void): () => void {
    return this.actor.onExit(listener);
  }

  // --- mailbox handlers -------------------------------------------------

  private async startInitialChildren(): Promise<void> {
    for (const spec of this.initialSpecs) {
      if (this.closing) return;
      try {
        await this.startNewChild(spec);
      } catch (err) {
        await this.shutdownChildren();
        throw err;
      }
    }
  }

  private async handleRequest(request: Request): Promise<unknown> {
    if (this.closing) throw new RuntimeError('ESTOPPED', `supervisor ${this.name} is stopping`);
    if (request.kind === 'terminate_child') return this.terminate(request.id);
    const existing = this.find(request.spec.id);
    if (existing && request.ifExists === 'reuse') {
      const running = await this.settle(existing);
      if (running) return running;
      if (this.closing) throw new RuntimeError('ESTOPPED', `supervisor ${this.name} is stopping`);
      this.remove(existing);
    } else if (existing) {
      throw new RuntimeError('EEXIST', `supervisor ${this.name} already has a child "${request.spec.id}"`);
    }
    return this.startNewChild(request.spec);
  }

  private async handleChildExit({ record, process, reason }: ChildExit): Promise<void> {
    // Stale: the supervisor already dealt with this process (stopped or replaced it).
    if (!this.records.includes(record) || record.process !== process) return;
    record.process = undefined;
    record.lastExit = reason;
    this.emit({ type: 'exited', id: record.id, reason });
    if (this.closing) return;
    if (!shouldRestart(record.spec.restart, reason)) {
      if (record.spec.restart === 'temporary' || this.forgetExited) this.remove(record);
      return;
    }
    await this.restart(record);
  }

  // --- restarts ---------------------------------------------------------

  /** Restarts per the strategy; a restart whose start() fails counts as another crash. */
  private async restart(crashed: ChildRecord): Promise<void> {
    let next: ChildRecord | undefined = crashed;
    while (next && !this.closing) {
      // A child that crashes as soon as it starts would otherwise restart on
      // promise callbacks alone and starve the event loop (no timers, no I/O,
      // no stop()). The BEAM preempts; here we yield once per restart.
      next.pending = 'restarting';
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.closing) return;
      if (!this.intensity.allowRestart()) return this.giveUp();
      next = await this.restartGroup(next);
    }
  }

  /** Stops the crashed child's group in reverse, then starts it in order. Returns the child that failed to start. */
  private async restartGroup(crashed: ChildRecord): Promise<ChildRecord | undefined> {
    const group = this.groupOf(crashed);
    for (const record of group) record.pending = 'restarting';
    for (const record of [...group].reverse()) await this.stopChild(record);
    // OTP: a temporary sibling stopped by the supervisor is not restarted but forgotten.
    const toStart = group.filter((record) => record === crashed || record.spec.restart !== 'temporary');
    for (const record of group) if (!toStart.includes(record)) this.remove(record);
    for (const record of toStart) {
      if (this.closing) return undefined;
      if (!(await this.restartChild(record))) return record;
    }
    return undefined;
  }

  /** The children a crash of `crashed` takes down with it, in start order. */
  private groupOf(crashed: ChildRecord): ChildRecord[] {
    if (this.strategy === 'one_for_all') return [...this.records];
    if (this.strategy === 'rest_for_one') return this.records.slice(this.records.indexOf(crashed));
    return [crashed];
  }

  private async restartChild(record: ChildRecord): Promise<boolean> {
    let process: Process;
    try {
      process = await record.spec.start();
      assertProcess(process, record.id);
    } catch (err) {
      record.lastExit = toError(err);
      this.emit({ type: 'exited', id: record.id, reason: record.lastExit });
      return false;
    }
    record.pending = undefined;
    record.restarts += 1;
    this.attach(record, process);
    this.emit({ type: 'restarted', id: record.id });
    // Went down while start() ran: this child must not outlive the supervisor.
    if (this.closing) await this.stopChild(record);
    return true;
  }

  private async giveUp(): Promise<void> {
    await this.shutdownChildren();
    // From inside the handler, so it takes effect once this handler returns.
    this.actor.exit(new RestartIntensityError(this.name, this.intensity.limit));
  }

  // --- children ---------------------------------------------------------

  private async startNewChild(spec: NormalizedSpec): Promise<Process> {
    const record = new ChildRecord(spec);
    record.pending = 'starting';
    this.records.push(record);
    let process: Process;
    try {
      process = await spec.start();
      assertProcess(process, spec.id);
    } catch (err) {
      this.remove(record);
      throw err;
    }
    record.pending = undefined;
    this.attach(record, process);
    this.emit({ type: 'started', id: spec.id });
    if (this.closing) await this.stopChild(record);
    return process;
  }

  private attach(record: ChildRecord, process: Process): void {
    record.process = process;
    process.onExit((reason) => {
      if (record.process === process && !record.stoppingOnPurpose) this.actor.cast({ record, process, reason });
    });
  }

  /** Processes a child's pending exit now, so the caller sees it restarted or gone. */
  private async settle(record: ChildRecord): Promise<Process | undefined> {
    const process = record.process;
    if (!process || isLive(process)) return process;
    const reason = await exitReasonOf(process);
    await this.handleChildExit({ record, process, reason });
    return record.process && isLive(record.process) ? record.process : undefined;
  }

  private async terminate(id: string): Promise<void> {
    const record = this.find(id);
    if (!record) throw new RuntimeError('ENOENT', `supervisor ${this.name} has no child "${id}"`);
    await this.stopChild(record);
    this.remove(record);
  }

  private async stopChild(record: ChildRecord): Promise<void> {
    const process = record.process;
    if (!process) return;
    record.stoppingOnPurpose = true;
    const reason = await shutdownProcess(process, record.spec.shutdownMs);
    record.stoppingOnPurpose = false;
    record.process = undefined;
    record.lastExit = reason;
    this.emit({ type: 'exited', id: record.id, reason });
  }

  /** Stops every child in reverse start order. */
  private async shutdownChildren(): Promise<void> {
    this.closing = true;
    for (const record of [...this.records].reverse()) {
      record.pending = undefined;
      await this.stopChild(record);
    }
  }

  private killChildren(): void {
    for (const record of [...this.records].reverse()) {
      if (record.process && isLive(record.process)) killProcess(record.process);
    }
  }

  private find(id: string): ChildRecord | undefined {
    return this.records.find((record) => record.id === id);
  }

  private remove(record: ChildRecord): void {
    const index = this.records.indexOf(record);
    if (index >= 0) this.records.splice(index, 1);
  }

  private assertUniqueIds(specs: NormalizedSpec[]): void {
    const seen = new Set<string>();
    for (const { id } of specs) {
      if (seen.has(id)) throw new RuntimeError('EINVAL', `supervisor ${this.name}: duplicate child id "${id}"`);
      seen.add(id);
    }
  }

  private emit(event: ChildEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // Observers must not break the supervisor.
      }
    }
  }
}
