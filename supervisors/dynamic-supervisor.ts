import type { ChildInfo, ScopeKey } from '../src/types.js';
import type { ExitReason, Process, ProcessStatus } from './actor.js';
import type { IntensityLimit } from './restart-intensity.js';
import { canonicalScopeKey } from './scope-key.js';
import { Supervisor, type ChildEvent, type ChildSpec } from './supervisor.js';

export interface DynamicSupervisorOptions {
  name?: string;
  /** Shared by all children: more than maxRestarts within withinMs stops them all. Default 3 in 5000 ms. */
  intensity?: IntensityLimit;
}

/**
 * A one_for_one supervisor whose children are started on demand and named by
 * scope key (OTP's DynamicSupervisor plus a key). A child that exits and is
 * not restarted is forgotten, so its key can be started again.
 */
export class DynamicSupervisor implements Process {
  private readonly supervisor: Supervisor;

  private constructor(supervisor: Supervisor) {
    this.supervisor = supervisor;
  }

  static async start(options: DynamicSupervisorOptions = {}): Promise<DynamicSupervisor> {
    const supervisor = await Supervisor.start({
      name: options.name ?? 'dynamic-supervisor',
      strategy: 'one_for_one',
      children: [],
      intensity: options.intensity,
      forgetExitedChildren: true,
    });
    return new DynamicSupervisor(supervisor);
  }

  get name(): string {
    return this.supervisor.name;
  }

  get status(): ProcessStatus {
    return this.supervisor.status;
  }

  /**
   * Returns the child running under `key`, or starts it. Concurrent calls
   * with the same key start it once and all get the same process. The child's
   * id is the canonical key.
   */
  async startChild(key: ScopeKey, spec: Omit<ChildSpec, 'id'>): Promise<Process> {
    return this.supervisor.startOrGetChild({ ...spec, id: canonicalScopeKey(key) });
  }

  whichChild(key: ScopeKey): Process | undefined {
    return this.supervisor.child(canonicalScopeKey(key));
  }

  /** Stops the child under `key` and forgets it; ENOENT if there is none. */
  async terminateChild(key: ScopeKey): Promise<void> {
    await this.supervisor.terminateChild(canonicalScopeKey(key));
  }

  children(): ChildInfo[] {
    return this.supervisor.children();
  }

  onChildEvent(listener: (event: ChildEvent) => void): () => void {
    return this.supervisor.onChildEvent(listener);
  }

  stop(reason?: ExitReason, timeoutMs?: number): Promise<void> {
    return this.supervisor.stop(reason, timeoutMs);
  }

  exit(reason: ExitReason): void {
    this.supervisor.exit(reason);
  }

  onExit(listener: (reason: ExitReason) => void): () => void {
    return this.supervisor.onExit(listener);
  }
}
