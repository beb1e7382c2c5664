import { RuntimeError } from './errors.js';
import { DEFAULT_SHUTDOWN_MS, isAbnormal, raceTimeout, type ExitReason, type Process } from './actor.js';

/** One node of the supervision tree, for introspection. */
export interface ChildInfo {
  id: string;
  type: 'worker' | 'supervisor';
  status: 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed' | 'restarting';
  restarts: number;
  restartType: 'permanent' | 'transient' | 'temporary';
  children?: ChildInfo[];
}

export type RestartType = 'permanent' | 'transient' | 'temporary';

export interface ChildSpec {
  id: string;
  /** Returns an already-started Process (an Actor, a Supervisor, or any Process). */
  start: () => Promise<Process>;
  /** Default `permanent`. */
  restart?: RestartType;
  /**
   * Graceful stop timeout before the child is killed. Default 5000 ms for a
   * worker and Infinity for a supervisor (each of its own children has a
   * bounded shutdown; cutting it short would orphan them).
   */
  shutdownMs?: number;
  /** Default `worker`. */
  type?: 'worker' | 'supervisor';
}

export type NormalizedSpec = Required<ChildSpec>;

const RESTART_TYPES: readonly RestartType[] = ['permanent', 'transient', 'temporary'];

/** Fills in defaults; EINVAL for a spec a supervisor cannot run. */
export function normalizeSpec(spec: ChildSpec): NormalizedSpec {
  const id: unknown = spec?.id;
  if (typeof id !== 'string' || id.length === 0) {
    throw new RuntimeError('EINVAL', `child spec needs a non-empty string id, got ${JSON.stringify(id)}`);
  }
  const invalid = (why: string) => new RuntimeError('EINVAL', `child spec "${id}": ${why}`);
  if (typeof spec.start !== 'function') throw invalid('start must be a function returning a started Process');
  const restart = spec.restart ?? 'permanent';
  if (!RESTART_TYPES.includes(restart)) throw invalid(`unknown restart type ${JSON.stringify(restart)}`);
  const type = spec.type ?? 'worker';
  if (type !== 'worker' && type !== 'supervisor') throw invalid(`unknown type ${JSON.stringify(type)}`);
  const shutdownMs = spec.shutdownMs ?? (type === 'supervisor' ? Infinity : DEFAULT_SHUTDOWN_MS);
  if (typeof shutdownMs !== 'number' || Number.isNaN(shutdownMs) || shutdownMs < 0) {
    throw invalid(`shutdownMs must be a number >= 0, got ${String(shutdownMs)}`);
  }
  if (shutdownMs === Infinity && type === 'worker') {
    throw invalid('a worker needs a finite shutdownMs, so one hung terminate cannot hang the whole tree');
  }
  return { id, start: spec.start, restart, type, shutdownMs };
}

/** OTP: permanent always, transient only after a crash, temporary never. */
export function shouldRestart(restart: RestartType, reason: ExitReason): boolean {
  if (restart === 'permanent') return true;
  if (restart === 'transient') return isAbnormal(reason);
  return false;
}

export function isLive(process: Process): boolean {
  return process.status === 'starting' || process.status === 'running';
}

/** Resolves with the reason once the process has stopped (at once if it already has). */
export function exitReasonOf(process: Process): Promise<ExitReason> {
  return new Promise((resolve) => process.onExit(resolve));
}

/**
 * Stops a child the OTP way: graceful `stop('shutdown')`, killed once
 * `timeoutMs` runs out. Resolves with the reason the child exited with.
 */
export async function shutdownProcess(process: Process, timeoutMs: number): Promise<ExitReason> {
  let reason: ExitReason | undefined;
  const unsubscribe = process.onExit((exitReason) => {
    reason = exitReason;
  });
  // Process.stop is bounded by its own timeout; the race only guards against
  // a Process implementation that does not honour it.
  const overran = await raceTimeout(process.stop('shutdown', timeoutMs), timeoutMs);
  if (overran) process.exit('killed');
  unsubscribe();
  return reason ?? (overran ? 'killed' : 'shutdown');
}

/** Kills a process without waiting for it: the brutal end of OTP's shutdown. */
export function killProcess(process: Process): void {
  process.stop('killed', 0).catch(() => undefined);
}

export function assertProcess(value: unknown, id: string): asserts value is Process {
  const candidate = value as Partial<Process> | null | undefined;
  if (
    typeof candidate?.stop !== 'function' ||
    typeof candidate.exit !== 'function' ||
    typeof candidate.onExit !== 'function'
  ) {
    throw new RuntimeError('EINVAL', `child "${id}": start() must resolve to a Process (stop, exit, onExit)`);
  }
}

interface HasChildren {
  children(): ChildInfo[];
}

function hasChildren(process: Process): process is Process & HasChildren {
  return typeof (process as Partial<HasChildren>).children === 'function';
}

/** A supervisor's bookkeeping for one child. */
export class ChildRecord {
  readonly spec: NormalizedSpec;
  /** The current process; undefined while the child is down. */
  process: Process | undefined;
  restarts = 0;
  /** Set while the supervisor (re)starts this child. */
  pending: 'starting' | 'restarting' | undefined;
  /** Set while the supervisor itself stops the process, so its exit is not a crash to handle. */
  stoppingOnPurpose = false;
  lastExit: ExitReason | undefined;

  constructor(spec: NormalizedSpec) {
    this.spec = spec;
  }

  get id(): string {
    return this.spec.id;
  }

  get status(): ChildInfo['status'] {
    if (this.pending) return this.pending;
    if (this.process) return this.process.status;
    return this.lastExit !== undefined && isAbnormal(this.lastExit) ? 'crashed' : 'stopped';
  }

  info(): ChildInfo {
    const info: ChildInfo = {
      id: this.spec.id,
      type: this.spec.type,
      status: this.status,
      restarts: this.restarts,
      restartType: this.spec.restart,
    };
    if (this.process && hasChildren(this.process)) info.children = this.process.children();
    return info;
  }
}
