import type { ExitReason, Process, ProcessStatus } from './actor.js';
import type { ChildInfo } from './child.js';
import { ChildUsage } from './child-usage.js';
import { RuntimeError } from './errors.js';
import type { IntensityLimit } from './restart-intensity.js';
import { Supervisor, type ChildEvent, type ChildSpec } from './supervisor.js';

export interface DynamicSupervisorOptions<K> {
  name?: string;
  /** Shared by all children: more than maxRestarts within withinMs stops them all. Default 3 in 5000 ms. */
  intensity?: IntensityLimit;
  /** A key's child id; different forms of one key must give one id. Default: String(key). */
  idOf?: (key: K) => string;
  /** A child not in use (see use()) for this long is stopped. Default: never. */
  idleMs?: number;
  /**
   * At most this many children at once: starting another first stops the
   * least recently used idle one, waiting up to maxActiveWaitMs for one to
   * become idle (then ESTOPPED). Default: no cap.
   */
  maxActive?: number;
  /** How long a start waits for room under maxActive. Default 10 s. */
  maxActiveWaitMs?: number;
  /** How an idle or evicted child is stopped, by id (a scope flushes and pushes first). Default: terminate it. */
  stopIdle?: (id: string) => Promise<void>;
}

/**
 * A one_for_one supervisor whose children are started on demand and named by
 * a key (OTP's DynamicSupervisor plus a key). A child that exits and is not
 * restarted is forgotten, so its key can be started again.
 */
export class DynamicSupervisor<K = string> implements Process {
  private readonly usage = new ChildUsage();
  /** Children being stopped for idleness: a start of the same id waits for it. */
  private readonly stopping = new Map<string, Promise<void>>();
  /** Ids admitted under maxActive whose start has not finished. */
  private readonly admitted = new Set<string>();
  private admission: Promise<void> = Promise.resolve();
  /** Wakes an admission waiting for room (a release, a stop, a finished start). */
  private wake: (() => void) | undefined;
  private readonly sweeper: NodeJS.Timeout | undefined;

  private constructor(
    private readonly supervisor: Supervisor,
    private readonly idOf: (key: K) => string,
    private readonly options: DynamicSupervisorOptions<K>,
  ) {
    const { idleMs } = options;
    if (idleMs !== undefined) {
      this.sweeper = setInterval(() => this.stopExpired(idleMs), Math.max(10, Math.min(idleMs / 4, 5_000)));
      this.sweeper.unref();
      supervisor.onExit(() => clearInterval(this.sweeper));
    }
  }

  static async start<K = string>(options: DynamicSupervisorOptions<K> = {}): Promise<DynamicSupervisor<K>> {
    const supervisor = await Supervisor.start({
      name: options.name ?? 'dynamic-supervisor',
      strategy: 'one_for_one',
      children: [],
      intensity: options.intensity,
      forgetExitedChildren: true,
    });
    for (const [name, value] of [['idleMs', options.idleMs], ['maxActive', options.maxActive]] as const) {
      if (value !== undefined && !(value > 0)) throw new RuntimeError('EINVAL', `${name} must be a positive number, not ${value}`);
    }
    return new DynamicSupervisor<K>(supervisor, options.idOf ?? String, options);
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
    const id = this.idOf(key);
    await this.stopping.get(id);
    if (this.options.maxActive === undefined || this.supervisor.child(id)) return this.supervisor.startOrGetChild({ ...spec, id });
    const admitted = this.admission.then(() => this.makeRoom(id, this.options.maxActive!));
    this.admission = admitted.catch(() => undefined);
    await admitted;
    try {
      return await this.supervisor.startOrGetChild({ ...spec, id });
    } finally {
      this.admitted.delete(id);
      this.changed();
    }
  }

  private changed(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves on the next change that may make room, or false once `deadline` passed. */
  private async roomMayHaveChanged(deadline: number): Promise<boolean> {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      timer = setTimeout(resolve, left);
    });
    clearTimeout(timer);
    return true;
  }

  /**
   * Marks the child under `key` in use until the returned function is called
   * (once per request, stream or session): it is not stopped for idleness or
   * evicted meanwhile. Take it before startChild, so a start is never evicted.
   */
  use(key: K): () => void {
    const release = this.usage.use(this.idOf(key));
    return () => {
      release();
      this.changed();
    };
  }

  /** Since when the child has been idle (ms since the epoch); undefined while in use. */
  idleSince(key: K): number | undefined {
    return this.usage.idleSince(this.idOf(key));
  }

  /** Settles once a stop for idleness of `key`'s child (if any) is done. */
  async settled(key: K): Promise<void> {
    await this.stopping.get(this.idOf(key));
  }

  /** Stops the least recently used idle children until `id` fits under the cap. */
  private async makeRoom(id: string, maxActive: number): Promise<void> {
    const deadline = Date.now() + (this.options.maxActiveWaitMs ?? 10_000);
    for (;;) {
      const running = this.supervisor.children().map((child) => child.id).filter((child) => !this.stopping.has(child));
      const counted = new Set([...running, ...this.admitted]);
      if (counted.has(id) || counted.size < maxActive) break;
      const victim = this.usage.leastRecentlyUsed(running.filter((child) => !this.admitted.has(child)));
      if (victim !== undefined) {
        await this.stopIdleChild(victim);
      } else if (!(await this.roomMayHaveChanged(deadline))) {
        throw new RuntimeError('ESTOPPED', `${this.name}: ${maxActive} children are running (maxActive) and all stayed in use; retry shortly`);
      }
    }
    this.admitted.add(id);
  }

  private stopExpired(idleMs: number): void {
    const running = this.supervisor.children().map((child) => child.id);
    for (const id of this.usage.expired(running, idleMs)) void this.stopIdleChild(id).catch(() => undefined);
  }

  private stopIdleChild(id: string): Promise<void> {
    const pending = this.stopping.get(id);
    if (pending) return pending;
    if (this.usage.inUse(id)) return Promise.resolve();
    const stop = this.options.stopIdle ?? ((child: string) => this.supervisor.terminateChild(child));
    const stopped = stop(id).finally(() => {
      this.stopping.delete(id);
      this.usage.forget(id);
      this.changed();
    });
    this.stopping.set(id, stopped);
    return stopped;
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
