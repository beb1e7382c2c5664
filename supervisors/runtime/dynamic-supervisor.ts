import type { ExitReason, Process, ProcessStatus } from './actor.js';
import type { ChildInfo } from './child.js';
import type { IntensityLimit } from './restart-intensity.js';
import { Supervisor, type ChildEvent, type ChildSpec } from './supervisor.js';

export interface DynamicSupervisorOptions<K> {
  name?: string;
  /** Shared by all children: more than maxRestarts within withinMs stops them all. Default 3 in 5000 ms. */
  intensity?: IntensityLimit;
  /** A key's child id; different forms of one key must give one id. Default: String(key). */
  idOf?: (key: K) => string;
}

/**
 * A one_for_one supervisor whose children are started on demand and named by
 * a key (OTP's DynamicSupervisor plus a key). A child that exits and is not
 * restarted is forgotten, so its key can be started again.
 */
export class DynamicSupervisor<K = string> implements Process {
  private constructor(
    private readonly supervisor: Supervisor,
    private readonly idOf: (key: K) => string,
  ) {}

  static async start<K = string>(options: DynamicSupervisorOptions<K> = {}): Promise<DynamicSupervisor<K>> {
    const supervisor = await Supervisor.start({
      name: options.name ?? 'dynamic-supervisor',
      strategy: 'one_for_one',
      children: [],
      intensity: options.intensity,
      forgetExitedChildren: true,
    });
    return new DynamicSupervisor<K>(supervisor, options.idOf ?? String);
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
   * id is idOf(key).
   */
  async startChild(key: K, spec: Omit<ChildSpec, 'id'>): Promise<Process> {
    return this.supervisor.startOrGetChild({ ...spec, id: this.idOf(key) });
  }

  whichChild(key: K): Process | undefined {
    return this.supervisor.child(this.idOf(key));
  }

  /** Stops the child under `key` and forgets it; ENOENT if there is none. */
  async terminateChild(key: K): Promise<void> {
    await this.supervisor.terminateChild(this.idOf(key));
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
